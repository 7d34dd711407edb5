"""The FAPI 2.0 flow end to end: PAR, the consent page, the code exchange, a protected call."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.common.oauth import (
    CSRF,
    ISSUER,
    REDIRECT_URI,
    approve_in_browser,
    create_consent,
    register_partner,
    sandbox_login,
)


def test_metadata_announces_fapi_choices(http: FlaskClient) -> None:
    meta = http.get("/.well-known/oauth-authorization-server").json
    assert meta is not None
    assert meta["issuer"] == ISSUER
    assert meta["require_pushed_authorization_requests"] is True
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["registration_endpoint"] == f"{ISSUER}/register"
    assert set(meta["token_endpoint_auth_signing_alg_values_supported"]) == {"PS256", "ES256"}
    keys = http.get("/jwks").json
    assert keys is not None and keys["keys"] and "d" not in keys["keys"][0]


def test_full_flow_with_dpop(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http)
    consent_id = create_consent(oauth_app, partner)
    request_uri, verifier, state = partner.client.push_authorization_request(consent_id)
    browser = oauth_app.test_client()
    answer = approve_in_browser(
        oauth_app, browser, partner.client.authorization_url(request_uri), partner.organisation_id
    )
    assert answer["iss"] == ISSUER and answer["state"] == state and "code" in answer
    tokens = partner.client.exchange_code(answer["code"], verifier)
    assert tokens["token_type"] == "DPoP"
    assert tokens["access_token"].startswith("oba_") and tokens["refresh_token"].startswith("obr_")
    assert tokens["expires_in"] <= 600
    assert tokens["consent_id"] == consent_id
    body = partner.client.get("/_protected", tokens["access_token"])
    assert body["consent"] == consent_id and body["customer"]
    refreshed = partner.client.refresh(tokens["refresh_token"])
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert partner.client.get("/_protected", refreshed["access_token"])["consent"] == consent_id


def test_deny_returns_access_denied_with_state_and_iss(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http)
    consent_id = create_consent(oauth_app, partner)
    request_uri, _verifier, state = partner.client.push_authorization_request(consent_id)
    answer = approve_in_browser(
        oauth_app, oauth_app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id, decision="deny",
    )  # fmt: skip
    assert answer == {
        "error": "access_denied",
        "error_description": "The customer said no.",
        "state": state,
        "iss": ISSUER,
    }
    assert REDIRECT_URI


def test_example_client_reaches_the_customers_accounts(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP",))
    consent = partner.client.create_account_access_consent(
        ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits", "ReadTransactionsDebits",
         "ReadTransactionsDetail"]
    )  # fmt: skip
    consent_id = consent["Data"]["ConsentId"]
    assert consent["Data"]["Status"] == "AWAU"
    request_uri, verifier, _state = partner.client.push_authorization_request(consent_id)
    answer = approve_in_browser(
        oauth_app, oauth_app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id, accounts=2,
    )  # fmt: skip
    tokens = partner.client.exchange_code(answer["code"], verifier)
    accounts = partner.client.get("/open-banking/v4.0/aisp/accounts", tokens["access_token"])
    listed = accounts["Data"]["Account"]
    assert len(listed) == 2
    assert all(a["Account"] and a["Servicer"]["SchemeName"] == "UK.OBIE.BICFI" for a in listed)
    one = partner.client.get(
        f"/open-banking/v4.0/aisp/accounts/{listed[0]['AccountId']}", tokens["access_token"]
    )
    assert one["Data"]["Account"][0]["AccountId"] == listed[0]["AccountId"]


def test_consent_forms_need_the_csrf_token(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http)
    consent_id = create_consent(oauth_app, partner)
    request_uri, _verifier, _state = partner.client.push_authorization_request(consent_id)
    browser = oauth_app.test_client()
    assert browser.get(partner.client.authorization_url(request_uri)).status_code == 200
    forged = browser.post("/authorize/login", data={"username": "x", "password": "y"})
    assert forged.status_code == 400
    assert forged.json is not None and forged.json["Errors"][0]["ErrorCode"] == "U010"


def test_the_customers_sign_in_moves_to_a_new_session(oauth_app: Flask, http: FlaskClient) -> None:
    """Session fixation: the id the consent page started with is dead once the customer has
    signed in, so whoever planted or copied it cannot approve in the customer's name."""
    partner = register_partner(oauth_app, http)
    consent_id = create_consent(oauth_app, partner)
    request_uri, _verifier, _state = partner.client.push_authorization_request(consent_id)
    browser = oauth_app.test_client()
    page = browser.get(partner.client.authorization_url(request_uri))
    before = browser.get_cookie("gateway_session")
    assert page.status_code == 200 and before is not None
    username, password = sandbox_login(oauth_app, partner.organisation_id)
    token = CSRF.search(page.get_data(as_text=True))
    assert token is not None
    login = browser.post(
        "/authorize/login",
        data={"csrf_token": token.group(1), "username": username, "password": password},
    )
    assert login.status_code == 303
    after = browser.get_cookie("gateway_session")
    assert after is not None and after.value != before.value
    attacker = oauth_app.test_client()
    attacker.set_cookie("gateway_session", before.value)
    refused = attacker.get("/authorize/consent")
    assert refused.status_code == 400 and "sign-in has expired" in refused.get_data(as_text=True)
    assert browser.get("/authorize/consent").status_code == 200


def test_a_body_over_the_limit_is_an_oauth_error_at_the_token_endpoint(http: FlaskClient) -> None:
    # The authorization server's clients parse OAuth errors (RFC 6749 §5.2), never cached.
    big = "x" * (1024 * 1024 + 1)
    answer = http.post("/token", data={"grant_type": "client_credentials", "pad": big})
    assert answer.status_code == 413
    assert answer.json is not None and answer.json["error"] == "invalid_request"
    assert answer.headers["Cache-Control"] == "no-store"
