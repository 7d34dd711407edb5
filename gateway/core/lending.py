"""The lending contract: loan products, quotes and their instalment schedules.

A bank that lends publishes its :class:`LoanProduct` catalogue (amount and term ranges, a fixed
nominal rate in risk-based pricing bands, fees, repayment frequency, amortisation, day count,
eligibility) and prices a :class:`QuoteRequest` as a :class:`Quote`: the whole instalment
schedule, every cash flow with its date, the total payable, the APR as the Consumer Credit
Directive 2008/48/EC Annex I and FCA CONC App 1.1 define it, and the representative example of
CONC 3.5.5R. The arithmetic lives in :mod:`gateway.core.loan_schedule`,
:mod:`gateway.core.apr` and :mod:`gateway.core.loan_quotes`, shared by every implementation.

An application is decided by :meth:`LendingCore.decide` from the applicant's own accounts (its
value types in :mod:`gateway.core.credit`). Offers, drawdown and servicing build on this
contract. Loans then appear to account information as accounts of their own (``AccountSubType``
``Loan``) through :mod:`gateway.core.accounts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from gateway.core.credit import CreditRequest, Decision
from gateway.core.errors import InvalidInstruction, UnknownResource


class ProductType(StrEnum):
    """What kind of credit a product is."""

    PERSONAL_LOAN = "PersonalLoan"
    SME_TERM_LOAN = "SmeTermLoan"
    REVOLVING_CREDIT_LINE = "RevolvingCreditLine"


class Amortisation(StrEnum):
    """How the principal is repaid: equal instalments (an annuity), or equal principal parts with
    interest on the falling balance."""

    EQUAL_INSTALMENTS = "EqualInstalments"
    EQUAL_PRINCIPAL = "EqualPrincipal"


class DayCount(StrEnum):
    """How a period's interest is counted: 30E/360 (every whole month 30 days of a 360-day year)
    or Actual/365 Fixed (the calendar days of the period over 365)."""

    THIRTY_360 = "30/360"
    ACTUAL_365 = "Actual/365"


class RepaymentFrequency(StrEnum):
    """How often instalments fall due."""

    MONTHLY = "Monthly"
    QUARTERLY = "Quarterly"

    @property
    def months(self) -> int:
        """The calendar months between two instalments."""
        return 3 if self is RepaymentFrequency.QUARTERLY else 1


class FeeTreatment(StrEnum):
    """What happens to the arrangement fee: financed (added to the loan, so interest runs on it)
    or deducted from the amount paid out."""

    ADDED_TO_LOAN = "AddedToLoan"
    DEDUCTED_FROM_LOAN = "DeductedFromLoan"


@dataclass(frozen=True, slots=True)
class PricingBand:
    """A risk-based pricing band: the fixed nominal annual rate (percent) its applicants pay."""

    band: str
    rate: Decimal
    description: str


@dataclass(frozen=True, slots=True)
class ArrangementFee:
    """The arrangement fee: ``fixed`` plus ``percentage`` of the amount, at least ``minimum``
    and at most ``maximum`` (``None``: no cap), treated as ``treatment`` says."""

    fixed: Decimal
    percentage: Decimal
    minimum: Decimal
    maximum: Decimal | None
    treatment: FeeTreatment


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who may apply: an adult (``minimum_age``) resident in ``residency`` (ISO 3166 alpha-2),
    a person or a business (``customer_type``), with at least ``minimum_annual_income`` (a
    business: turnover) and, for a business, ``minimum_trading_months`` of trading."""

    customer_type: str
    minimum_age: int
    residency: str
    minimum_annual_income: Decimal
    minimum_trading_months: int | None
    conditions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LoanProduct:
    """A loan product: amounts in ``currency`` from ``minimum_amount`` to ``maximum_amount``,
    terms in months from ``minimum_term`` to ``maximum_term`` (a whole number of repayment
    periods), priced by ``bands`` (``representative_band`` is the one the representative APR
    is quoted at, CONC 3.5.5R), with its fees, frequency, amortisation and day count."""

    product_id: str
    name: str
    product_type: ProductType
    description: str
    currency: str
    minimum_amount: Decimal
    maximum_amount: Decimal
    minimum_term: int
    maximum_term: int
    bands: tuple[PricingBand, ...]
    representative_band: str
    arrangement_fee: ArrangementFee
    late_fee: Decimal
    frequency: RepaymentFrequency
    amortisation: Amortisation
    day_count: DayCount
    eligibility: Eligibility

    def band(self, name: str | None) -> PricingBand:
        """The pricing band ``name`` (the representative one when ``None``); :class:`QuoteRefused`
        for a band the product does not have."""
        wanted = self.representative_band if name is None else name
        for band in self.bands:
            if band.band == wanted:
                return band
        raise QuoteRefused("PricingBand", f"{self.product_id} has no pricing band {wanted!r}")


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """What a quote is asked for: ``amount`` of ``currency`` over ``term`` months of product
    ``product_id``, optionally in one pricing band and with a first repayment date."""

    product_id: str
    amount: Decimal
    currency: str
    term: int
    first_repayment: dt.date | None = None
    band: str | None = None


@dataclass(frozen=True, slots=True)
class Instalment:
    """One instalment: due on ``due_date``, ``amount`` = ``principal`` + ``interest`` +
    ``fees``; ``balance`` is the principal outstanding after it is paid. ``interest`` is the
    opening balance times ``periodic_rate`` (the nominal rate over the period's day-count
    fraction), rounded to the currency's minor unit."""

    number: int
    due_date: dt.date
    amount: Decimal
    principal: Decimal
    interest: Decimal
    fees: Decimal
    balance: Decimal
    periodic_rate: Decimal


class FlowType(StrEnum):
    """Which way a cash flow goes: credit paid to the customer, or paid by them."""

    DRAWDOWN = "Drawdown"
    REPAYMENT = "Repayment"


@dataclass(frozen=True, slots=True)
class CashFlow:
    """A payment on ``date``, ``time`` years after the first drawdown (CCD Annex I, I(c)):
    a drawdown C or a repayment or charge D of the APR equation."""

    date: dt.date
    flow_type: FlowType
    amount: Decimal
    time: Decimal


@dataclass(frozen=True, slots=True)
class RepresentativeExample:
    """The elements of a representative example CONC 3.5.5R lists: rate and its type, other
    charges, total amount of credit, the representative APR, duration, total amount payable and
    each repayment, with the sentence that shows them together."""

    rate: Decimal
    rate_type: str
    charges: tuple[tuple[str, Decimal], ...]
    total_amount_of_credit: Decimal
    apr: Decimal
    duration_months: int
    total_amount_payable: Decimal
    repayments: tuple[tuple[int, Decimal], ...]
    text: str


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced loan: the product and band, the amounts, the schedule, the cash flows, the APR
    (percent, one decimal place) and the representative example. ``principal`` is what interest
    runs on (the amount, with the fee when it is added to the loan); ``credit`` is the total
    amount of credit, what the customer receives."""

    product: LoanProduct
    band: PricingBand
    currency: str
    amount: Decimal
    term: int
    arrangement_fee: Decimal
    principal: Decimal
    credit: Decimal
    drawdown_date: dt.date
    instalments: tuple[Instalment, ...]
    cash_flows: tuple[CashFlow, ...]
    total_interest: Decimal
    total_fees: Decimal
    total_payable: Decimal
    total_charge_for_credit: Decimal
    apr: Decimal
    example: RepresentativeExample


class QuoteRefused(InvalidInstruction):
    """A quote request the product cannot price: ``field`` names what is wrong (``Amount``,
    ``Currency``, ``Term``, ``FirstRepaymentDate``, ``PricingBand``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownProduct(UnknownResource):
    """No loan product has this id."""


class LendingCore(Protocol):
    """The bank's lending, bound to one unit of work."""

    def loan_products(self, tenant: str) -> Sequence[LoanProduct]:
        """Every loan product the bank offers ``tenant``'s customers, in a stable order."""

    def loan_product(self, tenant: str, product_id: str) -> LoanProduct:
        """The product ``product_id``; :class:`UnknownProduct` if there is none."""

    def quote(self, tenant: str, request: QuoteRequest) -> Quote:
        """Price ``request`` as of the bank's today for ``tenant`` (the drawdown date): the
        schedule, cash flows, APR and representative example. Nothing is stored; the same
        request on the same day gives the same quote. Raises :class:`UnknownProduct` for an
        unknown product and :class:`QuoteRefused` for an amount, currency, term, band or first
        repayment date the product does not allow."""

    def decide(
        self, tenant: str, account_ids: Sequence[str], request: CreditRequest, as_of: dt.date
    ) -> Decision:
        """Decide ``request`` from the accounts ``account_ids`` of ``tenant`` (those the
        applicant shared) as of the bank's day ``as_of``. Reads only; nothing is stored (the
        caller keeps the decision). The same accounts, request and day give the same decision.
        Raises :class:`~gateway.core.errors.UnknownResource` for an account the bank does not
        have, :class:`~gateway.core.errors.InvalidInstruction` when ``account_ids`` is empty;
        a store that cannot answer raises its own error, and nothing is decided."""
