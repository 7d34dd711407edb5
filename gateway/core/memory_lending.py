"""An in-memory lending double (:class:`gateway.core.lending.LendingCore`) for service tests:
any catalogue of products, priced on a clock the test sets, and credit decided by one plain
rule on the monthly income the test gives each account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.core import loan_quotes
from gateway.core.credit import CreditRequest, Decision, Outcome, Reason
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.lending import LoanProduct, Quote, QuoteRequest, UnknownProduct

# The double's rule: the instalment may take up to this share of the monthly income.
AFFORDABLE_SHARE = Decimal("0.40")


@dataclass
class MemoryLending:
    """Lending over ``products`` on ``clock`` (the same for every tenant); ``incomes`` is each
    account's monthly income in its currency, the only thing its decisions read."""

    products: Sequence[LoanProduct]
    clock: dt.datetime
    incomes: Mapping[str, Decimal] = field(default_factory=dict)

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

    def decide(
        self, tenant: str, account_ids: Sequence[str], request: CreditRequest, as_of: dt.date
    ) -> Decision:
        """Approve an instalment within :data:`AFFORDABLE_SHARE` of the accounts' income,
        decline one without income, refer the rest."""
        if not account_ids:
            raise InvalidInstruction("a credit decision needs at least one account")
        unknown = [a for a in account_ids if a not in self.incomes]
        if unknown:
            raise UnknownResource(f"no account {unknown[0]}")
        income = sum((self.incomes[a] for a in account_ids), Decimal(0))
        room = (income * AFFORDABLE_SHARE).quantize(Decimal("0.01"))
        if income <= 0:
            reason = Reason("NoIncome", "The accounts show no regular income.")
            return Decision(Outcome.DECLINE, (reason,), (), room)
        if request.instalment <= room:
            text = (
                f"The {request.instalment} instalment is within {AFFORDABLE_SHARE:.0%} of income."
            )
            return Decision(Outcome.APPROVE, (Reason("Affordable", text),), (), room)
        text = f"The {request.instalment} instalment is more than {room}; a person looks at it."
        return Decision(Outcome.REFER, (Reason("AffordabilityUnclear", text),), (), room)
