"""Loan applications (``/open-banking/financing/v1/loan-applications``): a partner applies for a
priced loan on a customer's behalf; the customer sees the loan, its APR and its schedule on the
bank's consent page and authorises it on the account the loan is paid into, whose history the
decision reads. Every response is checked against the published document."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from gateway.consents.models import Consent
from gateway.oauth.models import AuthorizationCode
from gateway.store.database import Database
from sandbox.core import SandboxCore
from tests.common.clock import bank_now
from tests.common.oauth import (
    CSRF,
    ISSUER,
    Partner,
    approve_in_browser,
    register_partner,
    sandbox_login,
)

API = "/open-banking/financing/v1"
ACCOUNT = re.compile(r'name="account" value="([^"]+)"')
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


def test_authorising_decides_the_application(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    """The bank decides as the customer authorises, in the same unit of work; the consent keeps
    the decision and the API shows it as ``Data.Decision``."""
    partner, token = lender
    created = (apply(http, lender).json or {})["Data"]
    assert "Decision" not in created
    customer_answers(oauth_app, partner, created["ConsentId"])
    now = bank_now(oauth_app, partner.organisation_id)
    data = (call(http, partner, token, "GET", f"/loan-applications/{created['ConsentId']}").json
            or {})["Data"]  # fmt: skip
    decision = data["Decision"]
    assert decision["Outcome"] in {"Approve", "ApproveWithConditions", "Refer", "Decline"}
    decided_at = dt.datetime.fromisoformat(decision["DecisionDateTime"])
    assert decided_at.utcoffset() == dt.timedelta(0)
    assert abs(decided_at - now) < dt.timedelta(minutes=5)
    assert decision["Reasons"] and all(r["Code"] and r["Text"] for r in decision["Reasons"])
    assert bool(decision["Conditions"]) == (decision["Outcome"] == "ApproveWithConditions")
    database: Database = oauth_app.extensions["database"]
    with database.sessions() as session:
        consent = session.get_one(Consent, created["ConsentId"])
        assert consent.data["Decision"] == decision
        assert consent.data["Loan"] == created["Loan"]


def test_a_bank_that_cannot_decide_fails_the_authorisation(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A store outage while deciding: the customer is told the bank cannot answer, and the
    application is as it was (awaiting authorisation, undecided, no code issued)."""
    partner, token = lender
    consent_id = (apply(http, lender).json or {})["Data"]["ConsentId"]

    def outage(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(SandboxCore, "decide", outage)
    request_uri, _verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="financing"
    )
    browser = oauth_app.test_client()
    page = browser.get(partner.client.authorization_url(request_uri))
    username, password = sandbox_login(oauth_app, partner.organisation_id)
    login = browser.post("/authorize/login", data={
        "csrf_token": _csrf(page), "username": username, "password": password})  # fmt: skip
    consent_page = browser.get(login.headers["Location"])
    account = ACCOUNT.search(consent_page.get_data(as_text=True))
    assert account is not None
    form = {"csrf_token": _csrf(consent_page), "decision": "approve", "account": account.group(1)}
    answer = browser.post("/authorize/consent", data=form)
    assert answer.status_code == 503
    assert "Location" not in answer.headers
    data = (call(http, partner, token, "GET", f"/loan-applications/{consent_id}").json
            or {})["Data"]  # fmt: skip
    assert data["Status"] == "AWAU" and "Decision" not in data
    database: Database = oauth_app.extensions["database"]
    with database.sessions() as session:
        consent = session.get_one(Consent, consent_id)
        assert consent.account_ids in (None, []) and "Decision" not in consent.data
        assert session.scalar(select(func.count()).select_from(AuthorizationCode).where(
            AuthorizationCode.consent_id == consent_id)) == 0  # fmt: skip


def _csrf(page: TestResponse) -> str:
    found = CSRF.search(page.get_data(as_text=True))
    assert found is not None
    return found.group(1)


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
