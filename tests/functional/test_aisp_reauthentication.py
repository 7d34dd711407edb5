"""The customer's side of an account-access consent: the consent page says what the consent
shares, in plain words; and re-authentication (OBIE AIS v4.0 Account and Transaction API
Profile, "Consent Re-authentication"): a customer renews an authorised, unexpired consent under
the same ConsentId instead of the partner creating a duplicate. Only that customer may, and a
consent in any other state cannot be authorised again."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.store.database import Database
from sandbox.models import Customer
from tests.common.ais import AIS
from tests.common.oauth import CSRF, Partner, approve_in_browser, register_partner

EVERYTHING = ["ReadAccountsDetail", "ReadBalances"]
CHECKED = re.compile(r'name="account" value="([^"]+)" checked')
CHECKED_OR_NOT = re.compile(r'name="account" value="([^"]+)"')


def customer_login(app: Flask, tenant: str, index: int) -> tuple[str, str]:
    """The username and password of the tenant's ``index``-th test customer."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        found = session.scalars(
            select(Customer).where(Customer.tenant_id == tenant).order_by(Customer.pk)
        ).all()
        return found[index].username, found[index].password


def sign_in(app: Flask, partner: Partner, consent_id: str, index: int = 0) -> tuple[Any, FlaskClient, str]:  # fmt: skip  # noqa: E501
    """Push an authorization request for ``consent_id`` and sign in as the ``index``-th customer;
    return the login response, the browser, and the PKCE verifier."""
    request_uri, verifier, _state = partner.client.push_authorization_request(consent_id)
    browser = app.test_client()
    page = browser.get(partner.client.authorization_url(request_uri))
    assert page.status_code == 200, page.get_data(as_text=True)
    csrf = CSRF.search(page.get_data(as_text=True))
    assert csrf is not None
    username, password = customer_login(app, partner.organisation_id, index)
    login = browser.post(
        "/authorize/login",
        data={"csrf_token": csrf.group(1), "username": username, "password": password},
    )
    return login, browser, verifier


def decide(browser: FlaskClient, login: Any, decision: str, accounts: list[str]) -> dict[str, str]:
    """On the consent page after ``login``: submit ``decision`` with ``accounts`` picked."""
    html = browser.get(login.headers["Location"]).get_data(as_text=True)
    csrf = CSRF.search(html)
    assert csrf is not None
    answer = browser.post(
        "/authorize/consent",
        data={"csrf_token": csrf.group(1), "decision": decision, "account": accounts},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


@pytest.fixture
def authorised_consent(oauth_app: Flask, http: FlaskClient) -> tuple[Partner, str, dict[str, Any]]:
    """A partner, its consent authorised on three accounts, and the tokens it got for it."""
    partner = register_partner(oauth_app, http, roles=("AISP",))
    consent_id = partner.client.create_account_access_consent(EVERYTHING)["Data"]["ConsentId"]
    request_uri, verifier, _state = partner.client.push_authorization_request(consent_id)
    answer = approve_in_browser(
        oauth_app, oauth_app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id, accounts=3,
    )  # fmt: skip
    return partner, consent_id, partner.client.exchange_code(answer["code"], verifier)


def consent(partner: Partner, consent_id: str) -> dict[str, Any]:
    token = partner.client.client_credentials("accounts")["access_token"]
    data: dict[str, Any] = partner.client.get(f"{AIS}/account-access-consents/{consent_id}", token)[
        "Data"
    ]
    return data


def account_ids(partner: Partner, token: str) -> list[str]:
    return [a["AccountId"] for a in partner.client.get(f"{AIS}/accounts", token)["Data"]["Account"]]


def test_the_consent_page_says_what_the_consent_shares(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP",))
    created = partner.client.create_account_access_consent(
        ["ReadAccountsBasic", "ReadTransactionsBasic", "ReadTransactionsCredits"],
        "2099-03-05T00:00:00+00:00",
        transaction_from="2025-01-01T00:00:00+00:00",
    )
    login, browser, _verifier = sign_in(oauth_app, partner, created["Data"]["ConsentId"])
    page = browser.get(login.headers["Location"]).get_data(as_text=True)
    assert "Your account names and types, without their numbers" in page
    assert "Money coming into your accounts, without details such as who paid you" in page
    assert "Transactions from 1 January 2025 onwards" in page
    assert "Until 5 March 2099." in page
    # Nothing it does not ask for, and no permission codes.
    assert "balance" not in page.lower() and "statements" not in page.lower()
    assert "ReadAccountsBasic" not in page


def test_the_customer_renews_the_consent_under_its_id(
    oauth_app: Flask, authorised_consent: tuple[Partner, str, dict[str, Any]]
) -> None:
    partner, consent_id, first = authorised_consent
    before = consent(partner, consent_id)
    shared = account_ids(partner, first["access_token"])
    assert before["Status"] == "AUTH" and len(shared) == 3
    login, browser, verifier = sign_in(oauth_app, partner, consent_id)
    assert login.status_code == 303, login.get_data(as_text=True)
    # The page says it renews, with the accounts shared so far ticked; one is kept this time.
    page = browser.get(login.headers["Location"]).get_data(as_text=True)
    assert "permission before: approve to renew it" in page
    assert sorted(CHECKED.findall(page)) == sorted(shared)
    answer = decide(browser, login, "approve", shared[:1])
    renewed = partner.client.exchange_code(answer["code"], verifier)
    assert renewed["consent_id"] == consent_id
    assert account_ids(partner, renewed["access_token"]) == shared[:1]
    # Same consent, still authorised since the first approval; the earlier token reads what the
    # consent covers now.
    after = consent(partner, consent_id)
    assert after["Status"] == "AUTH"
    assert after["StatusUpdateDateTime"] == before["StatusUpdateDateTime"]
    assert account_ids(partner, first["access_token"]) == shared[:1]


def test_only_the_customer_who_gave_it_can_renew_it(
    oauth_app: Flask, authorised_consent: tuple[Partner, str, dict[str, Any]]
) -> None:
    partner, consent_id, first = authorised_consent
    login, _browser, _verifier = sign_in(oauth_app, partner, consent_id, index=1)
    assert login.status_code == 401
    assert "Sign in as the customer who gave this permission." in login.get_data(as_text=True)
    assert len(account_ids(partner, first["access_token"])) == 3


def test_declining_to_renew_leaves_the_consent_as_it_was(
    oauth_app: Flask, authorised_consent: tuple[Partner, str, dict[str, Any]]
) -> None:
    partner, consent_id, first = authorised_consent
    login, browser, _verifier = sign_in(oauth_app, partner, consent_id)
    answer = decide(browser, login, "deny", [])
    assert answer["error"] == "access_denied" and "code" not in answer
    assert consent(partner, consent_id)["Status"] == "AUTH"
    assert len(account_ids(partner, first["access_token"])) == 3


def test_a_revoked_consent_cannot_be_renewed(
    oauth_app: Flask, authorised_consent: tuple[Partner, str, dict[str, Any]]
) -> None:
    from partners.example_client import GatewayError

    partner, consent_id, first = authorised_consent
    token = partner.client.client_credentials("accounts")["access_token"]
    # DELETE cancels the consent and revokes its tokens; deleting it again changes nothing.
    for _ in range(2):
        partner.client.delete(f"{AIS}/account-access-consents/{consent_id}", token)
    assert consent(partner, consent_id)["Status"] == "CANC"
    with pytest.raises(GatewayError) as refused:
        account_ids(partner, first["access_token"])
    assert refused.value.status == 401
    request_uri, _verifier, _state = partner.client.push_authorization_request(consent_id)
    page = oauth_app.test_client().get(partner.client.authorization_url(request_uri))
    assert page.status_code == 303
    answer = dict(parse_qsl(urlsplit(page.headers["Location"]).query))
    assert answer["error_description"] == "the consent is CANC, not awaiting authorisation"


def test_customers_signed_in_on_one_consent(oauth_app: Flask, http: FlaskClient) -> None:
    # Three sign in while it awaits authorisation and the first approves: the second's approval
    # and the third's next look at the page are refused (to the partner, as an error), not
    # taken for a renewal by the wrong customer.
    partner = register_partner(oauth_app, http, roles=("AISP",))
    consent_id = partner.client.create_account_access_consent(EVERYTHING)["Data"]["ConsentId"]
    pages = []
    for index in (0, 1, 2):
        login, browser, verifier = sign_in(oauth_app, partner, consent_id, index=index)
        html = browser.get(login.headers["Location"]).get_data(as_text=True)
        csrf = CSRF.search(html)
        assert csrf is not None
        pages.append((browser, csrf.group(1), CHECKED_OR_NOT.findall(html)[:1], verifier))
    answers = []
    for browser, csrf, accounts, _verifier in pages[:2]:
        form = {"csrf_token": csrf, "decision": "approve", "account": accounts}
        answer = browser.post("/authorize/consent", data=form)
        assert answer.status_code == 303, answer.get_data(as_text=True)
        answers.append(dict(parse_qsl(urlsplit(answer.headers["Location"]).query)))
    assert "code" in answers[0]
    assert answers[1]["error"] == "invalid_request"
    assert answers[1]["error_description"] == "the consent was authorised by another customer"
    third = pages[2][0].get("/authorize/consent")
    assert third.status_code == 303
    assert dict(parse_qsl(urlsplit(third.headers["Location"]).query))["error_description"] == (
        "the consent was authorised by another customer"
    )
    tokens = partner.client.exchange_code(answers[0]["code"], pages[0][3])
    assert account_ids(partner, tokens["access_token"]) == pages[0][2]
