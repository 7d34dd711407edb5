"""The resource side of tokens (RFC 6750 §2, §3.1; FAPI 2.0 Security Profile §5.3.3): tokens
travel in the Authorization header only, and only live, in-scope tokens of the right grant of an
active client open an API."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from gateway.oauth import secrets
from gateway.oauth.models import Token
from gateway.store.database import Database
from partners import services
from partners.models import App
from tests.common.fapi import (
    PAR_URL,
    Code,
    authenticated,
    authorize_url,
    call_protected,
    exchange,
    obtain_unbound,
    par_params,
    post,
    tokens_for,
)
from tests.common.oauth import Partner, approve_in_browser, create_consent, register_partner


@pytest.fixture(scope="module")
def bearer(oauth_app: Flask) -> str:
    """A valid, unbound access token of a code grant (no test here revokes it)."""
    http = oauth_app.test_client()
    return obtain_unbound(oauth_app, http, register_partner(oauth_app, http))


def assert_unauthorised(response: TestResponse) -> None:
    """RFC 6750 §3: 401 with a WWW-Authenticate challenge; the OBIE error body."""
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith(("Bearer ", "DPoP ", "Bearer, DPoP "))
    assert (response.json or {})["Errors"][0]["ErrorCode"] == "U042"
    assert "consent" not in (response.json or {})


def with_bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_bearer_token_in_the_header_opens_the_resource(http: FlaskClient, bearer: str) -> None:
    """RFC 6750 §2.1: the positive control of the refusals below."""
    response = http.get("/_protected", headers=with_bearer(bearer))
    assert response.status_code == 200 and (response.json or {})["consent"]


@pytest.mark.parametrize("also_in_header", [False, True], ids=["query-only", "query-and-header"])
def test_token_in_the_query_string_is_refused_even_when_valid(
    http: FlaskClient, bearer: str, also_in_header: bool
) -> None:
    """FAPI 2.0 §5.3.3 (3) / RFC 6750 §2.3, §5.3: never in the URI, where logs and Referer
    headers keep it."""
    headers = with_bearer(bearer) if also_in_header else {}
    assert_unauthorised(http.get(f"/_protected?access_token={bearer}", headers=headers))


@pytest.mark.parametrize("also_in_header", [False, True], ids=["body-only", "body-and-header"])
def test_token_in_a_form_body_is_refused_even_when_valid(
    http: FlaskClient, bearer: str, also_in_header: bool
) -> None:
    """FAPI 2.0 §5.3.3 (3) / RFC 6750 §2.2: form-encoded body tokens are not accepted."""
    headers = with_bearer(bearer) if also_in_header else {}
    assert_unauthorised(http.post("/_protected", data={"access_token": bearer}, headers=headers))
    # However the media type is spelt.
    spelt = {**headers, "Content-Type": "Application/X-WWW-Form-URLencoded; charset=UTF-8"}
    body = f"access_token={bearer}"
    assert_unauthorised(http.post("/_protected", data=body, headers=spelt))


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "Token {t}", "{t}", "Bearer oba_forged"],
)
def test_missing_or_malformed_authorization_is_401(
    http: FlaskClient, bearer: str, authorization: str
) -> None:
    """RFC 6750 §3.1: no or an unusable token answers 401 with a challenge."""
    headers = {"Authorization": authorization.format(t=bearer)} if authorization else {}
    assert_unauthorised(http.get("/_protected", headers=headers))


@pytest.mark.parametrize("authorization", ["", "Basic Zm9vOmJhcg==", "Bearer "])
def test_no_credentials_get_a_challenge_without_an_error_code(
    http: FlaskClient, authorization: str
) -> None:
    """RFC 6750 §3.1: a request without credentials (or with an unsupported scheme) gets no error
    code; the challenge names both schemes the client may use (RFC 9449 §7.1)."""
    headers = {"Authorization": authorization} if authorization else {}
    response = http.get("/_protected", headers=headers)
    assert_unauthorised(response)
    assert response.headers["WWW-Authenticate"] == 'Bearer, DPoP algs="PS256 ES256"'


def test_a_token_that_is_not_live_gets_invalid_token(http: FlaskClient) -> None:
    """RFC 6750 §3.1: invalid_token for a token that is expired, revoked or unknown."""
    response = http.get("/_protected", headers={"Authorization": "Bearer oba_forged"})
    assert_unauthorised(response)
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_refresh_token_and_code_are_not_access_tokens(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §1.5: a refresh token is presented to the authorization server only."""
    tokens = tokens_for(oauth_app, http, partner)
    for value in (tokens["refresh_token"], "obc_" + tokens["access_token"][4:]):
        assert_unauthorised(call_protected(http, partner, value))
    assert call_protected(http, partner, tokens["access_token"]).status_code == 200


def test_expired_access_token_is_401(oauth_app: Flask, http: FlaskClient, partner: Partner) -> None:
    """RFC 6750 §3.1 invalid_token: expired."""
    tokens = tokens_for(oauth_app, http, partner)
    database: Database = oauth_app.extensions["database"]
    with database.sessions.begin() as session:
        session.execute(
            update(Token)
            .where(Token.access_hash == secrets.digest(tokens["access_token"]))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert_unauthorised(call_protected(http, partner, tokens["access_token"]))


def test_client_credentials_token_does_not_open_customer_data(
    http: FlaskClient, partner: Partner
) -> None:
    """OBIE AIS: account data needs a token the customer authorised (authorization_code)."""
    token = partner.client.client_credentials("accounts")["access_token"]
    assert_unauthorised(call_protected(http, partner, token))


def test_token_of_a_suspended_app_is_401(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6750 §3.1 invalid_token: a suspended client's tokens stop working at once."""
    tokens = tokens_for(oauth_app, http, partner)
    database: Database = oauth_app.extensions["database"]
    with database.sessions.begin() as session:
        services.suspend_app(session, session.get_one(App, partner.client_id))
    assert_unauthorised(call_protected(http, partner, tokens["access_token"]))


def test_token_without_the_scope_is_403(oauth_app: Flask, http: FlaskClient) -> None:
    """RFC 6750 §3.1 insufficient_scope: 403 for a live token that lacks the scope."""
    partner = register_partner(oauth_app, http, roles=("PISP",))
    consent_id = create_consent(oauth_app, partner, kind="payments", permissions=[])
    params, verifier = par_params(partner, consent_id, scope="payments")
    pushed = post(http, PAR_URL, authenticated(partner, **params))
    url = authorize_url(partner, (pushed.json or {})["request_uri"])
    answer = approve_in_browser(oauth_app, oauth_app.test_client(), url, partner.organisation_id)
    tokens = exchange(http, partner, Code(answer["code"], verifier, consent_id)).json or {}
    assert tokens["scope"] == "payments"
    response = call_protected(http, partner, tokens["access_token"])
    assert response.status_code == 403
    assert "accounts" in (response.json or {})["Errors"][0]["Message"]
