"""Each rule of the credit decision, on hand-built histories either side of its threshold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gateway.core.accounts import Merchant
from gateway.core.credit import Decision, Outcome
from gateway.core.errors import InvalidInstruction
from gateway.core.values import Counterparty
from sandbox.lending.decision import instalment
from sandbox.lending.measures import Flow, classify, measure
from tests.unit.sandbox.lending.histories import (
    AS_OF,
    CARD,
    Entry,
    base,
    debit,
    decided,
    history,
    months,
    own_transfer_in,
    rent,
    request,
    returned,
    salary,
)

YEAR = [m for m in months() if m.year == 2025]


def codes(decision: Decision) -> set[str]:
    return {r.code for r in decision.reasons}


def overdrawn_for(days: int, start: dt.date = dt.date(2025, 3, 5)) -> list[Entry]:
    """A purchase that takes the account 100,000 below zero for ``days`` days."""
    shop = Merchant("Motor World", "5511")
    return [
        Entry(start, Decimal("-120000"), CARD, "CardPayment", None, "Motor World", shop),
        own_transfer_in(start + dt.timedelta(days=days), "120000"),
    ]


def test_the_base_person_is_approved_with_the_figures_measured() -> None:
    decision = decided([history(base())], request(payment="161.10"))
    m = decision.measures
    assert (m.months, m.monthly_income, m.income_months) == (12, Decimal("3000.00"), 12)
    assert (m.essential_outgoings, m.credit_commitments) == (Decimal("1700.00"), 0)
    assert (m.days_overdrawn, m.returned_payments, m.balance_volatility) == (0, 0, 0)
    assert decision.outcome is Outcome.APPROVE and codes(decision) == {"Affordable"}
    assert decision.affordable_instalment == Decimal("1000.00")
    assert "GBP 3000.00 a month" in decision.reasons[0].text


def test_affordability_approves_an_instalment_that_just_fits() -> None:
    decision = decided([history(base())], request(payment="1000.00"))
    assert decision.outcome is Outcome.APPROVE and decision.conditions == ()


def test_one_cent_over_the_affordable_instalment_approves_with_conditions() -> None:
    decision = decided([history(base())], request(payment="1000.01"))
    assert decision.outcome is Outcome.APPROVE_WITH_CONDITIONS
    assert codes(decision) == {"AffordableWithChanges"}


def test_conditions_offer_the_largest_amount_and_shortest_term_that_fit() -> None:
    asked = request(amount="40000", term=36)
    decision = decided([history(base())], asked)
    lower, longer = decision.conditions
    rate = asked.annual_rate
    assert (lower.kind, lower.term_months) == ("LowerAmount", 36)
    assert lower.instalment == instalment(lower.amount, rate, 36) <= Decimal(1000)
    assert instalment(lower.amount + 100, rate, 36) > Decimal(1000)
    assert (longer.kind, longer.amount) == ("LongerTerm", Decimal(40000))
    assert longer.instalment == instalment(longer.amount, rate, longer.term_months) <= 1000
    assert instalment(Decimal(40000), rate, longer.term_months - 1) > Decimal(1000)


def test_no_fitting_loan_within_the_product_declines() -> None:
    decision = decided([history(base())], request("40000", 36, minimum="40000", maximum_term=36))
    assert decision.outcome is Outcome.DECLINE and codes(decision) == {"Unaffordable"}


@pytest.mark.parametrize(
    ("amount", "term", "payment"),
    [("0", 12, None), ("-5", 12, "10"), ("1000", 0, "10"), ("1000", 61, None), ("1000", 12, "0")],
)
def test_a_loan_that_cannot_be_is_refused_before_deciding(
    amount: str, term: int, payment: str | None
) -> None:
    with pytest.raises(InvalidInstruction):
        request(amount, term, payment=payment or "10")


def test_no_room_at_all_declines() -> None:
    entries = [e for e in base() if e.reference != "RENT"] + [rent(m, "2800") for m in months()]
    decision = decided([history(entries)], request("1000", 12))
    assert decision.outcome is Outcome.DECLINE
    assert codes(decision) == {"Unaffordable", "PersistentOverdraft"}
    assert decision.affordable_instalment < 0


@pytest.mark.parametrize(
    ("opened", "short"), [(dt.date(2025, 7, 1), False), (dt.date(2025, 7, 2), True)]
)
def test_short_history_is_referred(opened: dt.date, short: bool) -> None:
    decision = decided([history(base(opened=opened), opened=opened)], request(payment="100"))
    assert decision.measures.months == (5 if short else 6)
    assert ("ShortHistory" in codes(decision)) is short
    assert decision.outcome is (Outcome.REFER if short else Outcome.APPROVE)


def test_no_income_declines() -> None:
    decision = decided([history(base(skip_salary=months()))], request())
    assert decision.outcome is Outcome.DECLINE and "NoIncome" in codes(decision)


@pytest.mark.parametrize(("pay", "low"), [("1000.00", False), ("999.99", True)])
def test_income_below_the_minimum_declines(pay: str, low: bool) -> None:
    entries = [e for e in base() if e.reference != "SALARY"]
    entries += [salary(m.replace(day=28), pay) for m in months() if m < AS_OF.replace(day=1)]
    decision = decided([history(entries)], request("1000", 12))
    assert ("LowIncome" in codes(decision)) is low


@pytest.mark.parametrize(("missed", "refer"), [(2, False), (3, True)])
def test_income_missing_in_more_than_two_months_is_referred(missed: int, refer: bool) -> None:
    decision = decided([history(base(skip_salary=YEAR[:missed]))], request(payment="100"))
    assert decision.measures.income_months == 12 - missed
    assert ("IrregularIncome" in codes(decision)) is refer


@pytest.mark.parametrize(
    ("amounts", "refer"),
    [(["1510.00", "4490.00"] * 6, False), (["2000.00"] * 11 + ["14000.00"], True)],
)
def test_income_that_varies_too_much_is_referred(amounts: list[str], refer: bool) -> None:
    entries = [e for e in base() if e.reference != "SALARY" or e.day.year != 2025]
    entries += [salary(m.replace(day=28), pay) for m, pay in zip(YEAR, amounts, strict=True)]
    decision = decided([history(entries)], request(payment="100"))
    assert decision.measures.income_months == 12
    assert (decision.measures.income_variation > Decimal("0.5")) is refer
    assert ("IrregularIncome" in codes(decision)) is refer


@pytest.mark.parametrize(("swing", "refer"), [("3600.00", False), ("3606.00", True)])
def test_a_volatile_balance_is_referred(swing: str, refer: bool) -> None:
    shop = Merchant("John Lewis", "5311")
    entries = base() + [
        Entry(m.replace(day=15), -Decimal(swing), CARD, "CardPayment", None, "John Lewis", shop)
        for m in YEAR[::2]
    ]
    decision = decided([history(entries)], request(payment="100"))
    assert decision.measures.balance_volatility == (Decimal("0.601") if refer else Decimal("0.6"))
    assert ("VolatileBalance" in codes(decision)) is refer


@pytest.mark.parametrize(
    ("kind", "days", "expected"),
    [
        ("Personal", 30, set()),
        ("Personal", 31, {"FrequentOverdraft"}),
        ("Personal", 90, {"FrequentOverdraft"}),
        ("Personal", 91, {"PersistentOverdraft"}),
        ("Business", 60, set()),
        ("Business", 61, {"FrequentOverdraft"}),
        ("Business", 180, {"FrequentOverdraft"}),
        ("Business", 181, {"PersistentOverdraft"}),
    ],
)
def test_days_overdrawn(kind: str, days: int, expected: set[str]) -> None:
    decision = decided(
        [history(base() + overdrawn_for(days), kind=kind)],  # type: ignore[arg-type]
        request(kind=kind, payment="100"),  # type: ignore[arg-type]
    )
    assert decision.measures.days_overdrawn == days
    assert codes(decision) & {"FrequentOverdraft", "PersistentOverdraft"} == expected


def test_days_overdrawn_without_balances_after_are_found_from_todays_balance() -> None:
    entries = base() + overdrawn_for(45, dt.date(2025, 11, 20))
    with_after = measure([history(entries)], "GBP", AS_OF)
    walked = measure([history(entries, with_balance_after=False)], "GBP", AS_OF)
    assert with_after.days_overdrawn == walked.days_overdrawn == 42  # to the window's end


@pytest.mark.parametrize(
    ("count", "expected", "outcome"),
    [
        (0, set(), Outcome.APPROVE),
        (1, {"ReturnedPayment"}, Outcome.REFER),
        (2, {"ReturnedPayment"}, Outcome.REFER),
        (3, {"ReturnedPayments"}, Outcome.DECLINE),
    ],
)
def test_returned_payments(count: int, expected: set[str], outcome: Outcome) -> None:
    entries = base() + [e for m in YEAR[:count] for e in returned(m.replace(day=18))]
    decision = decided([history(entries)], request(payment="100"))
    assert decision.measures.returned_payments == count
    assert codes(decision) & {"ReturnedPayment", "ReturnedPayments"} == expected
    assert decision.outcome is outcome


@pytest.mark.parametrize(("repayment", "over"), [("1200.00", False), ("1200.01", True)])
def test_existing_credit_above_the_debt_cap_declines(repayment: str, over: bool) -> None:
    entries = base() + [debit(m.replace(day=8), repayment, "Lending Stream", "LOAN") for m in YEAR]
    decision = decided([history(entries)], request(payment="100"))
    assert decision.measures.credit_commitments == Decimal(repayment)
    assert ("ExistingCredit" in codes(decision)) is over
    assert decision.outcome is Outcome.DECLINE  # at the cap, no room is left either


def test_existing_credit_narrows_the_affordable_instalment() -> None:
    entries = base() + [debit(m.replace(day=8), "250.00", "Klarna", "KLARNA") for m in YEAR]
    decision = decided([history(entries)], request(payment="100"))
    assert decision.affordable_instalment == Decimal("750.00")


def test_an_irregular_income_that_does_not_fit_is_referred_not_declined() -> None:
    entries = base(skip_salary=YEAR[:4])
    decision = decided([history(entries)], request("40000", 24, minimum="40000", maximum_term=24))
    assert decision.outcome is Outcome.REFER
    assert codes(decision) >= {"IrregularIncome", "AffordabilityUnclear"}


def _one(entry: Entry, kind: str = "Personal") -> Flow:
    (t,) = history([entry]).transactions
    return classify(t, kind == "Business")


@pytest.mark.parametrize(
    ("entry", "kind", "flow"),
    [
        (salary(AS_OF), "Personal", Flow.INCOME),
        (own_transfer_in(AS_OF, "50"), "Personal", Flow.OTHER),
        (Entry(AS_OF, Decimal(900), ("ReceivedCardTransactions", "PointOfSale"), "CardTakings",
               None, "Card takings settlement"), "Business", Flow.INCOME),
        (Entry(AS_OF, Decimal(20), ("IssuedCardTransactions", "Refund"), "CardPayment", None,
               "Argos"), "Personal", Flow.OTHER),
        (Entry(AS_OF, Decimal(5000), ("Lending", "Drawdown"), "LoanDrawdown", "DRAWDOWN",
               "Loan proceeds"), "Business", Flow.OTHER),
        (returned(AS_OF)[1], "Personal", Flow.RETURNED),
        (Entry(AS_OF, Decimal(-400), ("Lending", "Repayment"), "LoanRepayment", "LOAN REPAYMENT",
               "Loan repayment"), "Business", Flow.COMMITMENT),
        (debit(AS_OF, "30", "Klarna", "KLARNA"), "Personal", Flow.COMMITMENT),
        (debit(AS_OF, "300", "Credit card", "CARD"), "Personal", Flow.COMMITMENT),
        (rent(AS_OF), "Personal", Flow.ESSENTIAL),
        (debit(AS_OF, "90", "Octopus Energy", "OCTO"), "Personal", Flow.ESSENTIAL),
        (Entry(AS_OF, Decimal(-40), CARD, "CardPayment", None, "Tesco",
               Merchant("Tesco", "5411")), "Personal", Flow.ESSENTIAL),
        (Entry(AS_OF, Decimal(-40), CARD, "CardPayment", None, "Nando's",
               Merchant("Nando's", "5812")), "Personal", Flow.OTHER),
        (Entry(AS_OF, Decimal(-40), CARD, "CardPayment", None, "Nando's",
               Merchant("Nando's", "5812")), "Business", Flow.ESSENTIAL),
        (Entry(AS_OF, Decimal(-900), ("IssuedCreditTransfers", "DomesticCreditTransfer"),
               "Transfer", "INV1", "Payment to Union Coffee",
               counterparty=Counterparty("Union Coffee")), "Business", Flow.ESSENTIAL),
    ],
)  # fmt: skip
def test_classification(entry: Entry, kind: str, flow: Flow) -> None:
    assert _one(entry, kind) is flow
