"""The customer's page for a funds-confirmation consent: who asks, about which account, until
when; what happens when the account is not the customer's; and the scopes and intent binding
that lead there (client credentials, PAR with ``fundsconfirmations``, re-authentication)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.test import TestResponse

from gateway.consents.wording import account_kind, plain_date
from gateway.oauth.consent_ui import NOT_THEIR_ACCOUNT
from tests.common.cbpii import (
    CONSENTS,
    authorised,
    cbpii_partner,
    customer_accounts,
    debtor,
    refusal,
)
from tests.common.clock import bank_now
from tests.common.fapi import (
    PAR_URL,
    assert_dcr_error,
    authenticated,
    authorize_url,
    error_of,
    issue_software,
    par_params,
    post,
    registration_request,
    send_registration,
)
from tests.common.oauth import (
    CSRF,
    ISSUER,
    REDIRECT_URI,
    Partner,
    PartnerClient,
    flask_transport,
    register_partner,
    sandbox_login,
)


def _consent(partner: Partner, named: dict[str, str], expiry: str | None = None) -> str:
    created = partner.client.create_funds_confirmation_consent(named, expiry)
    return str(created["Data"]["ConsentId"])


def _signed_in(app: Flask, partner: Partner, consent_id: str) -> tuple[FlaskClient, TestResponse]:
    """A browser signed in as the first test customer on the consent's page."""
    request_uri, _verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="fundsconfirmations"
    )
    browser = app.test_client()
    page = browser.get(authorize_url(partner, request_uri))
    username, password = sandbox_login(app, partner.organisation_id)
    found = CSRF.search(page.get_data(as_text=True))
    assert found is not None
    login = browser.post(
        "/authorize/login",
        data={"csrf_token": found.group(1), "username": username, "password": password},
    )
    assert login.status_code == 303, login.get_data(as_text=True)
    return browser, browser.get(login.headers["Location"])


def _answer(browser: FlaskClient, page: TestResponse, decision: str) -> dict[str, str]:
    found = CSRF.search(page.get_data(as_text=True))
    assert found is not None
    answer = browser.post(
        "/authorize/consent", data={"csrf_token": found.group(1), "decision": decision}
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"].startswith(REDIRECT_URI + "?")
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def _status(partner: Partner, consent_id: str) -> str:
    token = partner.client.client_credentials("fundsconfirmations")["access_token"]
    return str(partner.client.get(f"{CONSENTS}/{consent_id}", token)["Data"]["Status"])


def _text(page: TestResponse) -> str:
    """The page's words, tags and runs of white space aside."""
    return " ".join(re.sub(r"<[^>]+>", "", page.get_data(as_text=True)).split())


def test_the_page_says_who_asks_for_which_account_until_when(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = cbpii_partner(oauth_app, http)
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    expiry = bank_now(oauth_app, partner.organisation_id) + dt.timedelta(days=30)
    consent_id = _consent(partner, debtor(account), expiry.isoformat())
    _browser, page = _signed_in(oauth_app, partner, consent_id)
    assert page.status_code == 200
    words = _text(page)
    ending = debtor(account)["Identification"][-4:]
    who = "Test App, run by Test Partner Ltd, wants to check whether you have enough money"
    assert who in words
    kind = account_kind(account.account_subtype)
    assert f"{escape(account.nickname)} · {kind} · {account.currency} ending {ending}" in words
    assert f"Until {plain_date(expiry)}." in words
    assert "only ever told yes or no: not your balance" in words
    # Nothing to choose: the consent is for the account it names, agreed or declined whole.
    assert 'name="account"' not in page.get_data(as_text=True)
    assert 'value="approve"' in page.get_data(as_text=True)


def test_an_open_ended_consent_says_it_has_no_end_date(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    _browser, page = _signed_in(oauth_app, partner, _consent(partner, debtor(account)))
    assert "With no end date: until you or Test App withdraw this permission." in _text(page)


def test_an_iban_written_in_groups_names_the_same_account(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = cbpii_partner(oauth_app, http)
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    iban = debtor(account, "UK.OBIE.IBAN")["Identification"]
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    named = {"SchemeName": "UK.OBIE.IBAN", "Identification": grouped}
    browser, page = _signed_in(oauth_app, partner, _consent(partner, named))
    assert 'id="funds-account"' in page.get_data(as_text=True)
    assert "code" in _answer(browser, page, "approve")


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_an_account_that_is_not_the_customers_cannot_be_agreed_to(
    oauth_app: Flask, http: FlaskClient, decision: str
) -> None:
    partner = cbpii_partner(oauth_app, http)
    # The second test customer's account, while the first signs in.
    elsewhere = customer_accounts(oauth_app, partner.organisation_id, customer=1)[0]
    consent_id = _consent(partner, debtor(elsewhere))
    browser, page = _signed_in(oauth_app, partner, consent_id)
    words = _text(page)
    ending = debtor(elsewhere)["Identification"][-4:]
    assert f"in an account ending {ending}" in words
    assert "That account is not one of your accounts at Sandbox Bank" in words
    assert "Test App is told that you could not give it, and its request is closed" in words
    assert escape(elsewhere.nickname) not in words  # nothing of the other customer's account
    assert 'value="approve"' not in page.get_data(as_text=True)
    # Whatever is posted (an approve is forged here), the consent is rejected: OBIE rejects a
    # consent whose DebtorAccount is not the authenticated customer's.
    answer = _answer(browser, page, decision)
    assert answer["error"] == "access_denied"
    assert answer["error_description"] == NOT_THEIR_ACCOUNT
    assert "code" not in answer
    assert _status(partner, consent_id) == "RJCT"


def test_the_customer_declines(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    consent_id = _consent(partner, debtor(account))
    browser, page = _signed_in(oauth_app, partner, consent_id)
    answer = _answer(browser, page, "deny")
    assert (answer["error"], answer["error_description"]) == (
        "access_denied", "The customer said no.",
    )  # fmt: skip
    assert _status(partner, consent_id) == "RJCT"


def test_an_authorised_consent_is_renewed_under_the_same_id(
    oauth_app: Flask, http: FlaskClient
) -> None:
    # Confirmation of Funds API Profile, Consent Re-authentication: an AUTH consent whose
    # ExpirationDateTime has not elapsed can be re-authenticated.
    given = authorised(oauth_app, http)
    browser, page = _signed_in(oauth_app, given.partner, given.consent_id)
    assert "You gave Test App this permission before: approve to renew it." in _text(page)
    answer = _answer(browser, page, "approve")
    assert "code" in answer
    assert _status(given.partner, given.consent_id) == "AUTH"
    # Declining to renew leaves it as it was.
    browser, page = _signed_in(oauth_app, given.partner, given.consent_id)
    assert _answer(browser, page, "deny")["error"] == "access_denied"
    assert _status(given.partner, given.consent_id) == "AUTH"
    assert given.confirm("1.00")["Data"]["FundsAvailable"] is True


# -- the scope and the intent binding -----------------------------------------------------------


def test_a_cbpii_gets_client_credentials_and_pushes_requests_for_fundsconfirmations(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = cbpii_partner(oauth_app, http)
    issued = partner.client.client_credentials("fundsconfirmations")
    assert issued["scope"] == "fundsconfirmations" and issued["token_type"] == "DPoP"
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    consent_id = _consent(partner, debtor(account))
    params, _verifier = par_params(
        partner, consent_id, scope="openid fundsconfirmations", openbanking_intent_id=consent_id
    )
    pushed = post(http, PAR_URL, authenticated(partner, **params))
    assert pushed.status_code == 201, pushed.json


def test_an_app_without_the_cbpii_role_gets_no_fundsconfirmations_scope(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP",))
    status, body = refusal(partner.client.client_credentials, "fundsconfirmations")
    assert (status, body["error"]) == (400, "invalid_scope")
    params, _verifier = par_params(partner, "cof-x", scope="openid fundsconfirmations")
    pushed = post(http, PAR_URL, authenticated(partner, **params))
    assert (pushed.status_code, error_of(pushed)) == (400, "invalid_scope")


def test_the_request_must_carry_the_scope_of_the_consent_it_names(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP", "CBPII"))
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    consent_id = _consent(partner, debtor(account))
    request_uri, _verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="accounts"
    )
    answer = oauth_app.test_client().get(authorize_url(partner, request_uri))
    assert answer.status_code == 303
    query = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert query["error_description"] == "the scope does not cover a fundsconfirmations consent"


def test_a_client_registered_for_fundsconfirmations_gets_its_tokens(
    oauth_app: Flask, http: FlaskClient
) -> None:
    # OBIE dynamic client registration with scope fundsconfirmations (the organisation is a
    # CBPII), then the client credentials grant and PAR for that scope, as any app.
    software = issue_software(oauth_app, roles=("CBPII",))
    registered = send_registration(http, registration_request(software, scope="fundsconfirmations"))
    assert registered.status_code == 201, registered.json
    assert (registered.json or {})["scope"] == "fundsconfirmations"
    client = PartnerClient(
        ISSUER, (registered.json or {})["client_id"], REDIRECT_URI, software.private_jwk,
        transport=flask_transport(http),
    )  # fmt: skip
    assert client.client_credentials("fundsconfirmations")["scope"] == "fundsconfirmations"
    account = customer_accounts(oauth_app, software.organisation_id)[0]
    consent_id = client.create_funds_confirmation_consent(debtor(account))["Data"]["ConsentId"]
    request_uri, _verifier, _state = client.push_authorization_request(
        consent_id, "fundsconfirmations", signed=True
    )
    assert request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    # A registration may not ask for a scope its organisation's roles do not give.
    aisp = issue_software(oauth_app, roles=("AISP",))
    refused = send_registration(http, registration_request(aisp, scope="fundsconfirmations"))
    assert_dcr_error(refused, "invalid_client_metadata")
