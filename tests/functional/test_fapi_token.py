"""The token endpoint and the token lifecycle (RFC 6749 §4.1.3, §6, §10.5; RFC 7636 §4.6;
RFC 7009; RFC 7662; RFC 9700 §4.14; FAPI 2.0 Security Profile §5.3.2.1): codes are single-use,
short-lived and bound to client, redirect URI and verifier; refresh tokens rotate; tokens are
stored only as hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.oauth import grants
from tests.common.fapi import (
    TOKEN_URL,
    authenticated,
    call_protected,
    error_of,
    exchange,
    obtain_code,
    pkce,
    post,
    rows,
    tokens_for,
)
from tests.common.jose import DROP, jkt
from tests.common.oauth import REDIRECT_URI, Partner, register_partner

FORM = "application/x-www-form-urlencoded"
_URLSAFE = re.compile(r"^[A-Za-z0-9_-]{22,}$")


def token_count(app: Flask, client_id: str) -> int:
    return len(rows(app, "SELECT access_hash FROM gw_token WHERE client_id = :c", c=client_id))


def assert_invalid_grant(response: TestResponse) -> None:
    assert response.status_code == 400, response.json
    assert error_of(response) == "invalid_grant"
    assert "access_token" not in (response.json or {})


def refresh(http: FlaskClient, partner: Partner, token: str, **params: str) -> TestResponse:
    form = authenticated(partner, grant_type="refresh_token", refresh_token=token, **params)
    return post(http, TOKEN_URL, form, dpop=partner.client.dpop_proof("POST", TOKEN_URL))


def api_form(partner: Partner, **params: str) -> dict[str, str]:
    return authenticated(partner, **params)


# -- authorization codes -------------------------------------------------------------------------


def test_missing_code_verifier_is_invalid_grant(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7636 §4.5, §4.6: a code issued with a challenge is redeemed only with its verifier."""
    code = obtain_code(oauth_app, partner)
    assert_invalid_grant(exchange(http, partner, code, code_verifier=DROP))
    assert token_count(oauth_app, partner.client_id) == 0


def test_wrong_code_verifier_is_invalid_grant(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal code_challenge."""
    code = obtain_code(oauth_app, partner)
    assert_invalid_grant(exchange(http, partner, code, code_verifier=pkce()[0]))
    assert token_count(oauth_app, partner.client_id) == 0


def test_redirect_uri_different_from_the_authorization_request_is_invalid_grant(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §4.1.3: redirect_uri must be identical to the authorization request's."""
    code = obtain_code(oauth_app, partner)
    for other in ("https://tpp.example/other", "https://tpp.example/callback/", DROP):
        assert_invalid_grant(exchange(http, partner, code, redirect_uri=other))
    assert token_count(oauth_app, partner.client_id) == 0


def test_reused_code_is_refused_and_revokes_what_the_first_exchange_issued(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §4.1.2 and §10.5: a code used twice is denied and the tokens issued from it
    SHOULD be revoked."""
    code = obtain_code(oauth_app, partner)
    first = exchange(http, partner, code)
    assert first.status_code == 200
    tokens = first.json or {}
    assert call_protected(http, partner, tokens["access_token"]).status_code == 200
    assert_invalid_grant(exchange(http, partner, code))
    assert call_protected(http, partner, tokens["access_token"]).status_code == 401
    assert_invalid_grant(refresh(http, partner, tokens["refresh_token"]))
    assert token_count(oauth_app, partner.client_id) == 1


def test_expired_code_is_invalid_grant(
    oauth_app: Flask, http: FlaskClient, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAPI 2.0 §5.3.2.1 (4) / RFC 6749 §4.1.2: codes live at most 60 seconds."""
    monkeypatch.setattr(grants, "CODE_TTL", dt.timedelta(0))
    code = obtain_code(oauth_app, partner)
    assert_invalid_grant(exchange(http, partner, code))
    assert token_count(oauth_app, partner.client_id) == 0


def test_code_lifetime_is_at_most_60_seconds(oauth_app: Flask, partner: Partner) -> None:
    """FAPI 2.0 §5.3.2.1 (4): authorization code lifetime of at most 60 seconds."""
    obtain_code(oauth_app, partner)
    [row] = rows(
        oauth_app,
        "SELECT auth_time, expires_at FROM gw_authorization_code WHERE client_id = :c",
        c=partner.client_id,
    )
    lifetime = _as_dt(row["expires_at"]) - _as_dt(row["auth_time"])
    assert dt.timedelta(0) < lifetime <= dt.timedelta(seconds=60)


def test_code_presented_by_another_client_is_invalid_grant(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §4.1.3: the code must have been issued to the authenticated client."""
    thief = register_partner(oauth_app, http)
    code = obtain_code(oauth_app, partner)
    assert_invalid_grant(exchange(http, thief, code))
    assert token_count(oauth_app, thief.client_id) == 0
    # The failed theft did not burn the code for its rightful client.
    assert exchange(http, partner, code).status_code == 200


def test_unsupported_grant_type_is_refused(http: FlaskClient, partner: Partner) -> None:
    """RFC 6749 §5.2 unsupported_grant_type (no implicit, password or device grants)."""
    for grant in ("password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", ""):
        response = post(http, TOKEN_URL, api_form(partner, grant_type=grant))
        assert response.status_code == 400 and error_of(response) == "unsupported_grant_type"


def test_token_parameters_in_the_query_string_are_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §3.2: the token request is a form-encoded POST body."""
    code = obtain_code(oauth_app, partner)
    response = http.post(
        f"/token?code={code.code}&code_verifier={code.verifier}",
        data=api_form(partner, grant_type="authorization_code"),
    )
    assert response.status_code == 400 and error_of(response) == "invalid_request"
    assert token_count(oauth_app, partner.client_id) == 0


def test_repeated_token_parameter_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §3.2: request parameters MUST NOT be included more than once."""
    code = obtain_code(oauth_app, partner)
    form = authenticated(
        partner,
        grant_type="authorization_code",
        redirect_uri=REDIRECT_URI,
        code_verifier=code.verifier,
    )
    body = [*form.items(), ("code", code.code), ("code", "obc_other")]
    response = http.post("/token", data=urlencode(body), content_type=FORM)
    assert response.status_code == 400 and error_of(response) == "invalid_request"
    assert token_count(oauth_app, partner.client_id) == 0


# -- what is issued, and how it is stored -------------------------------------------------------


def _as_dt(value: object) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def test_tokens_are_stored_only_as_sha256_hashes(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """FAPI 2.0 §5.3.2.1 / RFC 6819 §5.1.4.1.3: credentials are stored hashed, so a copy of the
    database grants nothing."""
    code = obtain_code(oauth_app, partner)
    tokens = exchange(http, partner, code).json or {}
    secrets_issued = (code.code, tokens["access_token"], tokens["refresh_token"])
    dumped = rows(oauth_app, "SELECT * FROM gw_token") + rows(
        oauth_app, "SELECT * FROM gw_authorization_code"
    )
    assert dumped
    for row in dumped:
        for value in row.values():
            assert not any(secret in str(value) for secret in secrets_issued)
    digest = hashlib.sha256(tokens["access_token"].encode()).hexdigest()
    mine = rows(oauth_app, "SELECT * FROM gw_token WHERE client_id = :c", c=partner.client_id)
    assert [row["access_hash"] for row in mine] == [digest]
    assert mine[0]["refresh_hash"] == hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    assert rows(
        oauth_app,
        "SELECT code_hash FROM gw_authorization_code WHERE client_id = :c",
        c=partner.client_id,
    ) == [{"code_hash": hashlib.sha256(code.code.encode()).hexdigest()}]


def test_access_token_lives_at_most_ten_minutes_and_carries_enough_entropy(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """FAPI 2.0 §5.3.2.1 (access token lifetime policy) and RFC 6749 §10.10 / FAPI 2.0 §5.3.2.2
    (at least 128 bits of entropy): prefixed opaque values with >= 22 url-safe characters."""
    tokens = tokens_for(oauth_app, http, partner)
    assert 0 < tokens["expires_in"] <= 600
    [row] = rows(
        oauth_app,
        "SELECT issued_at, expires_at FROM gw_token WHERE client_id = :c",
        c=partner.client_id,
    )
    assert _as_dt(row["expires_at"]) - _as_dt(row["issued_at"]) <= dt.timedelta(seconds=600)
    for name, prefix in (("access_token", "oba_"), ("refresh_token", "obr_")):
        assert tokens[name].startswith(prefix)
        assert _URLSAFE.match(tokens[name].removeprefix(prefix)), tokens[name]
    assert tokens["access_token"] != tokens["refresh_token"]


def test_client_credentials_grant_returns_no_refresh_token(
    oauth_app: Flask, partner: Partner
) -> None:
    """RFC 6749 §4.4.3: a refresh token SHOULD NOT be included for client credentials."""
    body = partner.client.client_credentials("accounts")
    assert "refresh_token" not in body and body["access_token"].startswith("oba_")
    [row] = rows(
        oauth_app, "SELECT refresh_hash FROM gw_token WHERE client_id = :c", c=partner.client_id
    )
    assert row["refresh_hash"] is None


# -- refresh tokens -----------------------------------------------------------------------------


def test_rotated_refresh_token_is_refused_and_its_reuse_revokes_the_consents_tokens(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9700 §4.14.2: refresh token rotation with reuse detection; RFC 6749 §10.4."""
    first = tokens_for(oauth_app, http, partner)
    second = refresh(http, partner, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json or {}
    assert rotated["refresh_token"] != first["refresh_token"]
    assert call_protected(http, partner, rotated["access_token"]).status_code == 200
    assert_invalid_grant(refresh(http, partner, first["refresh_token"]))
    # Someone replayed a retired refresh token: everything of that consent is revoked.
    assert call_protected(http, partner, rotated["access_token"]).status_code == 401
    assert_invalid_grant(refresh(http, partner, rotated["refresh_token"]))
    live = rows(
        oauth_app,
        "SELECT access_hash FROM gw_token WHERE client_id = :c AND revoked_at IS NULL",
        c=partner.client_id,
    )
    assert live == []


def test_refresh_by_another_client_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §6: the refresh token must have been issued to the authenticated client."""
    tokens = tokens_for(oauth_app, http, partner)
    thief = register_partner(oauth_app, http)
    assert_invalid_grant(refresh(http, thief, tokens["refresh_token"]))
    assert token_count(oauth_app, thief.client_id) == 0
    assert refresh(http, partner, tokens["refresh_token"]).status_code == 200


def test_refresh_cannot_widen_the_scope(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted."""
    tokens = tokens_for(oauth_app, http, partner)
    response = refresh(http, partner, tokens["refresh_token"], scope="accounts payments")
    assert response.status_code == 400 and error_of(response) == "invalid_scope"
    assert token_count(oauth_app, partner.client_id) == 1
    still = refresh(http, partner, tokens["refresh_token"], scope="accounts")
    assert still.status_code == 200 and (still.json or {})["scope"] == "accounts"


# -- revocation (RFC 7009) and introspection (RFC 7662) -------------------------------------------


def test_revoked_access_token_no_longer_opens_the_resource(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7009 §2.1: after revocation the token is invalid at the resource."""
    tokens = tokens_for(oauth_app, http, partner)
    response = post(http, "/revoke", api_form(partner, token=tokens["access_token"]))
    assert response.status_code == 200
    assert call_protected(http, partner, tokens["access_token"]).status_code == 401


def test_revoking_another_clients_token_answers_200_and_changes_nothing(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7009 §2.1: the server verifies the token was issued to the requesting client;
    §2.2: an invalid token is answered 200 all the same, so nothing leaks."""
    tokens = tokens_for(oauth_app, http, partner)
    other = register_partner(oauth_app, http)
    for value in (tokens["access_token"], tokens["refresh_token"]):
        assert post(http, "/revoke", api_form(other, token=value)).status_code == 200
    assert call_protected(http, partner, tokens["access_token"]).status_code == 200
    assert refresh(http, partner, tokens["refresh_token"]).status_code == 200


def test_revocation_requires_client_authentication(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7009 §2.1: the client authenticates at the revocation endpoint."""
    tokens = tokens_for(oauth_app, http, partner)
    response = post(http, "/revoke", {"token": tokens["access_token"]})
    assert response.status_code == 401 and error_of(response) == "invalid_client"
    assert call_protected(http, partner, tokens["access_token"]).status_code == 200


def test_introspection_describes_own_token_then_reports_it_inactive_after_revocation(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7662 §2.2 active, scope, client_id; RFC 9449 §6.2 cnf.jkt; inactive once revoked."""
    tokens = tokens_for(oauth_app, http, partner)
    response = post(http, "/introspect", api_form(partner, token=tokens["access_token"]))
    assert response.status_code == 200
    body = response.json or {}
    assert body["active"] is True and body["scope"] == "openid accounts"
    assert body["client_id"] == partner.client_id and body["token_type"] == "DPoP"
    assert body["cnf"] == {"jkt": jkt(partner.client.dpop_jwk)}
    assert body["exp"] - body["iat"] <= 600
    post(http, "/revoke", api_form(partner, token=tokens["refresh_token"]))
    after = post(http, "/introspect", api_form(partner, token=tokens["access_token"]))
    assert after.json == {"active": False}


def test_introspection_of_another_clients_token_is_inactive(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7662 §2.2 and §4: a client that is not a configured resource server learns nothing
    about someone else's token."""
    tokens = tokens_for(oauth_app, http, partner)
    other = register_partner(oauth_app, http)
    response = post(http, "/introspect", api_form(other, token=tokens["access_token"]))
    assert response.status_code == 200 and response.json == {"active": False}
    unauthenticated = post(http, "/introspect", {"token": tokens["access_token"]})
    assert unauthenticated.status_code == 401
