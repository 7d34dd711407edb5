"""The sandbox bank's loan products, priced: every quote's figures agree with its own cash flows
and schedule, and what a product does not lend is refused with the field at fault."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import apr, loan_quotes
from gateway.core.lending import (
    Amortisation,
    FeeTreatment,
    FlowType,
    LoanProduct,
    QuoteRefused,
    QuoteRequest,
    UnknownProduct,
)
from gateway.core.memory_lending import MemoryLending
from sandbox import loan_products
from sandbox.loan_products import PERSONAL_LOAN, PRODUCTS, REVOLVING_CREDIT_LINE, SME_TERM_LOAN

D = Decimal
TODAY = dt.date(2026, 12, 7)


def _request(product: LoanProduct, amount: str, term: int, **extra: object) -> QuoteRequest:
    return QuoteRequest(product.product_id, D(amount), product.currency, term, **extra)  # type: ignore[arg-type]


def test_the_catalogue_has_the_three_products() -> None:
    assert [p.product_type.value for p in PRODUCTS] == [
        "PersonalLoan", "SmeTermLoan", "RevolvingCreditLine"
    ]  # fmt: skip
    assert SME_TERM_LOAN.amortisation is Amortisation.EQUAL_PRINCIPAL
    assert PERSONAL_LOAN.arrangement_fee.treatment is FeeTreatment.ADDED_TO_LOAN
    assert SME_TERM_LOAN.arrangement_fee.treatment is FeeTreatment.DEDUCTED_FROM_LOAN
    assert loan_products.find("sme-term-loan") is SME_TERM_LOAN
    with pytest.raises(UnknownProduct):
        loan_products.find("mortgage")


def test_a_personal_loan_quote() -> None:
    """10,000 over 24 months in band B (12.9%), the 99 fee added to the loan: interest runs on
    10,099, the customer receives 10,000 and the APR counts the fee."""
    quote = loan_quotes.price(PERSONAL_LOAN, _request(PERSONAL_LOAN, "10000.00", 24), TODAY)
    assert (quote.principal, quote.credit, quote.arrangement_fee) == (
        D("10099.00"), D("10000.00"), D("99.00")
    )  # fmt: skip
    first = quote.instalments[0]
    assert first.due_date == dt.date(2027, 1, 7)
    # 31 days of Actual/365 at 12.9% on 10,099.
    assert first.interest == D("110.65")
    assert quote.apr == D("14.8")
    assert quote.total_charge_for_credit == quote.total_payable - D("10000.00")
    assert "Representative 14.8% APR" in quote.example.text


def test_a_deducted_fee_reduces_the_credit_and_raises_the_apr() -> None:
    quote = loan_quotes.price(SME_TERM_LOAN, _request(SME_TERM_LOAN, "50000.00", 36), TODAY)
    assert quote.arrangement_fee == D("1000.00")  # 2%
    assert (quote.principal, quote.credit) == (D("50000.00"), D("49000.00"))
    drawdown = quote.cash_flows[0]
    assert (drawdown.flow_type, drawdown.amount, drawdown.date) == (
        FlowType.DRAWDOWN, D("49000.00"), TODAY
    )  # fmt: skip
    assert quote.apr > quote.band.rate
    assert {i.principal for i in quote.instalments[:-1]} == {D("1388.89")}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(PRODUCTS),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=48),
    st.sampled_from(["A", "B", "C"]),
    st.integers(min_value=0, max_value=31),
    st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2040, 12, 31)),
)
def test_every_quote_agrees_with_its_own_cash_flows(
    product: LoanProduct, pick: int, term_pick: int, band: str, late: int, today: dt.date
) -> None:
    """What a hidden check recomputes: the APR from the quote's own cash flows, to its stated
    precision; the totals from the schedule; the cash flows from the schedule."""
    span = int((product.maximum_amount - product.minimum_amount) * 100)
    amount = product.minimum_amount + D(pick % (span + 1)) / 100
    term = product.minimum_term + term_pick % (product.maximum_term - product.minimum_term + 1)
    first = loan_quotes.loan_schedule.add_months(today, 1) + dt.timedelta(days=late)
    request = QuoteRequest(product.product_id, amount, "GBP", term, first, band)
    quote = loan_quotes.price(product, request, today)
    drawdowns = [(f.amount, f.time) for f in quote.cash_flows if f.flow_type is FlowType.DRAWDOWN]
    repayments = [(f.amount, f.time) for f in quote.cash_flows if f.flow_type is FlowType.REPAYMENT]
    assert drawdowns == [(quote.credit, D(0))]
    assert [a for a, _ in repayments] == [i.amount for i in quote.instalments]
    assert [t for _, t in repayments] == [apr.years_between(today, i.due_date)
                                          for i in quote.instalments]  # fmt: skip
    root = D(repr(apr.root(drawdowns, repayments) * 100))
    assert abs(root - quote.apr) <= D("0.05")
    assert quote.total_payable == sum(i.amount for i in quote.instalments)
    assert quote.total_charge_for_credit == quote.total_payable - quote.credit
    assert sum(i.principal for i in quote.instalments) == quote.principal
    assert quote.instalments[0].due_date == first
    assert len(quote.instalments) == term


def test_the_representative_example_has_the_elements_of_conc_3_5_5r() -> None:
    quote = loan_quotes.price(
        REVOLVING_CREDIT_LINE, _request(REVOLVING_CREDIT_LINE, "1200.00", 12), TODAY
    )
    example = quote.example
    assert example.rate == D("19.9") and example.rate_type == "Fixed"
    assert example.charges == (("ArrangementFee", D("25.00")),)
    assert example.total_amount_of_credit == D("1175.00")
    assert example.apr == quote.apr
    assert example.duration_months == 12
    assert example.total_amount_payable == quote.total_payable
    assert sum(n for n, _ in example.repayments) == 12
    for words in ("1175.00 GBP", "19.9%", "25.00 GBP", f"{quote.apr}% APR", "12 months",
                  f"Total amount payable {quote.total_payable} GBP"):  # fmt: skip
        assert words in example.text


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (_request(PERSONAL_LOAN, "999.99", 24), "Amount"),
        (_request(PERSONAL_LOAN, "25000.01", 24), "Amount"),
        (_request(PERSONAL_LOAN, "1000.001", 24), "Amount"),
        (_request(PERSONAL_LOAN, "1000.00", 11), "Term"),
        (_request(PERSONAL_LOAN, "1000.00", 61), "Term"),
        (_request(PERSONAL_LOAN, "1000.00", 24, band="D"), "PricingBand"),
        (_request(PERSONAL_LOAN, "1000.00", 24, first_repayment=TODAY), "FirstRepaymentDate"),
        (
            _request(PERSONAL_LOAN, "1000.00", 24, first_repayment=dt.date(2027, 2, 8)),
            "FirstRepaymentDate",
        ),
        (QuoteRequest("personal-loan", D("1000.00"), "EUR", 24), "Currency"),
    ],
)
def test_what_a_product_does_not_lend_is_refused(request_: QuoteRequest, field: str) -> None:
    with pytest.raises(QuoteRefused) as refused:
        loan_quotes.price(PERSONAL_LOAN, request_, TODAY)
    assert refused.value.field == field


def test_the_latest_first_repayment_is_a_month_and_31_days_away() -> None:
    request = _request(PERSONAL_LOAN, "1000.00", 24, first_repayment=dt.date(2027, 2, 7))
    assert (
        loan_quotes.price(PERSONAL_LOAN, request, TODAY).instalments[0].due_date
        == request.first_repayment
    )


def test_the_memory_double_prices_on_its_clock() -> None:
    lending = MemoryLending(PRODUCTS, dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC))
    assert [p.product_id for p in lending.loan_products("t")] == [p.product_id for p in PRODUCTS]
    quote = lending.quote("t", _request(PERSONAL_LOAN, "10000.00", 24))
    assert quote.drawdown_date == TODAY and quote.apr == D("14.8")
    with pytest.raises(UnknownProduct):
        lending.loan_product("t", "mortgage")


def test_an_amount_with_trailing_zeros_is_priced_in_the_currencys_exponent() -> None:
    quote = loan_quotes.price(PERSONAL_LOAN, _request(PERSONAL_LOAN, "10000.00000", 24), TODAY)
    assert f"{quote.amount}" == "10000.00" and f"{quote.principal}" == "10099.00"
    assert all(i.amount.as_tuple().exponent == -2 for i in quote.instalments)
