"""Signed request objects pushed to PAR (RFC 9101 JAR, FAPI 2.0 Message Signing §5.3): the
parameters of an authorization request as the claims of a JWT signed by a key of the client's
JWKS. Every rule has a negative case, answered ``invalid_request_object`` with nothing stored."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.store.database import Database
from partners.models import App
from tests.common.fapi import (
    Code,
    error_of,
    intent_claims,
    oidc_params,
    push_form,
    pushed_count,
    rows,
    signed_form,
)
from tests.common.fapi import approve_and_exchange as through
from tests.common.jose import (
    DROP,
    attacker_key,
    hs256_with_public_key,
    request_object,
    request_object_claims,
    rsa_key,
    sign,
    unsigned,
)
from tests.common.oauth import ISSUER, Partner, create_consent, register_partner

Builder = Callable[[Partner, dict[str, Any]], str]


def _signed(header: dict[str, Any] | None = None, **claims: Any) -> Builder:
    """A request object signed with the partner's registered key; a claim given as a function
    of the time is computed when the test runs."""

    def build(partner: Partner, params: dict[str, Any]) -> str:
        now = int(time.time())
        values = {k: v(now) if callable(v) else v for k, v in claims.items()}
        return request_object(
            partner.client_id, partner.private_jwk, params, header=header, **values
        )

    return build


def _foreign(make_key: Callable[[], dict[str, Any]], kid: str | None) -> Builder:
    """Signed with a key nobody registered, naming the partner's kid (``"partner"``), the key's
    own (``"own"``) or none."""

    def build(partner: Partner, params: dict[str, Any]) -> str:
        key = make_key()
        header = {"alg": "ES256" if key["kty"] == "EC" else "PS256"}
        if kid is not None:
            header["kid"] = partner.private_jwk["kid"] if kid == "partner" else key["kid"]
        return sign(header, request_object_claims(partner.client_id, params), key)

    return build


def _claims_of(partner: Partner, params: dict[str, Any]) -> dict[str, Any]:
    return request_object_claims(partner.client_id, params)


#: name -> (key type of the partner, builder of the pushed request parameter)
REQUEST_OBJECT_RULES: dict[str, tuple[str, Builder]] = {
    "alg-none": (
        "EC",
        lambda p, params: unsigned({"kid": p.private_jwk["kid"]}, _claims_of(p, params)),
    ),
    "alg-hs256-keyed-with-the-public-key": (
        "EC",
        lambda p, params: hs256_with_public_key(
            {"kid": p.private_jwk["kid"]}, _claims_of(p, params), p.private_jwk
        ),
    ),
    "alg-rs256-with-the-registered-key": (
        "RSA",
        lambda p, params: sign(
            {"alg": "RS256", "kid": p.private_jwk["kid"]}, _claims_of(p, params), p.private_jwk
        ),
    ),
    "aud-another-server": ("EC", _signed(aud="https://other-bank.example")),
    "aud-missing": ("EC", _signed(aud=DROP)),
    "iss-another-client": ("EC", _signed(iss="cli_someoneelse")),
    "iss-missing": ("EC", _signed(iss=DROP)),
    "expired": ("EC", _signed(nbf=lambda now: now - 120, exp=lambda now: now - 1)),
    "exp-missing": ("EC", _signed(exp=DROP)),
    "nbf-missing": ("EC", _signed(nbf=DROP)),
    "nbf-in-the-future": ("EC", _signed(nbf=lambda now: now + 600, exp=lambda now: now + 900)),
    "nbf-over-60-minutes-ago": (
        "EC",
        # Any exp still ahead is then over 60 minutes after nbf too: nbf is checked first.
        _signed(nbf=lambda now: now - 3660, exp=lambda now: now + 60),
    ),
    "exp-over-60-minutes-after-nbf": ("EC", _signed(exp=lambda now: now + 3600 + 1)),
    "exp-not-a-number": ("EC", _signed(exp="tomorrow")),
    "kid-unknown": ("EC", _signed(header={"kid": "not-a-registered-kid"})),
    "key-not-in-the-clients-jwks": ("EC", _foreign(attacker_key, kid="partner")),
    "key-not-in-the-clients-jwks-own-kid": ("EC", _foreign(attacker_key, kid="own")),
    "rsa-key-not-registered-no-kid": ("EC", _foreign(rsa_key, kid=None)),
    "client-id-another-client": ("EC", _signed(client_id="cli_someoneelse")),
    "client-id-missing": ("EC", _signed(client_id=DROP)),
    "nested-request-uri": ("EC", _signed(request_uri="urn:ietf:params:oauth:request_uri:x")),
    "nested-request": ("EC", _signed(request="eyJ.eyJ.sig")),
    "critical-header": ("EC", _signed(header={"crit": ["exp"], "exp": 1})),
    "typ-of-another-jwt": ("EC", _signed(header={"typ": "dpop+jwt"})),
    "claims-inside-not-json": ("EC", _signed(claims="{not json")),
    "claims-inside-name-two-consents": (
        "EC",
        _signed(
            claims={**intent_claims("aac-one", "id_token"), **intent_claims("aac-two", "userinfo")}
        ),
    ),
    "parameter-not-a-string": ("EC", _signed(state=12)),
    "payload-not-an-object": (
        "EC",
        lambda p, params: sign(
            {"alg": "ES256", "kid": p.private_jwk["kid"]}, [1, 2], p.private_jwk
        ),
    ),
    "encrypted": ("EC", lambda p, params: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"),
    "not-a-jwt": ("EC", lambda p, params: "not-a-jwt"),
}


@pytest.mark.parametrize("case", sorted(REQUEST_OBJECT_RULES))
def test_request_object_rules(oauth_app: Flask, http: FlaskClient, case: str) -> None:
    """RFC 9101 §6.2, §6.3 and FAPI 2.0 Message Signing §5.3: a request object is signed with
    PS256 or ES256 by a key of the client's registered JWKS (none, HS256 and RS256 are refused,
    whatever key), names the issuer as aud and the client as iss and client_id, carries exp and
    nbf at most 60 minutes apart and nbf at most 60 minutes old, and nests no request or
    request_uri; anything else is invalid_request_object and stores nothing."""
    kty, build = REQUEST_OBJECT_RULES[case]
    partner = register_partner(oauth_app, http, kty=kty)
    consent_id = create_consent(oauth_app, partner)
    params, _verifier = oidc_params(partner, consent_id, claims=intent_claims(consent_id))
    response = push_form(http, partner, {"request": build(partner, params)})
    assert response.status_code == 400, response.json
    assert error_of(response) == "invalid_request_object", response.json
    assert pushed_count(oauth_app, partner.client_id) == 0


@pytest.mark.parametrize("kty", ["EC", "RSA"])
def test_request_object_with_either_fapi_algorithm_and_aud_array_is_accepted(
    oauth_app: Flask, http: FlaskClient, kty: str
) -> None:
    """FAPI 2.0 §5.4.1: PS256 and ES256; FAPI 2.0 Message Signing §5.3: aud may be an array
    containing the issuer; nbf a little in the client's future is tolerated (clock skew)."""
    partner = register_partner(oauth_app, http, kty=kty)
    consent_id = create_consent(oauth_app, partner)
    params, _verifier = oidc_params(partner, consent_id, claims=intent_claims(consent_id))
    now = int(time.time())
    form = signed_form(partner, params, aud=[ISSUER, "https://other.example"], nbf=now + 5)
    response = push_form(http, partner, form)
    assert response.status_code == 201, response.json


def test_only_the_request_objects_parameters_are_used(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9101 §6.3: "The authorization server MUST only use the parameters in the Request
    Object, even if the same parameter is provided in the query parameter": a redirect_uri,
    scope or consent next to the object changes nothing."""
    consent_id = create_consent(oauth_app, partner)
    decoy = create_consent(oauth_app, partner)
    params, verifier = oidc_params(partner, consent_id, claims=intent_claims(consent_id))
    outside = {
        "redirect_uri": "https://attacker.example/cb",
        "scope": "payments",
        "openbanking_intent_id": decoy,
        "claims": json.dumps(intent_claims(decoy)),
    }
    body = through(
        oauth_app,
        http,
        partner,
        push_form(http, partner, {**outside, **signed_form(partner, params)}),
        Code("", verifier, consent_id),
    )
    assert body["consent_id"] == consent_id and body["scope"] == "openid accounts"
    decoy_status = rows(oauth_app, "SELECT status FROM gw_consent WHERE id = :i", i=decoy)
    assert decoy_status == [{"status": "AWAU"}]


def test_a_parameter_sent_only_outside_the_request_object_is_not_used(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9101 §6.3: the PKCE challenge outside the object does not count, so the request
    lacks one (FAPI 2.0 §5.3.2.2 (4))."""
    consent_id = create_consent(oauth_app, partner)
    params, _verifier = oidc_params(partner, consent_id, claims=intent_claims(consent_id))
    inner = {k: v for k, v in params.items() if k != "code_challenge"}
    response = push_form(
        http, partner, {"code_challenge": params["code_challenge"], **signed_form(partner, inner)}
    )
    assert response.status_code == 400 and error_of(response) == "invalid_request"


def test_request_object_in_another_algorithm_than_the_registered_one_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """OIDC Dynamic Client Registration §2: "All Request Objects from this Client MUST be
    rejected, if not signed with this algorithm" (request_object_signing_alg)."""
    database: Database = oauth_app.extensions["database"]
    with database.sessions.begin() as session:
        app = session.scalars(select(App).where(App.client_id == partner.client_id)).one()
        app.client_metadata = {"request_object_signing_alg": "PS256"}
    consent_id = create_consent(oauth_app, partner)
    params, _verifier = oidc_params(partner, consent_id, claims=intent_claims(consent_id))
    response = push_form(http, partner, signed_form(partner, params))
    assert response.status_code == 400 and error_of(response) == "invalid_request_object"
    assert "PS256" in (response.json or {})["error_description"]


def test_request_object_of_a_client_without_keys_is_refused(
    oauth_app: Flask, http: FlaskClient
) -> None:
    """RFC 9101 §6.2: the signature is checked with a key associated with the client; a
    client_secret_basic app has none, so its request objects are invalid_request_object."""
    partner = register_partner(oauth_app, http, method="client_secret_basic")
    consent_id = create_consent(oauth_app, partner)
    params, _verifier = oidc_params(partner, consent_id, claims=intent_claims(consent_id))
    form = {
        "request": request_object(partner.client_id, partner.private_jwk, params),
        "client_id": partner.client_id,
    }
    basic = partner.client
    basic.client_secret = partner.secret
    response = http.post("/par", data=form, headers=basic._basic())
    assert response.status_code == 400 and error_of(response) == "invalid_request_object"
