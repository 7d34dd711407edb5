"""An in-memory lending double (:class:`gateway.core.lending.LendingCore`) for service tests:
any catalogue of products, priced on a clock the test sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.core import loan_quotes
from gateway.core.lending import LoanProduct, Quote, QuoteRequest, UnknownProduct


@dataclass
class MemoryLending:
    """Lending over ``products`` on ``clock`` (the same for every tenant)."""

    products: Sequence[LoanProduct]
    clock: dt.datetime

    def loan_products(self, tenant: str) -> Sequence[LoanProduct]:
        """Every product, in the order given."""
        return tuple(self.products)

    def loan_product(self, tenant: str, product_id: str) -> LoanProduct:
        """The product ``product_id``; :class:`UnknownProduct` if there is none."""
        for product in self.products:
            if product.product_id == product_id:
                return product
        raise UnknownProduct(f"No loan product {product_id!r}")

    def quote(self, tenant: str, request: QuoteRequest) -> Quote:
        """The quote for ``request``, drawn down on the clock's day."""
        product = self.loan_product(tenant, request.product_id)
        return loan_quotes.price(product, request, self.clock.date())
