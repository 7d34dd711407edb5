"""The credit decision's contract: its request, the in-memory double's rule, and the decision as
an application's consent keeps it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from gateway.consents import financing
from gateway.core.credit import Condition, CreditRequest, Decision, Outcome, Reason
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.memory_lending import MemoryLending
from sandbox.loan_products import PERSONAL_LOAN, PRODUCTS

NOW = dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC)


def _request(instalment: str = "400.00", term: int = 36) -> CreditRequest:
    return CreditRequest("Personal", "GBP", D("10000.00"), term, D(instalment), D("12.9"))


@pytest.mark.parametrize(
    ("amount", "term", "instalment", "rate"),
    [("0", 12, "10", "1"), ("100", 12, "0", "1"), ("100", 12, "10", "-1"), ("100", 0, "10", "1"),
     ("100", 61, "10", "1")],
)  # fmt: skip
def test_a_request_that_cannot_be_decided_is_refused(
    amount: str, term: int, instalment: str, rate: str
) -> None:
    with pytest.raises(InvalidInstruction):
        CreditRequest("Personal", "GBP", D(amount), term, D(instalment), D(rate))


@pytest.mark.parametrize(
    ("income", "instalment", "outcome", "code"),
    [("1000.00", "400.00", Outcome.APPROVE, "Affordable"),
     ("1000.00", "400.01", Outcome.REFER, "AffordabilityUnclear"),
     ("0", "10.00", Outcome.DECLINE, "NoIncome")],
)  # fmt: skip
def test_the_memory_double_decides_on_the_income_it_is_given(
    income: str, instalment: str, outcome: Outcome, code: str
) -> None:
    lending = MemoryLending(PRODUCTS, NOW, incomes={"acc-1": D(income)})
    decision = lending.decide("t", ["acc-1"], _request(instalment), NOW.date())
    assert decision.outcome is outcome
    assert [r.code for r in decision.reasons] == [code]
    assert decision.affordable_instalment == (D(income) * D("0.4")).quantize(D("0.01"))


def test_the_memory_double_refuses_unknown_or_no_accounts() -> None:
    lending = MemoryLending(PRODUCTS, NOW, incomes={"acc-1": D(1000)})
    with pytest.raises(UnknownResource):
        lending.decide("t", ["acc-2"], _request(), NOW.date())
    with pytest.raises(InvalidInstruction):
        lending.decide("t", [], _request(), NOW.date())


def test_the_request_is_the_loan_as_quoted() -> None:
    quote = {
        "Amount": {"Amount": "10000.00", "Currency": "GBP"}, "Term": 36, "NominalRate": "12.9",
        "Instalments": [{"Amount": {"Amount": "337.10", "Currency": "GBP"}},
                        {"Amount": {"Amount": "337.15", "Currency": "GBP"}}],
    }  # fmt: skip
    request = financing.credit_request({"Quote": quote}, PERSONAL_LOAN, "Business")
    assert request == CreditRequest(
        "Business", "GBP", D("10000.00"), 36, D("337.15"), D("12.9"),
        minimum_amount=PERSONAL_LOAN.minimum_amount,
        maximum_term_months=PERSONAL_LOAN.maximum_term,
    )  # fmt: skip


def test_the_decision_as_the_consent_keeps_it() -> None:
    decision = Decision(
        Outcome.APPROVE_WITH_CONDITIONS,
        (Reason("AffordableWithChanges", "A smaller loan fits."),),
        (Condition("LowerAmount", D("4000"), 36, D("101.2")),
         Condition("LongerTerm", D("5000.00"), 48, D("99.00"))),
        D("101.23"),
    )  # fmt: skip
    assert financing.decision_body(decision, "GBP", NOW) == {
        "Outcome": "ApproveWithConditions",
        "DecisionDateTime": "2026-12-07T10:00:00+00:00",
        "Reasons": [{"Code": "AffordableWithChanges", "Text": "A smaller loan fits."}],
        "Conditions": [
            {"Kind": "LowerAmount", "Amount": {"Amount": "4000.00", "Currency": "GBP"},
             "Term": 36, "Instalment": {"Amount": "101.20", "Currency": "GBP"}},
            {"Kind": "LongerTerm", "Amount": {"Amount": "5000.00", "Currency": "GBP"},
             "Term": 48, "Instalment": {"Amount": "99.00", "Currency": "GBP"}},
        ],
    }  # fmt: skip
