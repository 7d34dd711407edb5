"""The customer's consent page: what it says (account kinds in words, who is signed in, that
several accounts may be shared), and how a reload or the back button behaves (RFC 9126 §4 one-time
request_uri, RFC 6749 §4.1.2.1 and RFC 9207 error responses)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.consents.wording import ACCOUNT_KINDS, account_kind
from gateway.oauth.consent_ui import ANSWERED
from sandbox.models import Customer
from tests.common.fapi import Code, authorize_url, exchange
from tests.common.oauth import (
    CSRF,
    ISSUER,
    REDIRECT_URI,
    Partner,
    create_consent,
    register_partner,
    sandbox_login,
)
from tests.common.pisp import consent_body, staged

_ACCOUNT = re.compile(r'name="account" value="([^"]+)"')


def _csrf(response: TestResponse) -> str:
    found = CSRF.search(response.get_data(as_text=True))
    assert found is not None, response.get_data(as_text=True)
    return found.group(1)


def _sign_in(app: Flask, browser: FlaskClient, page: TestResponse, tenant: str) -> TestResponse:
    """Sign in on the sign-in page ``page``; the answer (a 303 to the consent page)."""
    username, password = sandbox_login(app, tenant)
    data = {"csrf_token": _csrf(page), "username": username, "password": password}
    answer = browser.post("/authorize/login", data=data)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer


def _customer_name(app: Flask, tenant: str) -> str:
    username, _password = sandbox_login(app, tenant)
    with app.extensions["database"].sessions() as session:
        query = select(Customer.name).where(Customer.username == username)
        return str(session.scalars(query).one())


def _answer(response: TestResponse) -> dict[str, str]:
    """The authorization response's parameters, after checking it goes to the client."""
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return dict(parse_qsl(urlsplit(location).query))


def _approve(browser: FlaskClient, consent_page: TestResponse) -> dict[str, str]:
    html = consent_page.get_data(as_text=True)
    picked = _ACCOUNT.findall(html)[:1]
    data = {"csrf_token": _csrf(consent_page), "decision": "approve", "account": picked}
    return _answer(browser.post("/authorize/consent", data=data))


@pytest.fixture
def started(oauth_app: Flask, partner: Partner) -> tuple[str, str, str]:
    """A pushed request for a new account-access consent: its authorize URL, state, verifier and
    consent id are what a partner holds."""
    consent_id = create_consent(oauth_app, partner)
    request_uri, verifier, state = partner.client.push_authorization_request(consent_id)
    return authorize_url(partner, request_uri), state, f"{verifier} {consent_id}"


# -- what the page says -----------------------------------------------------------------------


def test_account_kinds_are_words_not_obie_codes() -> None:
    assert account_kind("CurrentAccount") == "Current account"
    assert account_kind("CreditCard") == "Credit card"
    assert account_kind("Savings") == "Savings account"
    assert account_kind("Loan") == "Loan"
    assert account_kind("PrePaidCard") == "Prepaid card"
    # A code added to the standard later is still spelt in words.
    assert account_kind("BuyNowPayLater") == "Buy now pay later"
    assert all(" " in label or label.isalpha() for label in ACCOUNT_KINDS.values())


def test_the_page_names_the_customer_and_the_kinds_of_account_and_says_several_may_be_shared(
    oauth_app: Flask, partner: Partner, started: tuple[str, str, str]
) -> None:
    url, _state, _held = started
    browser = oauth_app.test_client()
    login = _sign_in(oauth_app, browser, browser.get(url), partner.organisation_id)
    html = browser.get(login.headers["Location"]).get_data(as_text=True)
    name = _customer_name(oauth_app, partner.organisation_id)
    # As the page writes it: HTML-escaped (O'Neill is O&#39;Neill).
    assert f"Signed in as <strong>{escape(name)}</strong>" in html
    choices = re.findall(r'<label class="choice">(.*?)</label>', html, re.S)
    assert choices and 'type="checkbox"' in choices[0]
    assert any("Current account" in choice for choice in choices)
    for code in ("CurrentAccount", "CreditCard", "Savings ·"):
        assert not any(code in choice for choice in choices), code
    assert "You can choose more than one" in html


def test_sharing_no_account_asks_for_at_least_one(
    oauth_app: Flask, partner: Partner, started: tuple[str, str, str]
) -> None:
    url, _state, _held = started
    browser = oauth_app.test_client()
    login = _sign_in(oauth_app, browser, browser.get(url), partner.organisation_id)
    page = browser.get(login.headers["Location"])
    refused = browser.post(
        "/authorize/consent", data={"csrf_token": _csrf(page), "decision": "approve"}
    )
    assert refused.status_code == 400
    assert "Choose at least one account." in refused.get_data(as_text=True)


def test_a_payment_consent_asks_for_one_account(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http, roles=("PISP",))
    consent_id = staged(partner, consent_body("10.50"))["Data"]["ConsentId"]
    request_uri, _verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="payments"
    )
    browser = oauth_app.test_client()
    page = browser.get(authorize_url(partner, request_uri))
    login = _sign_in(oauth_app, browser, page, partner.organisation_id)
    html = browser.get(login.headers["Location"]).get_data(as_text=True)
    assert "Choose the account to pay from" in html and "more than one" not in html
    assert 'type="radio"' in html and 'type="checkbox"' not in html
    # What the customer approves, in words: payee, amount, account, reference.
    assert "Pay £10.50 to ACME Inc" in html and "sort code 08-08-00, account 21325698" in html
    assert "Reference: FRESCO-101" in html


# -- reloads and the back button ----------------------------------------------------------------


def test_a_reload_before_signing_in_shows_the_sign_in_page_again(
    oauth_app: Flask, partner: Partner, started: tuple[str, str, str]
) -> None:
    url, state, _held = started
    browser = oauth_app.test_client()
    assert browser.get(url).status_code == 200
    again = browser.get(url)
    assert again.status_code == 200, again.get_data(as_text=True)
    assert "Sign in to Sandbox Bank" in again.get_data(as_text=True)
    # The authorization goes on from the reloaded page.
    login = _sign_in(oauth_app, browser, again, partner.organisation_id)
    answer = _approve(browser, browser.get(login.headers["Location"]))
    assert answer["state"] == state and answer["code"].startswith("obc_")


def test_a_reload_after_signing_in_goes_back_to_the_consent_page_and_the_code_works(
    oauth_app: Flask, http: FlaskClient, partner: Partner, started: tuple[str, str, str]
) -> None:
    url, state, held = started
    browser = oauth_app.test_client()
    login = _sign_in(oauth_app, browser, browser.get(url), partner.organisation_id)
    # The back button (or a reload) from the consent page asks /authorize again.
    resumed = browser.get(url)
    assert resumed.status_code == 303
    assert resumed.headers["Location"] == login.headers["Location"]
    answer = _approve(browser, browser.get(resumed.headers["Location"]))
    assert answer["state"] == state and answer["iss"] == ISSUER
    verifier, consent_id = held.split()
    tokens = exchange(http, partner, Code(answer["code"], verifier, consent_id))
    assert tokens.status_code == 200, tokens.json


def test_another_browser_cannot_use_the_request_uri_again(
    oauth_app: Flask, partner: Partner, started: tuple[str, str, str]
) -> None:
    """RFC 9126 §4: one-time use; only the session that redeemed it carries on."""
    url, _state, _held = started
    customer = oauth_app.test_client()
    login = _sign_in(oauth_app, customer, customer.get(url), partner.organisation_id)
    for stranger in (oauth_app.test_client(), oauth_app.test_client()):
        refused = stranger.get(url)
        assert refused.status_code == 400 and "Location" not in refused.headers
        assert "used already" in refused.get_data(as_text=True)
    # The customer's own session is unaffected.
    assert customer.get(login.headers["Location"]).status_code == 200


def test_back_after_answering_returns_to_the_client_with_an_error_and_iss(
    oauth_app: Flask, http: FlaskClient, partner: Partner, started: tuple[str, str, str]
) -> None:
    """RFC 6749 §4.1.2.1 and RFC 9207 §2: coming back to an answered authorization (the back
    button from the partner's page) sends the customer back with an error, not to a dead end;
    the code already sent still works."""
    url, state, held = started
    browser = oauth_app.test_client()
    login = _sign_in(oauth_app, browser, browser.get(url), partner.organisation_id)
    consent_page = login.headers["Location"]
    page = browser.get(consent_page)
    answer = _approve(browser, page)
    for back in (consent_page, url):
        error = _answer(browser.get(back))
        assert error == {
            "error": "invalid_request",
            "error_description": ANSWERED,
            "state": state,
            "iss": ISSUER,
        }
    # The form sent again from the history is answered the same way, and issues nothing.
    again = {"csrf_token": _csrf(page), "decision": "approve", "account": "any"}
    assert _answer(browser.post("/authorize/consent", data=again))["error"] == "invalid_request"
    verifier, consent_id = held.split()
    tokens = exchange(http, partner, Code(answer["code"], verifier, consent_id))
    assert tokens.status_code == 200, tokens.json


def test_a_session_that_never_started_it_gets_no_redirect(oauth_app: Flask) -> None:
    stranger = oauth_app.test_client()
    page = stranger.get("/authorize/consent")
    assert page.status_code == 400 and "Location" not in page.headers
    assert "expired" in page.get_data(as_text=True)
