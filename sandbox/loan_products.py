"""The sandbox bank's loan products, and its side of the lending contract
(:class:`gateway.core.lending.LendingCore`).

Three products in GBP: a personal loan (equal instalments, Actual/365, a fee added to the loan),
an SME term loan (equal principal, 30/360, a fee deducted from the loan) and a revolving credit
line. A quote for the credit line assumes, as the assumptions of Directive 2008/48/EC Annex I,
part II (and CONC App 1.1) do for credit the customer may draw freely, that the whole limit is
drawn at once, and that it is repaid in equal monthly instalments over the term asked for. The
rates, fees and eligibility are the sandbox's, chosen to look like a UK bank's book.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from gateway.core import loan_quotes
from gateway.core.lending import (
    Amortisation,
    ArrangementFee,
    DayCount,
    Eligibility,
    FeeTreatment,
    LoanProduct,
    PricingBand,
    ProductType,
    Quote,
    QuoteRequest,
    RepaymentFrequency,
    UnknownProduct,
)

PERSONAL_LOAN = LoanProduct(
    product_id="personal-loan",
    name="Personal Loan",
    product_type=ProductType.PERSONAL_LOAN,
    description="A fixed-rate loan for a person, repaid in equal monthly instalments.",
    currency="GBP",
    minimum_amount=Decimal("1000.00"),
    maximum_amount=Decimal("25000.00"),
    minimum_term=12,
    maximum_term=60,
    bands=(
        PricingBand("A", Decimal("6.9"), "Excellent credit history and affordability"),
        PricingBand("B", Decimal("12.9"), "Good credit history and affordability"),
        PricingBand("C", Decimal("19.9"), "Fair credit history or tighter affordability"),
    ),
    representative_band="B",
    arrangement_fee=ArrangementFee(
        Decimal("99.00"), Decimal(0), Decimal(0), None, FeeTreatment.ADDED_TO_LOAN
    ),
    late_fee=Decimal("12.00"),
    frequency=RepaymentFrequency.MONTHLY,
    amortisation=Amortisation.EQUAL_INSTALMENTS,
    day_count=DayCount.ACTUAL_365,
    eligibility=Eligibility(
        customer_type="Person",
        minimum_age=18,
        residency="GB",
        minimum_annual_income=Decimal("12000.00"),
        minimum_trading_months=None,
        conditions=(
            "Aged 18 or over and resident in the UK",
            "A UK current account receiving a regular income of at least 12,000 GBP a year",
            "Not bankrupt, and no county court judgment in the last 6 years",
        ),
    ),
)

SME_TERM_LOAN = LoanProduct(
    product_id="sme-term-loan",
    name="Business Term Loan",
    product_type=ProductType.SME_TERM_LOAN,
    description="A fixed-rate term loan for a small business, repaying equal parts of the "
    "principal each month with interest on the balance.",
    currency="GBP",
    minimum_amount=Decimal("10000.00"),
    maximum_amount=Decimal("250000.00"),
    minimum_term=12,
    maximum_term=60,
    bands=(
        PricingBand("A", Decimal("7.5"), "Established business, strong cash flow"),
        PricingBand("B", Decimal("10.5"), "Steady cash flow"),
        PricingBand("C", Decimal("14.5"), "Uneven cash flow or short history"),
    ),
    representative_band="B",
    arrangement_fee=ArrangementFee(
        Decimal(0),
        Decimal("2"),
        Decimal("250.00"),
        Decimal("2500.00"),
        FeeTreatment.DEDUCTED_FROM_LOAN,
    ),
    late_fee=Decimal("25.00"),
    frequency=RepaymentFrequency.MONTHLY,
    amortisation=Amortisation.EQUAL_PRINCIPAL,
    day_count=DayCount.THIRTY_360,
    eligibility=Eligibility(
        customer_type="Business",
        minimum_age=18,
        residency="GB",
        minimum_annual_income=Decimal("100000.00"),
        minimum_trading_months=24,
        conditions=(
            "A UK-registered business trading for at least 24 months",
            "Annual turnover of at least 100,000 GBP through a UK business current account",
            "Directors aged 18 or over",
        ),
    ),
)

REVOLVING_CREDIT_LINE = LoanProduct(
    product_id="revolving-credit-line",
    name="Flexible Credit Line",
    product_type=ProductType.REVOLVING_CREDIT_LINE,
    description="A credit limit to draw on and repay as needed; quoted as the whole limit "
    "drawn at once and repaid in equal monthly instalments over the term.",
    currency="GBP",
    minimum_amount=Decimal("500.00"),
    maximum_amount=Decimal("10000.00"),
    minimum_term=12,
    maximum_term=36,
    bands=(
        PricingBand("A", Decimal("14.9"), "Excellent credit history"),
        PricingBand("B", Decimal("19.9"), "Good credit history"),
        PricingBand("C", Decimal("24.9"), "Fair credit history"),
    ),
    representative_band="B",
    arrangement_fee=ArrangementFee(
        Decimal("25.00"), Decimal(0), Decimal(0), None, FeeTreatment.DEDUCTED_FROM_LOAN
    ),
    late_fee=Decimal("12.00"),
    frequency=RepaymentFrequency.MONTHLY,
    amortisation=Amortisation.EQUAL_INSTALMENTS,
    day_count=DayCount.ACTUAL_365,
    eligibility=Eligibility(
        customer_type="Person",
        minimum_age=18,
        residency="GB",
        minimum_annual_income=Decimal("9000.00"),
        minimum_trading_months=None,
        conditions=(
            "Aged 18 or over and resident in the UK",
            "A UK current account receiving a regular income of at least 9,000 GBP a year",
        ),
    ),
)

PRODUCTS: tuple[LoanProduct, ...] = (PERSONAL_LOAN, SME_TERM_LOAN, REVOLVING_CREDIT_LINE)
_BY_ID = {product.product_id: product for product in PRODUCTS}


def find(product_id: str) -> LoanProduct:
    """The product ``product_id``; :class:`UnknownProduct` if there is none."""
    try:
        return _BY_ID[product_id]
    except KeyError:
        raise UnknownProduct(f"No loan product {product_id!r}") from None


class SandboxLending:
    """The sandbox bank's lending: its catalogue, priced on the tenant's clock."""

    # The tenant's clock, from the accounts side of the core this is mixed into.
    now: Callable[[str], dt.datetime]

    def loan_products(self, tenant: str) -> Sequence[LoanProduct]:
        """Every product (the same in every sandbox)."""
        return PRODUCTS

    def loan_product(self, tenant: str, product_id: str) -> LoanProduct:
        """The product ``product_id``; :class:`UnknownProduct` if there is none."""
        return find(product_id)

    def quote(self, tenant: str, request: QuoteRequest) -> Quote:
        """The quote for ``request``, drawn down on the tenant's today."""
        return loan_quotes.price(find(request.product_id), request, self.now(tenant).date())
