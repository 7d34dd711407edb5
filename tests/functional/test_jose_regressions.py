"""Known JOSE attacks against every JWT the server accepts: client assertions (RFC 7523), DPoP
proofs (RFC 9449) and registration requests with their software statements (RFC 7591, OBIE
DCR). Each is refused; RFC 8725 (JWT Best Current Practices) is the reference for most."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from partners import directory
from tests.common.fapi import (
    TOKEN_URL,
    Software,
    assert_dcr_error,
    directory_key,
    error_of,
    issue_software,
    post,
    registered_apps,
    registration_claims,
    registration_request,
    rows,
    send_registration,
)
from tests.common.jose import (
    assertion_claims,
    assertion_form,
    assertion_header,
    attacker_key,
    hs256_with_public_key,
    proof_parts,
    sign,
    unsigned,
)
from tests.common.oauth import Partner, public

Forgery = Callable[[dict[str, Any], Any, dict[str, Any]], str]
BIG = "x" * 9000
ATTACKER = attacker_key()
ATTACKER_JKU = "https://attacker.example/jwks.json"


def _attacker_signed(extra: dict[str, Any]) -> Forgery:
    return lambda header, payload, _key: sign({**header, **extra}, payload, ATTACKER)


#: name -> (header, payload, the legitimate signer's private key) -> forged compact JWT
FORGERIES: dict[str, Forgery] = {
    "alg-none": lambda h, p, _k: unsigned(h, p),
    "alg-none-with-signature": lambda h, p, k: unsigned(h, p) + sign(h, p, k).rsplit(".", 1)[1],
    "hs256-keyed-with-public-key": lambda h, p, k: hs256_with_public_key(h, p, k),
    "unknown-crit": lambda h, p, k: sign({**h, "crit": ["urn:x:ext"], "urn:x:ext": 1}, p, k),
    "oversized-header": lambda h, p, k: sign({**h, "x-pad": BIG}, p, k),
    "payload-json-array": lambda h, p, k: sign(h, [p], k),
    "payload-json-string": lambda h, p, k: sign(h, "claims", k),
    "payload-not-json": lambda h, p, k: sign(h, b"\xff not json", k),
    "signature-of-other-payload": lambda h, p, k: (
        ".".join(sign(h, p, k).split(".")[:2])
        + "."
        + sign(h, {**p, "other": 1} if isinstance(p, dict) else p, k).split(".")[2]
    ),
}
#: Header-borne keys: the attacker signs and names their own key in the header.
EMBEDDED_KEYS: dict[str, Forgery] = {
    "embedded-jwk": _attacker_signed({"jwk": public(ATTACKER), "kid": ATTACKER["kid"]}),
    "embedded-jwk-registered-kid": _attacker_signed({"jwk": public(ATTACKER)}),
    "jku-header": _attacker_signed({"jku": ATTACKER_JKU, "kid": ATTACKER["kid"]}),
    "x5u-header": _attacker_signed({"x5u": ATTACKER_JKU, "kid": ATTACKER["kid"]}),
}


def token_count(app: Flask, client_id: str) -> int:
    return len(rows(app, "SELECT access_hash FROM gw_token WHERE client_id = :c", c=client_id))


# -- client assertions ---------------------------------------------------------------------------


def assertion_request(http: FlaskClient, partner: Partner, assertion: str) -> TestResponse:
    form = assertion_form(partner.client_id, assertion, grant_type="client_credentials")
    return post(http, TOKEN_URL, form)


def test_unforged_assertion_is_accepted(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """The positive control: the same builders, with nothing forged, authenticate."""
    header, claims = assertion_header(partner.private_jwk), assertion_claims(partner.client_id)
    response = assertion_request(http, partner, sign(header, claims, partner.private_jwk))
    assert response.status_code == 200


@pytest.mark.parametrize("forgery", sorted({**FORGERIES, **EMBEDDED_KEYS}))
def test_forged_client_assertion_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner, forgery: str
) -> None:
    """RFC 8725 §3.1 (alg none), §2.1/§3.1 (HMAC keyed with a public key), RFC 7515 §4.1.11
    (unknown crit), §4.1.2-§4.1.5 (keys named in the header are not trusted: RFC 7523 §3 (9)
    verifies with the client's registered keys), RFC 7519 §7.2 (claims are a JSON object)."""
    header, claims = assertion_header(partner.private_jwk), assertion_claims(partner.client_id)
    assertion = {**FORGERIES, **EMBEDDED_KEYS}[forgery](header, claims, partner.private_jwk)
    response = assertion_request(http, partner, assertion)
    assert response.status_code == 401, response.json
    assert error_of(response) == "invalid_client"
    assert token_count(oauth_app, partner.client_id) == 0


# -- DPoP proofs -------------------------------------------------------------------------------


def proof_request(http: FlaskClient, partner: Partner, proof: str) -> TestResponse:
    form = assertion_form(
        partner.client_id, partner.client.client_assertion(), grant_type="client_credentials"
    )
    return post(http, TOKEN_URL, form, dpop=proof)


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_dpop_proof_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner, forgery: str
) -> None:
    """RFC 9449 §4.3 (2) a well-formed JWT, (5) an asymmetric registered alg, not none, and
    RFC 8725 §3.1, §3.2; unknown crit and non-object claims refused as for any JWT."""
    key = attacker_key()
    header, claims = proof_parts(key, "POST", TOKEN_URL)
    response = proof_request(http, partner, FORGERIES[forgery](header, claims, key))
    assert response.status_code == 400, response.json
    assert error_of(response) == "invalid_dpop_proof"
    assert token_count(oauth_app, partner.client_id) == 0


def test_dpop_proof_naming_its_key_by_jku_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §4.2: the key is the jwk header, never fetched from a jku or x5u URL."""
    header, claims = proof_parts(ATTACKER, "POST", TOKEN_URL)
    header = {k: v for k, v in header.items() if k != "jwk"} | {"jku": ATTACKER_JKU}
    response = proof_request(http, partner, sign(header, claims, ATTACKER))
    assert response.status_code == 400 and error_of(response) == "invalid_dpop_proof"


# -- registration requests and software statements ------------------------------------------------


@pytest.fixture
def software(oauth_app: Flask) -> Software:
    return issue_software(oauth_app)


def request_parts(software: Software) -> tuple[dict[str, Any], dict[str, Any]]:
    key = software.private_jwk
    return {"alg": "ES256", "kid": key["kid"], "typ": "JWT"}, registration_claims(software)


def test_unforged_registration_request_is_accepted(
    oauth_app: Flask, http: FlaskClient, software: Software
) -> None:
    """The positive control: RFC 7591 §3.2.1 201 Created."""
    response = send_registration(http, registration_request(software))
    assert response.status_code == 201, response.json
    assert len(registered_apps(oauth_app, software.software_id)) == 1


@pytest.mark.parametrize("forgery", sorted({**FORGERIES, **EMBEDDED_KEYS}))
def test_forged_registration_request_is_refused(
    oauth_app: Flask, http: FlaskClient, software: Software, forgery: str
) -> None:
    """OBIE DCR: the request is signed by a key of the software statement; RFC 8725 §3.1."""
    header, claims = request_parts(software)
    body = {**FORGERIES, **EMBEDDED_KEYS}[forgery](header, claims, software.private_jwk)
    assert_dcr_error(send_registration(http, body))
    assert registered_apps(oauth_app, software.software_id) == []


SSA_FORGERIES = {
    "alg-none": FORGERIES["alg-none"],
    "hs256-keyed-with-directory-public-key": FORGERIES["hs256-keyed-with-public-key"],
    "unknown-crit": FORGERIES["unknown-crit"],
    "payload-json-array": FORGERIES["payload-json-array"],
    **EMBEDDED_KEYS,
}


@pytest.mark.parametrize("forgery", sorted(SSA_FORGERIES))
def test_forged_software_statement_is_refused(
    oauth_app: Flask, http: FlaskClient, software: Software, forgery: str
) -> None:
    """RFC 7591 §2.3: the statement is verified with the directory's key only; RFC 8725 §3.1."""
    kid, directory_jwk = directory_key(oauth_app)
    claims = {
        "iss": directory.DIRECTORY_ISSUER,
        "software_id": software.software_id,
        "org_id": software.organisation_id,
        "software_redirect_uris": ["https://tpp.example/callback"],
        "software_jwks": {"keys": [public(software.private_jwk)]},
        "software_roles": ["AISP"],
    }
    statement = SSA_FORGERIES[forgery](
        {"alg": "ES256", "kid": kid, "typ": "JWT"}, claims, directory_jwk
    )
    body = registration_request(software, software_statement=statement)
    assert_dcr_error(send_registration(http, body), "invalid_software_statement")
    assert registered_apps(oauth_app, software.software_id) == []
