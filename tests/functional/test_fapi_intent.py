"""The intent binding UK Open Banking partners send: scope ``openid accounts``, the consent named as
the essential ``openbanking_intent_id`` claim of the OIDC ``claims`` parameter, as a form parameter
or inside a signed request object (RFC 9101, FAPI 2.0 Message Signing), or by the gateway's
``openbanking_intent_id`` shortcut; and the ID token the token endpoint answers with (OIDC Core).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from authlib.oidc.core import CodeIDToken
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from gateway.oauth import oidc
from tests.common.fapi import (
    TOKEN_URL,
    Code,
    authenticated,
    authorize_url,
    error_of,
    intent_claims,
    oidc_params,
    post,
    push_form,
    pushed_count,
    rows,
    signed_form,
)
from tests.common.fapi import approve_and_exchange as through
from tests.common.jose import (
    DROP,
)
from tests.common.oauth import (
    ISSUER,
    REDIRECT_URI,
    Partner,
    approve_in_browser,
    create_consent,
    register_partner,
)

ACR = "urn:openbanking:psd2:sca"


def jwks(http: FlaskClient) -> KeySet:
    return KeySet.import_key_set(http.get("/jwks").json or {})


def verified_id_token(
    http: FlaskClient, partner: Partner, body: dict[str, Any], consent_id: str, nonce: str | None
) -> dict[str, Any]:
    """The ID token of a token response, verified as a client would (OIDC Core §3.1.3.7): the
    signature with a key of /jwks, then Authlib's ID token claim rules, then this profile's."""
    token = jwt.decode(body["id_token"], jwks(http), algorithms=["ES256"])
    assert token.header["alg"] == "ES256" and token.header["kid"]
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": ISSUER},
            "aud": {"essential": True, "value": partner.client_id},
            "sub": {"essential": True, "value": consent_id},
            "acr": {"essential": True, "value": ACR},
            "auth_time": {"essential": True},
        },
        params={
            "nonce": nonce,
            "client_id": partner.client_id,
            "access_token": body["access_token"],
        },
    )
    claims.validate(now=int(time.time()))
    assert claims["openbanking_intent_id"] == consent_id
    assert claims["exp"] - claims["iat"] == 600
    assert claims["auth_time"] <= claims["iat"] <= time.time() + 1
    assert "at_hash" in claims  # checked by validate() against the access token
    assert ("nonce" in claims) == (nonce is not None)
    return dict(claims)


# -- the three forms -----------------------------------------------------------------------------


Form = tuple[dict[str, Any], str, str]


def _claims_form(partner: Partner, consent_id: str, scope: str) -> Form:
    params, verifier = oidc_params(partner, consent_id, scope=scope)
    return params, verifier, params["nonce"]


def _request_form(partner: Partner, consent_id: str, scope: str) -> Form:
    params, verifier = oidc_params(
        partner, consent_id, scope=scope, claims=intent_claims(consent_id)
    )
    return signed_form(partner, params), verifier, params["nonce"]


def _shortcut_form(partner: Partner, consent_id: str, scope: str) -> Form:
    params, verifier = oidc_params(
        partner, consent_id, scope=scope, claims=DROP, openbanking_intent_id=consent_id
    )
    return params, verifier, params["nonce"]


#: The three ways to name the consent: (partner, consent id, scope) -> (form, verifier, nonce)
FORMS: dict[str, Callable[[Partner, str, str], Form]] = {
    "claims": _claims_form,
    "request-object": _request_form,
    "shortcut": _shortcut_form,
}


@pytest.mark.parametrize("kind", ["accounts", "payments"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_authorises_the_consent_it_names_and_the_id_token_says_so(
    oauth_app: Flask, http: FlaskClient, partner: Partner, form: str, kind: str
) -> None:
    """OBIE: the consent named by openbanking_intent_id (claims, request object or shortcut) is
    the one authorised, whichever family's scope; OIDC Core §3.1.3.3: with openid the token
    response carries an ID token, verified with a key of /jwks (OIDC Core §3.1.3.7)."""
    permissions = ["ReadAccountsBasic"] if kind == "accounts" else []
    consent_id = create_consent(oauth_app, partner, kind=kind, permissions=permissions)
    params, verifier, nonce = FORMS[form](partner, consent_id, f"openid {kind}")
    body = through(
        oauth_app, http, partner, push_form(http, partner, params), Code("", verifier, consent_id)
    )
    assert body["consent_id"] == consent_id and body["scope"] == f"openid {kind}"
    claims = verified_id_token(http, partner, body, consent_id, nonce)
    assert claims["sub"] == consent_id


@pytest.mark.parametrize("form", ["claims", "shortcut"])
def test_without_openid_there_is_no_id_token(
    oauth_app: Flask, http: FlaskClient, partner: Partner, form: str
) -> None:
    """OIDC Core §3.1.2.1: without the openid scope the request is plain OAuth, and the token
    response carries no ID token; the consent is authorised all the same."""
    consent_id = create_consent(oauth_app, partner)
    params, verifier, _nonce = FORMS[form](partner, consent_id, "accounts")
    body = through(
        oauth_app,
        http,
        partner,
        push_form(http, partner, params),
        Code("", verifier, consent_id),
    )
    assert body["consent_id"] == consent_id and body["scope"] == "accounts"
    assert "id_token" not in body


def test_refresh_returns_an_id_token_for_the_same_authentication(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """OIDC Core §12.2: the ID token of a refresh has the iss, sub, aud and auth_time of the
    first one and is a new one (its at_hash is the new access token's); a refresh narrowed to
    the API scope has none."""
    consent_id = create_consent(oauth_app, partner)
    params, verifier, nonce = _claims_form(partner, consent_id, "openid accounts")
    first = through(
        oauth_app, http, partner, push_form(http, partner, params), Code("", verifier, consent_id)
    )
    original = verified_id_token(http, partner, first, consent_id, nonce)
    again = _refresh(http, partner, first["refresh_token"])
    renewed = verified_id_token(http, partner, again, consent_id, None)
    for name in ("iss", "sub", "aud", "auth_time", "acr", "openbanking_intent_id"):
        assert renewed[name] == original[name], name
    assert renewed["iat"] >= original["iat"] and renewed["at_hash"] != original["at_hash"]
    narrowed = _refresh(http, partner, again["refresh_token"], scope="accounts")
    assert narrowed["scope"] == "accounts" and "id_token" not in narrowed


def _refresh(http: FlaskClient, partner: Partner, token: str, **extra: str) -> dict[str, Any]:
    form = authenticated(partner, grant_type="refresh_token", refresh_token=token, **extra)
    response = post(http, TOKEN_URL, form, dpop=partner.client.dpop_proof("POST", TOKEN_URL))
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json or {}
    return body


def test_the_example_client_sends_the_standard_forms(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """The example client pushes openid + claims, or a request object, and checks the ID token."""
    for signed in (False, True):
        consent_id = create_consent(oauth_app, partner)
        request_uri, verifier, _state = partner.client.push_authorization_request(
            consent_id, nonce="n-0S6_WzA2Mj", signed=signed
        )
        answer = approve_in_browser(
            oauth_app,
            oauth_app.test_client(),
            authorize_url(partner, request_uri),
            partner.organisation_id,
        )
        tokens = partner.client.exchange_code(answer["code"], verifier)
        identity = partner.client.verify_id_token(tokens["id_token"], consent_id, "n-0S6_WzA2Mj")
        assert identity["sub"] == consent_id and identity["acr"] == ACR


# -- unknown parameters are ignored; what is malformed or forbidden is refused -------------------


@pytest.mark.parametrize("name", ["x_unknown", "max_age", "acr_values", "authorization_details"])
def test_unrecognised_parameters_are_ignored(
    oauth_app: Flask, http: FlaskClient, partner: Partner, name: str
) -> None:
    """RFC 6749 §3.1: "The authorization server MUST ignore unrecognized request parameters."
    They are not kept with the request either."""
    consent_id = create_consent(oauth_app, partner)
    params, _verifier = oidc_params(partner, consent_id, **{name: "x"})
    response = push_form(http, partner, params)
    assert response.status_code == 201, response.json
    stored = rows(
        oauth_app,
        "SELECT parameters FROM gw_pushed_request WHERE request_uri = :u",
        u=(response.json or {})["request_uri"],
    )
    parameters = stored[0]["parameters"]
    parameters = json.loads(parameters) if isinstance(parameters, str) else parameters
    assert name not in parameters and parameters["openbanking_intent_id"] == consent_id


#: name -> (parameter overrides given the consent id, expected error)
CLAIMS_RULES: dict[str, Any] = {
    "not-json": lambda c: {"claims": "{not json"},
    "json-array": lambda c: {"claims": json.dumps([intent_claims(c)])},
    "member-not-object": lambda c: {"claims": json.dumps({"id_token": "openbanking_intent_id"})},
    "claim-not-object": lambda c: {
        "claims": json.dumps({"id_token": {"openbanking_intent_id": 1}})
    },
    "intent-without-value": lambda c: {
        "claims": json.dumps({"id_token": {"openbanking_intent_id": {"essential": True}}})
    },
    "intent-not-a-string": lambda c: {
        "claims": json.dumps({"id_token": {"openbanking_intent_id": {"value": 7}}})
    },
    "id-token-and-userinfo-differ": lambda c: {
        "claims": json.dumps({**intent_claims(c, "id_token"), **intent_claims(c + "x", "userinfo")})
    },
    "claims-and-shortcut-differ": lambda c: {"openbanking_intent_id": c + "x"},
    "no-consent-named": lambda c: {"claims": json.dumps({"id_token": {"acr": None}})},
    "essential-acr-not-met": lambda c: {
        "claims": json.dumps(
            {
                **intent_claims(c),
                "id_token": {
                    **intent_claims(c)["id_token"],
                    "acr": {"essential": True, "values": ["urn:openbanking:psd2:ca"]},
                },
            }
        )
    },
    "response-mode-fragment": lambda c: {"response_mode": "fragment"},
    "request-uri-pushed": lambda c: {"request_uri": "urn:ietf:params:oauth:request_uri:x"},
}


@pytest.mark.parametrize("case", sorted(CLAIMS_RULES))
def test_malformed_or_contradictory_consent_naming_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner, case: str
) -> None:
    """OIDC Core §5.5: claims is a JSON object of JSON objects; the consent is named once (two
    different ids are refused, never one picked); an essential acr that cannot be met is a
    failed authentication (§5.5.1.1); RFC 9126 §2.1: no request_uri in a pushed request."""
    consent_id = create_consent(oauth_app, partner)
    params, _verifier = oidc_params(partner, consent_id, **CLAIMS_RULES[case](consent_id))
    response = push_form(http, partner, params)
    assert response.status_code == 400, response.json
    assert error_of(response) == "invalid_request"
    assert pushed_count(oauth_app, partner.client_id) == 0


def test_claims_naming_another_clients_consent_is_an_error_redirect(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """A consent belongs to the client that created it: named in claims by another client, the
    authorization answers invalid_request (with iss, RFC 9207) and the consent is untouched."""
    victim = register_partner(oauth_app, http)
    foreign = create_consent(oauth_app, victim)
    params, _verifier = oidc_params(partner, foreign, state="st-claims")
    response = push_form(http, partner, params)
    assert response.status_code == 201
    url = authorize_url(partner, (response.json or {})["request_uri"])
    answer = oauth_app.test_client().get(url)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?") and "error=invalid_request" in location
    assert f"iss={ISSUER.replace(':', '%3A').replace('/', '%2F')}" in location
    assert "state=st-claims" in location
    status = rows(oauth_app, "SELECT status FROM gw_consent WHERE id = :i", i=foreign)
    assert status == [{"status": "AWAU"}]


# -- scopes and metadata -------------------------------------------------------------------------


def test_openid_is_no_scope_for_client_credentials(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """OIDC Core §3.1.2.1: openid asks for the customer's authentication, which a
    client-credentials token has none of: the scope is refused there."""
    form = authenticated(partner, grant_type="client_credentials", scope="openid accounts")
    response = post(http, TOKEN_URL, form, dpop=partner.client.dpop_proof("POST", TOKEN_URL))
    assert response.status_code == 400 and error_of(response) == "invalid_scope"


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_metadata_publishes_the_openid_connect_support(http: FlaskClient, path: str) -> None:
    """RFC 8414 §2 and OpenID Connect Discovery 1.0 §3: what the client may send and what the ID
    token carries."""
    metadata = http.get(path).json or {}
    assert metadata["issuer"] == ISSUER and metadata["jwks_uri"] == ISSUER + "/jwks"
    assert "openid" in metadata["scopes_supported"]
    assert {"accounts", "payments", "fundsconfirmations"} <= set(metadata["scopes_supported"])
    assert metadata["claims_parameter_supported"] is True
    assert metadata["request_parameter_supported"] is True
    assert metadata["request_object_signing_alg_values_supported"] == ["PS256", "ES256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["ES256"]
    assert metadata["subject_types_supported"] == ["pairwise"]
    assert metadata["acr_values_supported"] == [ACR]
    assert {"sub", "acr", "auth_time", "nonce", "openbanking_intent_id"} <= set(
        metadata["claims_supported"]
    )
    assert oidc.ACR == ACR
