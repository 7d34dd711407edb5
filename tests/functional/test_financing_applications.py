"""Loan applications (``/open-banking/financing/v1/loan-applications``): a partner applies for a
priced loan on a customer's behalf; the customer sees the loan, its APR and its schedule on the
bank's consent page and authorises it on the account the loan is paid into, whose history the
decision reads. Every response is checked against the published document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.consents import financing
from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.core.lending import QuoteRequest
from gateway.store.database import Database
from tests.common.clock import bank_now
from tests.common.oauth import ISSUER, Partner, approve_in_browser, register_partner

API = "/open-banking/financing/v1"
LOAN = {"ProductId": "personal-loan", "Amount": {"Amount": "5000.00", "Currency": "GBP"},
        "Term": 12}  # fmt: skip


def call(
    http: FlaskClient, partner: Partner, token: str, method: str, path: str, body: Any = None
) -> TestResponse:
    headers = partner.client.resource_headers(method, f"{ISSUER}{API}{path}", token)
    return http.open(f"{API}{path}", method=method, headers=headers, json=body)


@pytest.fixture
def lender(oauth_app: Flask, http: FlaskClient) -> tuple[Partner, str]:
    partner = register_partner(oauth_app, http, roles=("FINANCING",))
    return partner, str(partner.client.client_credentials("financing")["access_token"])


def apply(http: FlaskClient, lender: tuple[Partner, str], **data: Any) -> TestResponse:
    return call(http, *lender, "POST", "/loan-applications", {"Data": {"Loan": LOAN} | data})


def first_error(response: TestResponse) -> tuple[str, str | None]:
    error = (response.json or {})["Errors"][0]
    return error["ErrorCode"], error.get("Path")


def customer_answers(
    oauth_app: Flask, partner: Partner, consent_id: str, decision: str = "approve"
) -> tuple[dict[str, str], str]:
    """The customer signs in and answers on the consent page; return the redirect's parameters
    and the page they saw."""
    request_uri, _verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="financing"
    )
    browser = oauth_app.test_client()
    seen: list[str] = []
    original = browser.open

    def keep(*args: Any, **kwargs: Any) -> TestResponse:
        response = original(*args, **kwargs)
        if response.request.path == "/authorize/consent" and response.request.method == "GET":
            seen.append(response.get_data(as_text=True))
        return response

    browser.open = keep  # type: ignore[method-assign]
    answer = approve_in_browser(oauth_app, browser, partner.client.authorization_url(request_uri),
                                partner.organisation_id, decision=decision)  # fmt: skip
    return answer, seen[0]


def test_an_application_awaits_the_customer(http: FlaskClient, lender: tuple[Partner, str]) -> None:
    response = apply(http, lender, ExpirationDateTime="2099-01-01T00:00:00+00:00")
    assert response.status_code == 201, response.json
    body = response.json or {}
    data = body["Data"]
    assert data["ConsentId"].startswith("fin-") and data["Status"] == "AWAU"
    assert data["Loan"] == LOAN
    assert data["Quote"]["APR"] and len(data["Quote"]["Instalments"]) == 12
    assert body["Links"]["Self"] == f"{ISSUER}{API}/loan-applications/{data['ConsentId']}"
    again = call(http, *lender, "GET", f"/loan-applications/{data['ConsentId']}")
    assert again.status_code == 200
    assert (again.json or {})["Data"] == data


def test_the_customer_sees_the_loan_and_authorises_it(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    partner, token = lender
    data = (apply(http, lender).json or {})["Data"]
    answer, page = customer_answers(oauth_app, partner, data["ConsentId"])
    assert "code" in answer, answer
    quote = data["Quote"]
    assert f"APR {quote['APR']}%" in page
    assert 'id="loan-schedule"' in page and page.count("<tr><td>") == 12
    assert "Choose the account the loan is paid into" in page
    assert "transaction history" in page
    status = call(http, partner, token, "GET", f"/loan-applications/{data['ConsentId']}")
    assert (status.json or {})["Data"]["Status"] == "AUTH"


def test_the_customer_declines(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    partner, token = lender
    data = (apply(http, lender).json or {})["Data"]
    answer, _page = customer_answers(oauth_app, partner, data["ConsentId"], decision="deny")
    assert answer["error"] == "access_denied"
    status = call(http, partner, token, "GET", f"/loan-applications/{data['ConsentId']}")
    assert (status.json or {})["Data"]["Status"] == "RJCT"


def test_the_decision_reads_the_applicants_own_transactions(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    """The seam the decision engine plugs into: a function of the transactions of the account
    the customer chose and the requested loan."""
    partner, _token = lender
    consent_id = (apply(http, lender).json or {})["Data"]["ConsentId"]
    customer_answers(oauth_app, partner, consent_id)
    asked: list[tuple[Sequence[Any], QuoteRequest]] = []

    def engine(transactions: Sequence[Any], request: QuoteRequest) -> str:
        asked.append((transactions, request))
        return "refer"

    database: Database = oauth_app.extensions["database"]
    with database.sessions() as session:
        consent = session.get_one(Consent, consent_id)
        bank: BankCore = oauth_app.extensions["bank_core"](session)
        now = bank.now(partner.organisation_id)
        assert financing.decide(engine, bank, consent, now) == "refer"
    [(transactions, request)] = asked
    assert request == QuoteRequest("personal-loan", Decimal("5000.00"), "GBP", 12)
    assert transactions
    assert all(t.account_id == consent.account_ids[0] for t in transactions)
    assert all(t.booking_datetime >= now - financing.HISTORY for t in transactions)


def test_an_application_lapses_on_the_banks_clock(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    partner, token = lender
    now = bank_now(oauth_app, partner.organisation_id)
    expiry = (now + dt.timedelta(days=2)).isoformat(timespec="seconds")
    consent_id = (apply(http, lender, ExpirationDateTime=expiry).json or {})["Data"]["ConsentId"]
    sandbox = str(partner.client.client_credentials("sandbox")["access_token"])
    path = "/open-banking/sandbox/v1/clock/advance"
    headers = partner.client.resource_headers("POST", f"{ISSUER}{path}", sandbox)
    assert http.post(path, headers=headers, json={"Data": {"Days": 3}}).status_code == 200
    status = call(http, partner, token, "GET", f"/loan-applications/{consent_id}")
    assert (status.json or {})["Data"]["Status"] == "EXPD"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"Loan": LOAN | {"Term": 99}}, ("U002", "Data.Loan.Term")),
        ({"Loan": LOAN | {"ProductId": "mortgage"}}, ("U011", "Data.Loan.ProductId")),
        ({"ExpirationDateTime": "2000-01-01T00:00:00+00:00"}, ("U002", "Data.ExpirationDateTime")),
        ({"Loan": {"ProductId": "personal-loan"}}, ("U004", "Data.Loan.Amount")),
        ({"Colour": "blue"}, ("U005", "Data.Colour")),
    ],
)
def test_what_cannot_be_applied_for(
    http: FlaskClient, lender: tuple[Partner, str], data: dict[str, Any],
    expected: tuple[str, str],
) -> None:  # fmt: skip
    response = apply(http, lender, **data)
    assert response.status_code == 400, response.json
    assert first_error(response) == expected


def test_another_partners_application_is_unknown(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    consent_id = (apply(http, lender).json or {})["Data"]["ConsentId"]
    other = register_partner(oauth_app, http, roles=("FINANCING",))
    token = str(other.client.client_credentials("financing")["access_token"])
    response = call(http, other, token, "GET", f"/loan-applications/{consent_id}")
    assert response.status_code == 400
    assert first_error(response)[0] == "U011"
    unknown = call(http, *lender, "GET", "/loan-applications/fin-nothing")
    assert (unknown.status_code, first_error(unknown)[0]) == (400, "U011")
