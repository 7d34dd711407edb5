"""Offers, acceptance and the loan afterwards (``/open-banking/financing/v1``): a decided
application offers loans; accepting one draws it down into the account the customer chose; the
loan is read through the financing API and, as an account (``AccountSubType`` ``Loan``), through
account information. The decision is recorded into the application as the decision engine
records it (``Data.Decision``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.consents.models import Consent
from gateway.store.database import Database
from tests.common.ais import AIS, authorised
from tests.common.clock import bank_now
from tests.common.oauth import ISSUER, Partner, register_partner
from tests.functional.test_financing_applications import (
    API,
    LOAN,
    apply,
    call,
    customer_answers,
    first_error,
)

Lender = tuple[Partner, str]


@pytest.fixture
def lender(oauth_app: Flask, http: FlaskClient) -> Lender:
    partner = register_partner(oauth_app, http, roles=("FINANCING", "AISP"))
    return partner, str(partner.client.client_credentials("financing")["access_token"])


def decide(
    app: Flask, consent_id: str, outcome: str, conditions: list[dict[str, Any]] | None = None,
    at: dt.datetime | None = None,
) -> None:  # fmt: skip
    """Record a decision into the application, as the decision engine does."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        tenant = session.get_one(Consent, consent_id).tenant_id
    when = at or bank_now(app, tenant)
    with database.sessions() as session:
        consent = session.get_one(Consent, consent_id)
        decision = {"Outcome": outcome, "DecisionDateTime": when.isoformat(timespec="seconds"),
                    "Reasons": [{"Code": "Affordable", "Text": "Regular income covers it."}],
                    "Conditions": conditions or []}  # fmt: skip
        consent.data = {**consent.data, "Decision": decision}
        session.commit()


def authorised_application(app: Flask, http: FlaskClient, lender: Lender) -> str:
    consent_id = str((apply(http, lender).json or {})["Data"]["ConsentId"])
    customer_answers(app, lender[0], consent_id)
    return consent_id


def accept(http: FlaskClient, lender: Lender, consent_id: str, offer_id: str,
           key: str | None = None) -> TestResponse:  # fmt: skip
    partner, token = lender
    path = f"/loan-applications/{consent_id}/acceptance"
    headers = partner.client.resource_headers("POST", f"{ISSUER}{API}{path}", token)
    headers["x-idempotency-key"] = key or str(uuid.uuid4())
    return http.post(f"{API}{path}", headers=headers, json={"Data": {"OfferId": offer_id}})


def application(http: FlaskClient, lender: Lender, consent_id: str) -> dict[str, Any]:
    response = call(http, *lender, "GET", f"/loan-applications/{consent_id}")
    assert response.status_code == 200, response.json
    data: dict[str, Any] = (response.json or {})["Data"]
    return data


def test_an_approved_application_offers_the_loan_and_accepting_draws_it_down(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    consent_id = authorised_application(oauth_app, http, lender)
    # The bank decided as the customer authorised; the test sets the outcome it needs before the
    # first read (which is when the offers are made).
    decide(oauth_app, consent_id, "Approve")
    [offer] = application(http, lender, consent_id)["Offers"]
    assert offer["Kind"] == "AsApplied" and offer["Status"] == "Available"
    assert offer["Loan"] == LOAN and offer["Quote"]["Amount"] == LOAN["Amount"]
    assert application(http, lender, consent_id)["Offers"][0]["OfferId"] == offer["OfferId"]
    key = str(uuid.uuid4())
    accepted = accept(http, lender, consent_id, offer["OfferId"], key)
    assert accepted.status_code == 201, accepted.json
    loan = (accepted.json or {})["Data"]
    assert loan["Status"] == "Active" and loan["ConsentId"] == consent_id
    assert loan["TotalAmountOfCredit"] == LOAN["Amount"]
    assert loan["Principal"] == {"Amount": "5099.00", "Currency": "GBP"}  # £99 fee added
    assert (accepted.json or {})["Links"]["Self"] == f"{ISSUER}{API}/loans/{loan['LoanId']}"
    # A retry with the same key replays the answer and draws nothing down again.
    again = accept(http, lender, consent_id, offer["OfferId"], key)
    assert again.status_code == 201 and again.get_data() == accepted.get_data()
    other = accept(http, lender, consent_id, offer["OfferId"])
    assert (other.status_code, first_error(other)[0]) == (409, "U029")
    shown = application(http, lender, consent_id)
    assert shown["Offers"][0]["Status"] == "Accepted"
    assert shown["Acceptance"]["LoanId"] == loan["LoanId"]
    listed = call(http, *lender, "GET", "/loans")
    assert [x["LoanId"] for x in (listed.json or {})["Data"]["Loan"]] == [loan["LoanId"]]


def test_conditions_make_one_offer_each(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    consent_id = authorised_application(oauth_app, http, lender)
    lower = {"Kind": "LowerAmount", "Amount": {"Amount": "4000.00", "Currency": "GBP"},
             "Term": 12, "Instalment": {"Amount": "356.00", "Currency": "GBP"}}  # fmt: skip
    longer = lower | {"Kind": "LongerTerm", "Amount": LOAN["Amount"], "Term": 24}
    decide(oauth_app, consent_id, "ApproveWithConditions", [lower, longer])
    offers = application(http, lender, consent_id)["Offers"]
    assert [(o["Kind"], o["Loan"]["Amount"]["Amount"], o["Loan"]["Term"]) for o in offers] == [
        ("LowerAmount", "4000.00", 12), ("LongerTerm", "5000.00", 24)]  # fmt: skip
    assert len(offers[1]["Quote"]["Instalments"]) == 24
    accepted = accept(http, lender, consent_id, offers[1]["OfferId"])
    assert accepted.status_code == 201, accepted.json
    assert (accepted.json or {})["Data"]["Term"] == 24
    statuses = [o["Status"] for o in application(http, lender, consent_id)["Offers"]]
    assert statuses == ["Withdrawn", "Accepted"]


@pytest.mark.parametrize("outcome", ["Refer", "Decline"])
def test_refer_and_decline_offer_nothing(
    oauth_app: Flask, http: FlaskClient, lender: Lender, outcome: str
) -> None:
    consent_id = authorised_application(oauth_app, http, lender)
    decide(oauth_app, consent_id, outcome)
    assert application(http, lender, consent_id)["Offers"] == []
    refused = accept(http, lender, consent_id, "ofr-anything")
    assert (refused.status_code, first_error(refused)[0]) == (400, "U009")


def test_what_cannot_be_accepted(oauth_app: Flask, http: FlaskClient, lender: Lender) -> None:
    waiting = str((apply(http, lender).json or {})["Data"]["ConsentId"])
    refused = accept(http, lender, waiting, "ofr-anything")
    assert (refused.status_code, first_error(refused)[0]) == (400, "U009")  # AWAU
    undecided = authorised_application(oauth_app, http, lender)
    refused = accept(http, lender, undecided, "ofr-anything")
    assert (refused.status_code, first_error(refused)[0]) == (400, "U009")
    decide(oauth_app, undecided, "Approve")
    refused = accept(http, lender, undecided, "ofr-nothing")
    assert first_error(refused) == ("U011", "Data.OfferId")
    unknown = accept(http, lender, "fin-nothing", "ofr-nothing")
    assert (unknown.status_code, first_error(unknown)[0]) == (400, "U011")
    missing = call(http, *lender, "GET", "/loans/loan-nothing")
    assert (missing.status_code, first_error(missing)[0]) == (400, "U011")


def test_an_offer_expires_after_thirty_days_on_the_banks_clock(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    partner, _token = lender
    consent_id = authorised_application(oauth_app, http, lender)
    decided = bank_now(oauth_app, partner.organisation_id) - dt.timedelta(days=30, seconds=1)
    decide(oauth_app, consent_id, "Approve", at=decided)
    [offer] = application(http, lender, consent_id)["Offers"]
    assert offer["Status"] == "Expired"
    refused = accept(http, lender, consent_id, offer["OfferId"])
    assert first_error(refused) == ("U003", "Data.OfferId")


def _drawn(app: Flask, http: FlaskClient, lender: Lender) -> dict[str, Any]:
    consent_id = authorised_application(app, http, lender)
    decide(app, consent_id, "Approve")
    offer_id = application(http, lender, consent_id)["Offers"][0]["OfferId"]
    loan: dict[str, Any] = (accept(http, lender, consent_id, offer_id).json or {})["Data"]
    return loan


def test_the_loan_its_schedule_payments_and_balances(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    loan = _drawn(oauth_app, http, lender)
    path = f"/loans/{loan['LoanId']}"
    read = (call(http, *lender, "GET", path).json or {})["Data"]["Loan"][0]
    assert read == loan
    schedule = (call(http, *lender, "GET", f"{path}/schedule").json or {})["Data"]["Instalment"]
    assert len(schedule) == 12 and {i["Status"] for i in schedule} == {"Scheduled"}
    assert sum(Decimal(i["Principal"]["Amount"]) for i in schedule) == Decimal("5099.00")
    payments = (call(http, *lender, "GET", f"{path}/payments").json or {})["Data"]["Payment"]
    assert [(p["Type"], p["Status"], p["Amount"]["Amount"]) for p in payments] == [
        ("Drawdown", "Booked", "5000.00")]  # fmt: skip
    balances = (call(http, *lender, "GET", f"{path}/balances").json or {})["Data"]["Balance"]
    figures = {b["Type"]: b["Amount"]["Amount"] for b in balances}
    assert figures == {"Outstanding": "5099.00", "PrincipalOutstanding": "5099.00",
                       "Arrears": "0.00", "FeesOutstanding": "0.00"}  # fmt: skip


def test_another_partners_loan_is_unknown(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    loan = _drawn(oauth_app, http, lender)
    other = register_partner(oauth_app, http, roles=("FINANCING",))
    token = str(other.client.client_credentials("financing")["access_token"])
    for suffix in ("", "/schedule", "/payments", "/balances"):
        response = call(http, other, token, "GET", f"/loans/{loan['LoanId']}{suffix}")
        assert (response.status_code, first_error(response)[0]) == (400, "U011")
    assert (call(http, other, token, "GET", "/loans").json or {})["Data"]["Loan"] == []


def test_early_repayment_settles_the_loan(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    partner, token = lender
    loan = _drawn(oauth_app, http, lender)
    path = f"/loans/{loan['LoanId']}/early-repayment"
    headers = partner.client.resource_headers("POST", f"{ISSUER}{API}{path}", token)
    headers["x-idempotency-key"] = str(uuid.uuid4())
    settled = http.post(f"{API}{path}", headers=headers, json={"Data": {}})
    assert settled.status_code == 200, settled.json
    assert (settled.json or {})["Data"]["Loan"][0]["Status"] == "Settled"
    headers = partner.client.resource_headers("POST", f"{ISSUER}{API}{path}", token)
    headers["x-idempotency-key"] = str(uuid.uuid4())
    again = http.post(f"{API}{path}", headers=headers, json={"Data": {}})
    assert (again.status_code, first_error(again)[0]) == (409, "U029")


def test_the_loan_is_an_account_in_account_information(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    partner, _token = lender
    loan = _drawn(oauth_app, http, lender)
    permissions = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail",
                   "ReadTransactionsCredits", "ReadTransactionsDebits"]  # fmt: skip
    consented = authorised(oauth_app, http, permissions, partner, accounts=20)
    _partner, ais_token, shared = consented
    assert loan["AccountId"] in shared
    account = partner.client.get(f"{AIS}/accounts/{loan['AccountId']}", ais_token)
    assert account["Data"]["Account"][0]["AccountTypeCode"] == "LOAN"  # v4.0: AccountSubType Loan
    balances = partner.client.get(f"{AIS}/accounts/{loan['AccountId']}/balances", ais_token)
    booked = [b for b in balances["Data"]["Balance"] if b["Type"] == "ITBD"]
    assert booked and booked[0]["Amount"]["Amount"] == "5099.00"
    assert booked[0]["CreditDebitIndicator"] == "Debit"
    history = partner.client.get(f"{AIS}/accounts/{loan['AccountId']}/transactions", ais_token)
    [drawdown] = history["Data"]["Transaction"]
    assert drawdown["CreditDebitIndicator"] == "Debit"
    assert drawdown["Amount"]["Amount"] == "5099.00"


def _advance(http: FlaskClient, partner: Partner, days: int) -> None:
    sandbox = str(partner.client.client_credentials("sandbox")["access_token"])
    path = "/open-banking/sandbox/v1/clock/advance"
    headers = partner.client.resource_headers("POST", f"{ISSUER}{path}", sandbox)
    assert http.post(path, headers=headers, json={"Data": {"Days": days}}).status_code == 200


def test_instalments_fall_due_on_the_banks_clock_and_the_loan_book_shows_them(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    partner, _token = lender
    loan = _drawn(oauth_app, http, lender)
    path = f"/loans/{loan['LoanId']}"
    _advance(http, partner, 32)
    first = (call(http, *lender, "GET", f"{path}/schedule").json or {})["Data"]["Instalment"][0]
    assert first["Status"] in ("Paid", "Overdue")
    payments = (call(http, *lender, "GET", f"{path}/payments").json or {})["Data"]["Payment"]
    assert [p["Type"] for p in payments][:2] == ["Drawdown", "Instalment"]
    book = oauth_app.test_cli_runner().invoke(
        args=["ops", "loan-book", "--tenant", partner.organisation_id]
    )
    assert book.exit_code == 0, book.output
    lines = book.output.splitlines()
    assert lines[0].startswith("GBP active 1 settled 0 outstanding ")
    assert len(lines) == 5 and lines[4].startswith("GBP arrears   90+ days: 0 loans")


def test_the_example_client_borrows(
    oauth_app: Flask, http: FlaskClient, lender: Lender, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The example client's ``borrow`` flow, the customer's browser and the decision played by
    the test: quote, application, offers, acceptance, schedule."""
    from partners import example_client

    partner, _token = lender

    def in_browser(
        client: example_client.PartnerClient, consent_id: str, scope: str, step: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        assert scope == "financing"
        customer_answers(oauth_app, partner, consent_id)
        decide(oauth_app, consent_id, "Approve")
        return {}, {}

    monkeypatch.setattr(example_client, "_authorised_in_browser", in_browser)
    loan = example_client.borrow(partner.client, "personal-loan", "5000.00", 24)
    assert loan is not None and loan["Term"] == 24 and loan["Status"] == "Active"
    printed = capsys.readouterr().out
    assert "4. decision" in printed and f"loan {loan['LoanId']}" in printed
    listed = call(http, *lender, "GET", "/loans")
    assert [x["LoanId"] for x in (listed.json or {})["Data"]["Loan"]] == [loan["LoanId"]]


def test_the_example_client_stops_when_nothing_is_offered(
    oauth_app: Flask, lender: Lender, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from partners import example_client

    partner, _token = lender

    def in_browser(
        client: example_client.PartnerClient, consent_id: str, scope: str, step: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        customer_answers(oauth_app, partner, consent_id)
        decide(oauth_app, consent_id, "Decline")
        return {}, {}

    monkeypatch.setattr(example_client, "_authorised_in_browser", in_browser)
    assert example_client.borrow(partner.client, "personal-loan", "5000.00", 12) is None


def test_the_load_journeys_accept_step(oauth_app: Flask, http: FlaskClient, lender: Lender) -> None:
    """``loadtests/loan_acceptance.py``, driven with the example client as locust drives it."""
    from loadtests.loan_acceptance import accept_offer

    partner, token = lender
    declined = authorised_application(oauth_app, http, lender)
    decide(oauth_app, declined, "Decline")
    assert accept_offer(partner.client, token, declined) is None
    consent_id = authorised_application(oauth_app, http, lender)
    decide(oauth_app, consent_id, "Approve")
    loan_id = accept_offer(partner.client, token, consent_id)
    assert loan_id is not None
    assert application(http, lender, consent_id)["Acceptance"]["LoanId"] == loan_id


def test_the_guides_loan_snippet_runs_as_printed(
    oauth_app: Flask, http: FlaskClient, lender: Lender
) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "getting-started.md").read_text()
    section = guide.split("Once the bank has decided", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    partner, token = lender
    consent_id = authorised_application(oauth_app, http, lender)
    decide(oauth_app, consent_id, "Approve")
    scope: dict[str, Any] = {"client": partner.client, "token": token, "consent_id": consent_id}
    exec(snippet, scope)  # noqa: S102 - the guide's code
    assert scope["loan"]["Status"] == "Active"
    assert len(scope["schedule"]["Data"]["Instalment"]) == 12
