"""Pricing a quote request against a product: fee, schedule, cash flows, APR, representative
example. Every bank core that lends prices with :func:`price`, so that the figures a partner is
shown are the ones any other implementation would give."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from gateway.core import apr, loan_schedule
from gateway.core.lending import (
    CashFlow,
    FeeTreatment,
    FlowType,
    Instalment,
    LoanProduct,
    Quote,
    QuoteRefused,
    QuoteRequest,
    RepresentativeExample,
)
from gateway.core.money import EXPONENTS

# The first repayment may fall at most this many days after the regular one (a broken first
# period lets a customer align repayments with payday); never before the drawdown's next day.
LATEST_FIRST_REPAYMENT_DAYS = 31


def arrangement_fee(product: LoanProduct, amount: Decimal) -> Decimal:
    """The product's arrangement fee on ``amount``, to the minor unit (half up)."""
    fee = product.arrangement_fee
    exponent = EXPONENTS[product.currency]
    value = fee.fixed + amount * fee.percentage / 100
    value = max(value, fee.minimum)
    if fee.maximum is not None:
        value = min(value, fee.maximum)
    return loan_schedule.round_minor(value, exponent, ROUND_HALF_UP)


def check(product: LoanProduct, request: QuoteRequest, today: dt.date) -> dt.date:
    """Refuse (:class:`QuoteRefused`) what ``product`` does not lend; return the first
    repayment date (one repayment period after ``today`` unless the request names one)."""
    if request.currency != product.currency:
        raise QuoteRefused("Currency", f"{product.product_id} lends in {product.currency} only")
    exponent = EXPONENTS[product.currency]
    if request.amount != request.amount.quantize(Decimal(1).scaleb(-exponent)):
        raise QuoteRefused("Amount", f"{product.currency} has {exponent} decimal places")
    if not product.minimum_amount <= request.amount <= product.maximum_amount:
        raise QuoteRefused(
            "Amount",
            f"{product.product_id} lends from {product.minimum_amount:f} to "
            f"{product.maximum_amount:f} {product.currency}",
        )
    months = product.frequency.months
    if not product.minimum_term <= request.term <= product.maximum_term:
        raise QuoteRefused(
            "Term",
            f"{product.product_id} runs from {product.minimum_term} to {product.maximum_term} "
            "months",
        )
    if request.term % months:
        raise QuoteRefused("Term", f"the term must be a whole number of {months}-month periods")
    regular = loan_schedule.add_months(today, months)
    first = request.first_repayment or regular
    latest = regular + dt.timedelta(days=LATEST_FIRST_REPAYMENT_DAYS)
    if not today < first <= latest:
        raise QuoteRefused(
            "FirstRepaymentDate",
            f"the first repayment falls after {today.isoformat()} and by {latest.isoformat()}",
        )
    product.band(request.band)
    return first


def price(product: LoanProduct, request: QuoteRequest, today: dt.date) -> Quote:
    """The quote for ``request`` drawn down ``today``; :class:`QuoteRefused` if the product does
    not lend it."""
    first = check(product, request, today)
    band = product.band(request.band)
    exponent = EXPONENTS[product.currency]
    # 1000.00000 is 1000.00: the figures carry the currency's exponent, not the request's.
    request = replace(request, amount=loan_schedule.round_minor(request.amount, exponent))
    fee = arrangement_fee(product, request.amount)
    added = product.arrangement_fee.treatment is FeeTreatment.ADDED_TO_LOAN
    principal = request.amount + fee if added else request.amount
    credit = request.amount if added else request.amount - fee
    count = request.term // product.frequency.months
    dates = loan_schedule.due_dates(first, count, product.frequency.months)
    rates = loan_schedule.periodic_rates(band.rate, today, dates, product.day_count)
    instalments = loan_schedule.build(principal, rates, dates, product.amortisation, exponent)
    flows = (
        CashFlow(today, FlowType.DRAWDOWN, credit, Decimal(0)),
        *(
            CashFlow(i.due_date, FlowType.REPAYMENT, i.amount, apr.years_between(today, i.due_date))
            for i in instalments
        ),
    )
    rate = apr.solve(
        [(f.amount, f.time) for f in flows if f.flow_type is FlowType.DRAWDOWN],
        [(f.amount, f.time) for f in flows if f.flow_type is FlowType.REPAYMENT],
    )
    total_interest = sum((i.interest for i in instalments), Decimal(0))
    total_fees = sum((i.fees for i in instalments), Decimal(0)) + fee
    total_payable = sum((i.amount for i in instalments), Decimal(0))
    example = representative_example(product, band.rate, request.term, fee, credit, rate,
                                     total_payable, instalments)  # fmt: skip
    return Quote(
        product=product,
        band=band,
        currency=product.currency,
        amount=request.amount,
        term=request.term,
        arrangement_fee=fee,
        principal=principal,
        credit=credit,
        drawdown_date=today,
        instalments=instalments,
        cash_flows=flows,
        total_interest=total_interest,
        total_fees=total_fees,
        total_payable=total_payable,
        total_charge_for_credit=total_payable - credit,
        apr=rate,
        example=example,
    )


def repayment_runs(instalments: tuple[Instalment, ...]) -> tuple[tuple[int, Decimal], ...]:
    """The instalment amounts as runs of (how many, amount), in order."""
    runs: list[tuple[int, Decimal]] = []
    for instalment in instalments:
        if runs and runs[-1][1] == instalment.amount:
            runs[-1] = (runs[-1][0] + 1, instalment.amount)
        else:
            runs.append((1, instalment.amount))
    return tuple(runs)


def representative_example(
    product: LoanProduct,
    rate: Decimal,
    term: int,
    fee: Decimal,
    credit: Decimal,
    annual_rate: Decimal,
    total_payable: Decimal,
    instalments: tuple[Instalment, ...],
) -> RepresentativeExample:
    """CONC 3.5.5R: the rate of interest (fixed), the other charges in the total charge for
    credit, the total amount of credit, the representative APR, the duration, the total amount
    payable and the amount of each repayment, equally prominent in one sentence."""
    currency = product.currency
    runs = repayment_runs(instalments)
    frequency = product.frequency.value.lower()
    if len(runs) <= 3:
        repayments = " and ".join(f"{n} {frequency} repayments of {a:f} {currency}"
                                  if n > 1 else f"1 repayment of {a:f} {currency}"
                                  for n, a in runs)  # fmt: skip
    else:
        repayments = (
            f"{len(instalments)} {frequency} repayments from {instalments[0].amount:f} "
            f"{currency} down to {instalments[-1].amount:f} {currency}"
        )
    treatment = (
        "added to the loan"
        if product.arrangement_fee.treatment is FeeTreatment.ADDED_TO_LOAN
        else "deducted from the loan"
    )
    text = (
        f"Representative example: total amount of credit {credit:f} {currency} over {term} "
        f"months at a fixed interest rate of {rate:f}% a year, with an arrangement fee of "
        f"{fee:f} {currency} {treatment}. Representative {annual_rate:f}% APR. "
        f"{repayments[:1].upper()}{repayments[1:]}. Total amount payable {total_payable:f} "
        f"{currency}."
    )
    return RepresentativeExample(
        rate=rate,
        rate_type="Fixed",
        charges=(("ArrangementFee", fee),),
        total_amount_of_credit=credit,
        apr=annual_rate,
        duration_months=term,
        total_amount_payable=total_payable,
        repayments=runs,
        text=text,
    )
