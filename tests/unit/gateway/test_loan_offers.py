"""The offers a decision makes, their status on the bank's clock, and what refuses an
acceptance (gateway.consents.loan_offers), without the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from gateway.consents import loan_offers
from gateway.consents.models import Consent

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
LOAN = {"ProductId": "personal-loan", "Amount": {"Amount": "5000.00", "Currency": "GBP"},
        "Term": 12, "PricingBand": "B"}  # fmt: skip
LOWER = {"Kind": "LowerAmount", "Amount": {"Amount": "4000.00", "Currency": "GBP"}, "Term": 12,
         "Instalment": {"Amount": "356.00", "Currency": "GBP"}}  # fmt: skip


def _decided(outcome: str, conditions: list[dict[str, Any]] | None = None) -> Consent:
    decision = {"Outcome": outcome, "DecisionDateTime": NOW.isoformat(), "Reasons": [],
                "Conditions": conditions or []}  # fmt: skip
    return Consent(id="fin-1", client_id="c", tenant_id="t", kind="financing", status="AUTH",
                   data={"Loan": LOAN, "Quote": {}, "Decision": decision},
                   account_ids=["acc-1"])  # fmt: skip


def _price(loan: Mapping[str, Any]) -> dict[str, Any] | None:
    return {"Priced": loan["Amount"]["Amount"]}


def test_an_approval_offers_the_loan_applied_for() -> None:
    consent = _decided("Approve")
    [offer] = loan_offers.make_offers(consent, _price)
    assert (offer["Kind"], offer["Loan"], offer["Quote"]) == (
        "AsApplied",
        LOAN,
        {"Priced": "5000.00"},
    )
    assert offer["ExpirationDateTime"] == (NOW + dt.timedelta(days=30)).isoformat()
    assert consent.data["Offers"] == [offer]
    # Made once: later calls return what was kept, whatever the price now.
    assert loan_offers.make_offers(consent, lambda loan: None) == [offer]


def test_conditions_change_the_amount_or_the_term_and_keep_the_band() -> None:
    longer = LOWER | {"Kind": "LongerTerm", "Amount": LOAN["Amount"], "Term": 24}
    offers = loan_offers.make_offers(_decided("ApproveWithConditions", [LOWER, longer]), _price)
    made = [(o["Kind"], o["Loan"]["Amount"]["Amount"], o["Loan"]["Term"], o["Loan"]["PricingBand"])
            for o in offers]  # fmt: skip
    assert made == [("LowerAmount", "4000.00", 12, "B"), ("LongerTerm", "5000.00", 24, "B")]
    assert len({o["OfferId"] for o in offers}) == 2


@pytest.mark.parametrize("outcome", ["Refer", "Decline"])
def test_refer_and_decline_offer_nothing(outcome: str) -> None:
    assert loan_offers.make_offers(_decided(outcome), _price) == []


def test_terms_the_product_no_longer_lends_are_not_offered() -> None:
    assert loan_offers.make_offers(_decided("Approve"), lambda loan: None) == []


def test_an_offer_lapses_thirty_days_after_the_decision() -> None:
    consent = _decided("Approve")
    [offer] = loan_offers.make_offers(consent, _price)
    lapse = NOW + loan_offers.OFFER_VALIDITY
    assert (
        loan_offers.offer_status(offer, consent.data, lapse - dt.timedelta(seconds=1))
        == "Available"
    )
    assert loan_offers.offer_status(offer, consent.data, lapse) == "Expired"
    with pytest.raises(loan_offers.AcceptanceRefused) as refused:
        loan_offers.acceptable(consent, "AUTH", offer["OfferId"], lapse)
    assert (refused.value.code, refused.value.path) == ("U003", "Data.OfferId")


@pytest.mark.parametrize(
    ("status", "outcome", "wanted", "code"),
    [("AWAU", "Approve", None, "U009"), ("EXPD", "Approve", None, "U009"),
     ("AUTH", "Refer", None, "U009"), ("AUTH", "Decline", None, "U009"),
     ("AUTH", "Approve", "ofr-other", "U011")],
)  # fmt: skip
def test_what_refuses_an_acceptance(
    status: str, outcome: str, wanted: str | None, code: str
) -> None:
    consent = _decided(outcome)
    offers = loan_offers.make_offers(consent, _price)
    offer_id = wanted or (offers[0]["OfferId"] if offers else "ofr-x")
    with pytest.raises(loan_offers.AcceptanceRefused) as refused:
        loan_offers.acceptable(consent, status, offer_id, NOW)
    assert refused.value.code == code


def test_an_undecided_application_cannot_be_accepted() -> None:
    consent = _decided("Approve")
    consent.data = {"Loan": LOAN, "Quote": {}}
    assert loan_offers.make_offers(consent, _price) == []
    with pytest.raises(loan_offers.AcceptanceRefused) as refused:
        loan_offers.acceptable(consent, "AUTH", "ofr-x", NOW)
    assert refused.value.code == "U009"


def test_once_accepted_the_others_are_withdrawn_and_nothing_more_is_accepted() -> None:
    consent = _decided("ApproveWithConditions", [LOWER, LOWER | {"Term": 24}])
    first, second = loan_offers.make_offers(consent, _price)
    consent.data = {**consent.data, "Acceptance": {"OfferId": second["OfferId"]}}
    shown = loan_offers.shown(consent.data, NOW)
    assert [o["Status"] for o in shown] == ["Withdrawn", "Accepted"]
    with pytest.raises(loan_offers.AcceptanceRefused) as refused:
        loan_offers.acceptable(consent, "AUTH", first["OfferId"], NOW)
    assert (refused.value.code, refused.value.status) == ("U029", 409)
