"""Shortcuts through the FAPI 2.0 flow for the security tests: the app with a protected route,
pushed requests with chosen parameters, a code obtained through the consent page, token requests
with chosen proofs, and raw reads of the authorization server's tables."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, jsonify
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.oauth import keys
from gateway.oauth.protector import require_token
from gateway.store.database import Database
from partners import directory
from tests.common.jose import DROP, alg_of, assertion_form, request_object, sign
from tests.common.oauth import (
    ISSUER,
    REDIRECT_URI,
    Partner,
    approve_in_browser,
    create_consent,
    new_key,
    new_organisation,
    public,
)

TOKEN_URL = ISSUER + "/token"
PAR_URL = ISSUER + "/par"
PROTECTED_URL = ISSUER + "/_protected"
# A protected resource under the API prefix: the edge checks its token (gateway.edge.hooks).
PROBE = "/open-banking/_probe"


UNLIMITED_TIERS = {"sandbox": "100000/second"}


def protected_app(database_url: str, **config: Any) -> Flask:
    """The gateway plus ``/_protected`` (scope ``accounts``), standing in for an API resource,
    with one or two path segments after it too; the same under ``/open-banking/_probe``, where
    the edge checks the token before the view (as for the APIs). ``config`` overrides."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "WTF_CSRF_ENABLED": True,
            # The suite calls faster than a partner may; the limits have tests of their own.
            "RATE_LIMIT_TIERS": UNLIMITED_TIERS,
            # One process: the in-process store carries the authorisation epoch well enough for
            # the cache to serve every test (and a change it fails to see to fail one).
            "TOKEN_CACHE_SECONDS": 30,
            **config,
        }
    )

    @require_token("accounts")
    def protected(**path: str) -> object:
        return jsonify(consent=g.token.consent_id, customer=g.token.customer_id, path=path)

    for base in ("/_protected", PROBE):
        for rule in ("", "/<name>", "/<name>/<more>"):
            app.add_url_rule(base + rule, "protected", protected, methods=["GET", "POST"])

    # An API resource authenticates with tokens, not browser sessions.
    app.extensions["csrf"].exempt(protected)
    return app


def pkce() -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge) pair (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authenticated(partner: Partner, **params: Any) -> dict[str, str]:
    """Form parameters with a fresh client assertion of ``partner``; ``DROP`` removes one."""
    form = assertion_form(partner.client_id, partner.client.client_assertion(), **params)
    return {k: v for k, v in form.items() if v is not DROP}


def post(
    http: FlaskClient,
    url: str,
    form: dict[str, str],
    *,
    dpop: str | list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """POST a form, with DPoP proof header(s) when given."""
    sent: list[tuple[str, str]] = list((headers or {}).items())
    for proof in [dpop] if isinstance(dpop, str) else dpop or []:
        sent.append(("DPoP", proof))
    return http.post(url.removeprefix(ISSUER), data=form, headers=sent)


def par_params(partner: Partner, consent_id: str, **overrides: Any) -> tuple[dict[str, Any], str]:
    """A valid pushed request's parameters, with overrides, and its PKCE verifier."""
    verifier, challenge = pkce()
    params: dict[str, Any] = {
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "accounts",
        "state": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "openbanking_intent_id": consent_id,
        "dpop_jkt": partner.client.dpop_jkt(),
        **overrides,
    }
    return params, verifier


MEMBERS = ("id_token", "userinfo")


def intent_claims(consent_id: str, *members: str) -> dict[str, Any]:
    """A claims request naming ``consent_id`` as the essential openbanking_intent_id claim of
    ``members`` (id_token and userinfo unless given), the OBIE way."""
    intent = {"value": consent_id, "essential": True}
    return {member: {"openbanking_intent_id": intent} for member in members or MEMBERS}


def oidc_params(partner: Partner, consent_id: str, **overrides: Any) -> tuple[dict[str, Any], str]:
    """A valid OpenID Connect pushed request's parameters (scope openid accounts, the consent in
    the claims parameter), with overrides, and its PKCE verifier."""
    base = {
        "scope": "openid accounts",
        "claims": json.dumps(intent_claims(consent_id)),
        "nonce": secrets.token_urlsafe(12),
        "openbanking_intent_id": DROP,
    }
    params, verifier = par_params(partner, consent_id, **{**base, **overrides})
    return {k: v for k, v in params.items() if v is not DROP}, verifier


def push_form(http: FlaskClient, partner: Partner, params: dict[str, Any]) -> TestResponse:
    """POST /par with exactly these parameters and client authentication."""
    return post(http, PAR_URL, authenticated(partner, **params))


def signed_form(partner: Partner, params: dict[str, Any], **claims: Any) -> dict[str, Any]:
    """The pushed form of a request sent as a request object signed with the partner's key,
    with claim overrides (``DROP`` removes one)."""
    return {"request": request_object(partner.client_id, partner.private_jwk, params, **claims)}


def pushed_count(app: Flask, client_id: str) -> int:
    """How many pushed requests a client has stored."""
    sql = "SELECT request_uri FROM gw_pushed_request WHERE client_id = :c"
    return len(rows(app, sql, c=client_id))


def approve_and_exchange(
    app: Flask, http: FlaskClient, partner: Partner, pushed: TestResponse, code: Code
) -> dict[str, Any]:
    """Take a pushed request through the consent page and the token endpoint; the token
    response. ``code`` carries the verifier and consent (its code is filled in here)."""
    assert pushed.status_code == 201, pushed.json
    url = authorize_url(partner, (pushed.json or {})["request_uri"])
    answer = approve_in_browser(app, app.test_client(), url, partner.organisation_id)
    assert "code" in answer, answer
    response = exchange(http, partner, Code(answer["code"], code.verifier, code.consent_id))
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json or {}
    return body


def push(
    http: FlaskClient,
    partner: Partner,
    consent_id: str,
    *,
    dpop: str | None = None,
    **overrides: Any,
) -> TestResponse:
    """POST /par for ``partner`` with parameter overrides (``DROP`` removes one)."""
    params, _verifier = par_params(partner, consent_id, **overrides)
    return post(http, PAR_URL, authenticated(partner, **params), dpop=dpop)


def authorize_url(partner: Partner, request_uri: str) -> str:
    """The front-channel URL the browser follows."""
    return partner.client.authorization_url(request_uri).removeprefix(ISSUER)


@dataclass
class Code:
    """An authorization code as the client holds it."""

    code: str
    verifier: str
    consent_id: str


def obtain_code(app: Flask, partner: Partner, *, consent_id: str | None = None) -> Code:
    """Push, approve on the consent page as the customer, and return the code."""
    consent_id = consent_id or create_consent(app, partner)
    request_uri, verifier, state = partner.client.push_authorization_request(consent_id)
    answer = approve_in_browser(
        app,
        app.test_client(),
        partner.client.authorization_url(request_uri),
        partner.organisation_id,
    )
    assert answer["state"] == state and "code" in answer, answer
    return Code(answer["code"], verifier, consent_id)


def exchange(
    http: FlaskClient,
    partner: Partner,
    code: Code,
    *,
    dpop: object = DROP,
    **overrides: Any,
) -> TestResponse:
    """POST /token for ``code`` (proof with the partner's DPoP key unless ``dpop`` is given)."""
    params = {
        "grant_type": "authorization_code",
        "code": code.code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": code.verifier,
        **overrides,
    }
    proof = partner.client.dpop_proof("POST", TOKEN_URL) if dpop is DROP else dpop
    return post(http, TOKEN_URL, authenticated(partner, **params), dpop=proof)  # type: ignore[arg-type]


def tokens_for(app: Flask, http: FlaskClient, partner: Partner) -> dict[str, Any]:
    """A fresh consent taken through the whole flow: the token response."""
    code = obtain_code(app, partner)
    response = exchange(http, partner, code)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json or {}
    return body


def obtain_unbound(app: Flask, http: FlaskClient, partner: Partner) -> str:
    """A bearer (unbound) access token of a code grant: pushed without dpop_jkt, exchanged
    without a proof (allowed for sandbox apps that did not opt in to DPoP)."""
    consent_id = create_consent(app, partner)
    params, verifier = par_params(partner, consent_id, dpop_jkt=DROP)
    pushed = post(http, PAR_URL, authenticated(partner, **params))
    url = authorize_url(partner, (pushed.json or {})["request_uri"])
    answer = approve_in_browser(app, app.test_client(), url, partner.organisation_id)
    response = exchange(http, partner, Code(answer["code"], verifier, consent_id), dpop=None)
    assert response.status_code == 200 and (response.json or {})["token_type"] == "Bearer"
    return str((response.json or {})["access_token"])


def call_protected(
    http: FlaskClient, partner: Partner, token: str, *, method: str = "GET"
) -> TestResponse:
    """Call ``/_protected`` the right way: DPoP scheme and a proof with ``ath``."""
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": partner.client.dpop_proof(method, PROTECTED_URL, access_token=token),
    }
    return http.open("/_protected", method=method, headers=headers)


def rows(app: Flask, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a raw query, as dictionaries."""
    database: Database = app.extensions["database"]
    with database.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql), params)]


def error_of(response: TestResponse) -> str | None:
    """The OAuth ``error`` code of a JSON response."""
    body = response.json
    return body.get("error") if isinstance(body, dict) else None


# -- dynamic client registration (OBIE DCR, RFC 7591) -------------------------------------------

#: The RegistrationError codes of the OBIE DCR specification.
DCR_ERRORS = frozenset(
    {
        "invalid_redirect_uri",
        "invalid_client_metadata",
        "invalid_software_statement",
        "unapproved_software_statement",
    }
)
SOFTWARE_REDIRECTS = (REDIRECT_URI, "https://tpp.example/second-callback")


@dataclass
class Software:
    """A partner's software as the sandbox directory vouches for it."""

    organisation_id: str
    software_id: str
    statement: str
    private_jwk: dict[str, Any]


def directory_key(app: Flask) -> tuple[str, dict[str, Any]]:
    """The kid and private JWK the sandbox directory signs software statements with."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        kid, key = keys.active_key(session)
        return kid, key.as_dict(private=True)


def issue_software(
    app: Flask,
    *,
    kty: str = "EC",
    redirect_uris: tuple[str, ...] = SOFTWARE_REDIRECTS,
    roles: tuple[str, ...] = ("AISP", "PISP"),
) -> Software:
    """Sign up an organisation and have the directory issue a statement for new software."""
    database: Database = app.extensions["database"]
    private_jwk = new_key(kty)
    with database.sessions.begin() as session:
        organisation = new_organisation(session, f"dcr{private_jwk['kid']}", roles)
        kid, signing_key = keys.active_key(session)
        software_id, statement = directory.issue_software_statement(
            organisation,
            signing_key=signing_key,
            kid=kid,
            alg="ES256",
            client_name="Test Software",
            redirect_uris=list(redirect_uris),
            jwks={"keys": [public(private_jwk)]},
        )
        return Software(organisation.id, software_id, statement, private_jwk)


def registration_claims(software: Software, **overrides: Any) -> dict[str, Any]:
    """The claims of a valid OBIE registration request (``DROP`` removes one)."""
    now = int(time.time())
    claims = {
        "iss": software.software_id,
        "aud": directory.ASPSP_ID,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": ["authorization_code", "client_credentials", "refresh_token"],
        "scope": "accounts payments",
        "software_statement": software.statement,
        "application_type": "web",
        "id_token_signed_response_alg": "ES256",
        "request_object_signing_alg": "ES256",
        **overrides,
    }
    return {k: v for k, v in claims.items() if v is not DROP}


def registration_request(
    software: Software, *, header: dict[str, Any] | None = None, **overrides: Any
) -> str:
    """A registration request JWT signed with the software's key."""
    key = software.private_jwk
    head = {"alg": alg_of(key), "kid": key["kid"], "typ": "JWT", **(header or {})}
    return sign(head, registration_claims(software, **overrides), key)


def send_registration(
    http: FlaskClient,
    body: str,
    *,
    method: str = "POST",
    path: str = "/register",
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """Send a registration request body as application/jwt."""
    return http.open(
        path,
        method=method,
        data=body,
        headers={"Content-Type": "application/jwt", **(headers or {})},
    )


def registered_apps(app: Flask, software_id: str) -> list[dict[str, Any]]:
    """The apps registered for a software id."""
    return rows(app, "SELECT client_id FROM ptn_app WHERE software_id = :s", s=software_id)


def assert_dcr_error(response: TestResponse, error: str | None = None) -> None:
    """OBIE DCR 400: ``RegistrationError`` JSON with a code of the specification's enum."""
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.json or {}
    assert set(body) == {"error", "error_description"} and body["error"] in DCR_ERRORS, body
    assert 1 <= len(body["error_description"]) <= 500
    if error is not None:
        assert body["error"] == error, body
