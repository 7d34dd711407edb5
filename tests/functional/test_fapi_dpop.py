"""DPoP (RFC 9449): every check of §4.3 on proofs at the token endpoint and at the resource,
binding of codes through ``dpop_jkt`` (§10), and of tokens through ``cnf.jkt`` (§6, §7)."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.errors import SecurityWarning
from joserfc.jwk import RSAKey
from werkzeug.test import TestResponse

from tests.common.fapi import (
    PAR_URL,
    PROBE,
    PROTECTED_URL,
    TOKEN_URL,
    authenticated,
    error_of,
    exchange,
    obtain_code,
    obtain_unbound,
    par_params,
    post,
    push,
    rows,
    tokens_for,
)
from tests.common.jose import DROP, attacker_key, dpop_proof, jkt, rsa_key
from tests.common.oauth import ISSUER, Partner, create_consent, public, register_partner


@pytest.fixture(scope="module")
def bound(oauth_app: Flask) -> tuple[Partner, str]:
    """A partner and a DPoP-bound access token of a code grant, shared by the resource tests
    (none of them revokes it)."""
    http = oauth_app.test_client()
    partner = register_partner(oauth_app, http)
    return partner, tokens_for(oauth_app, http, partner)["access_token"]


def token_count(app: Flask, client_id: str) -> int:
    return len(rows(app, "SELECT access_hash FROM gw_token WHERE client_id = :c", c=client_id))


def client_credentials(
    http: FlaskClient, partner: Partner, proof: str | list[str] | None
) -> TestResponse:
    form = authenticated(partner, grant_type="client_credentials", scope="accounts")
    return post(http, TOKEN_URL, form, dpop=proof)


def assert_bad_proof(app: Flask, response: TestResponse, partner: Partner) -> None:
    assert response.status_code == 400, response.json
    assert error_of(response) == "invalid_dpop_proof"
    assert token_count(app, partner.client_id) == 0


def resource(
    http: FlaskClient, token: str, *, scheme: str = "DPoP", proof: str | None
) -> TestResponse:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return http.get("/_protected", headers=headers)


def assert_resource_refused(response: TestResponse) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].split(" ")[0] in ("DPoP", "Bearer")
    assert (response.json or {})["Errors"][0]["ErrorCode"] == "U042"


# -- proofs at the token endpoint (§4.3) -----------------------------------------------------


def test_valid_proof_binds_the_token_to_its_key(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §5: token_type DPoP and cnf.jkt = the proof key's thumbprint (RFC 7638)."""
    key = attacker_key()
    response = client_credentials(http, partner, dpop_proof(key, "POST", TOKEN_URL))
    assert response.status_code == 200 and (response.json or {})["token_type"] == "DPoP"
    [row] = rows(
        oauth_app, "SELECT cnf_jkt FROM gw_token WHERE client_id = :c", c=partner.client_id
    )
    assert row["cnf_jkt"] == jkt(key)


def test_ps256_proof_with_an_rsa_key_is_accepted(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §4.3 (5) and FAPI 2.0 §5.4.1: PS256 proofs, whose header carries a whole RSA
    public key, must fit the header size limit."""
    key = rsa_key()
    response = client_credentials(http, partner, dpop_proof(key, "POST", TOKEN_URL))
    assert response.status_code == 200, response.json
    [row] = rows(
        oauth_app, "SELECT cnf_jkt FROM gw_token WHERE client_id = :c", c=partner.client_id
    )
    assert row["cnf_jkt"] == jkt(key)


def test_proof_with_an_rsa_key_under_2048_bits_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """FAPI 2.0 §5.4.1: RSA keys shall have a minimum length of 2048 bits."""
    with warnings.catch_warnings():
        # joserfc itself warns about such a key; building the forgery needs it all the same.
        warnings.simplefilter("ignore", SecurityWarning)
        weak = RSAKey.generate_key(1024, auto_kid=True).as_dict(private=True)
        proof = dpop_proof(weak, "POST", TOKEN_URL)
    response = client_credentials(http, partner, proof)
    assert_bad_proof(oauth_app, response, partner)
    assert "2048" in (response.json or {})["error_description"]


BAD_PROOFS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (header overrides, claim overrides); iat values are offsets from now
    "htm-wrong": ({}, {"htm": "GET"}),
    "htm-lowercase": ({}, {"htm": "post"}),
    "htm-missing": ({}, {"htm": DROP}),
    "htu-other-endpoint": ({}, {"htu": PAR_URL}),
    "htu-other-host": ({}, {"htu": "https://attacker.example/token"}),
    "htu-other-scheme": ({}, {"htu": "https://localhost/token"}),
    "htu-missing": ({}, {"htu": DROP}),
    "iat-stale": ({}, {"iat": -400}),
    "iat-future": ({}, {"iat": 120}),
    "iat-missing": ({}, {"iat": DROP}),
    "iat-not-number": ({}, {"iat": "now"}),
    # Python's JSON reads NaN and Infinity; NaN compares false with everything.
    "iat-nan": ({}, {"iat": float("nan")}),
    "iat-infinite": ({}, {"iat": float("inf")}),
    "jti-missing": ({}, {"jti": DROP}),
    "jti-too-short": ({}, {"jti": "abc"}),
    "typ-jwt": ({"typ": "JWT"}, {}),
    "typ-missing": ({"typ": DROP}, {}),
    "jwk-missing": ({"jwk": DROP}, {}),
    "jwk-not-object": ({"jwk": "key"}, {}),
    "jwk-symmetric": ({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}, {}),
    "jwk-off-curve": ({"jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}}, {}),
    "jwk-okp": (
        {
            "jwk": {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            }
        },
        {},
    ),
    "jwk-another-key": ({"jwk": public(attacker_key())}, {}),
}


def _relabelled(proof: str, **header: Any) -> str:
    """``proof`` with header members replaced and its signature kept."""
    head, payload, signature = proof.split(".")
    members = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))) | header
    encoded = base64.urlsafe_b64encode(json.dumps(members).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{signature}"


def _flipped(proof: str) -> str:
    """``proof`` with one bit of its signature changed."""
    head, payload, signature = proof.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 1
    return f"{head}.{payload}." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("make_key", "forge"),
    [
        pytest.param(attacker_key, _flipped, id="bit-flipped"),
        pytest.param(attacker_key, lambda p: _relabelled(p, alg="PS256"), id="es256-as-ps256"),
        pytest.param(rsa_key, lambda p: _relabelled(p, alg="ES256"), id="ps256-as-es256"),
    ],
)
def test_proof_whose_signature_does_not_verify_is_refused(
    http: FlaskClient,
    partner: Partner,
    make_key: Callable[[], dict[str, Any]],
    forge: Callable[[str], str],
) -> None:
    """RFC 9449 §4.3 (6): the signature verifies with the header's key under the header's alg,
    also for a key the server has seen before (keys are imported once and reused)."""
    key = make_key()
    assert client_credentials(http, partner, dpop_proof(key, "POST", TOKEN_URL)).status_code == 200
    response = client_credentials(http, partner, forge(dpop_proof(key, "POST", TOKEN_URL)))
    assert response.status_code == 400, response.json
    assert error_of(response) == "invalid_dpop_proof"


@pytest.mark.parametrize("case", sorted(BAD_PROOFS))
def test_proof_rules_at_the_token_endpoint(
    oauth_app: Flask, http: FlaskClient, partner: Partner, case: str
) -> None:
    """RFC 9449 §4.3: (3) required claims, (4) typ dpop+jwt, (6) signature by the jwk, (7) a
    public key, (8) htm, (9) htu, (11) iat within the window; §4.2 jti unique."""
    header, claims = BAD_PROOFS[case]
    if isinstance(claims.get("iat"), int):
        claims = {**claims, "iat": int(time.time()) + claims["iat"]}
    proof = dpop_proof(attacker_key(), "POST", TOKEN_URL, header=header, **claims)
    assert_bad_proof(oauth_app, client_credentials(http, partner, proof), partner)


@pytest.mark.parametrize(
    "htu",
    [
        "HTTP://LOCALHOST/token",  # scheme and host are case-insensitive
        "http://localhost:80/token",  # the default port
        "http://localhost/%74oken",  # a percent-encoded unreserved character
    ],
)
def test_an_equivalent_htu_is_accepted(
    oauth_app: Flask, http: FlaskClient, partner: Partner, htu: str
) -> None:
    """RFC 9449 §4.3 (9) with the RFC 3986 §6.2.2 and §6.2.3 normalisation it recommends."""
    proof = dpop_proof(attacker_key(), "POST", TOKEN_URL, htu=htu)
    assert client_credentials(http, partner, proof).status_code == 200


def test_private_key_in_the_jwk_header_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §4.3 (7): the jwk header does not contain a private key."""
    key = attacker_key()
    proof = dpop_proof(key, "POST", TOKEN_URL, header={"jwk": key})
    assert_bad_proof(oauth_app, client_credentials(http, partner, proof), partner)


def test_replayed_proof_is_refused(oauth_app: Flask, http: FlaskClient, partner: Partner) -> None:
    """RFC 9449 §11.1: a proof (its jti) is accepted once."""
    proof = dpop_proof(attacker_key(), "POST", TOKEN_URL)
    assert client_credentials(http, partner, proof).status_code == 200
    replay = client_credentials(http, partner, proof)
    assert replay.status_code == 400 and error_of(replay) == "invalid_dpop_proof"
    assert token_count(oauth_app, partner.client_id) == 1


def test_two_dpop_headers_are_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §4.3 (1): not more than one DPoP HTTP request header field."""
    key = attacker_key()
    proofs = [dpop_proof(key, "POST", TOKEN_URL), dpop_proof(key, "POST", TOKEN_URL)]
    response = client_credentials(http, partner, proofs)
    assert_bad_proof(oauth_app, response, partner)
    assert "exactly one" in (response.json or {})["error_description"]


def test_dpop_bound_app_without_proof_at_token_is_invalid_request(
    oauth_app: Flask, http: FlaskClient
) -> None:
    """FAPI 2.0 §5.3.2.1 (sender-constrained tokens only) with RFC 9449 §5: an app registered
    for DPoP gets no bearer token."""
    partner = register_partner(oauth_app, http, dpop_bound=True)
    response = client_credentials(http, partner, None)
    assert response.status_code == 400 and error_of(response) == "invalid_request"
    assert token_count(oauth_app, partner.client_id) == 0


# -- dpop_jkt and code binding (§10) -------------------------------------------------------------


def test_dpop_jkt_different_from_the_proof_at_par_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §10.1: with both, dpop_jkt must match the thumbprint of the proof's key."""
    proof = dpop_proof(attacker_key(), "POST", PAR_URL)
    response = push(http, partner, create_consent(oauth_app, partner), dpop=proof)
    assert response.status_code == 400 and error_of(response) == "invalid_dpop_proof"
    assert (
        rows(oauth_app, "SELECT * FROM gw_pushed_request WHERE client_id = :c", c=partner.client_id)
        == []
    )


def test_dpop_bound_app_must_bind_its_pushed_request(oauth_app: Flask, http: FlaskClient) -> None:
    """RFC 9449 §10 with FAPI 2.0 §5.3.2.1: without dpop_jkt or a proof the code is unbound."""
    partner = register_partner(oauth_app, http, dpop_bound=True)
    response = push(http, partner, create_consent(oauth_app, partner), dpop_jkt=DROP)
    assert response.status_code == 400 and error_of(response) == "invalid_request"


@pytest.mark.parametrize("with_proof", [True, False], ids=["other-key", "no-proof"])
def test_code_bound_by_dpop_jkt_is_redeemed_only_with_that_key(
    oauth_app: Flask, http: FlaskClient, partner: Partner, with_proof: bool
) -> None:
    """RFC 9449 §10: a code bound to dpop_jkt is exchanged with a proof of that very key."""
    code = obtain_code(oauth_app, partner)
    proof = dpop_proof(attacker_key(), "POST", TOKEN_URL) if with_proof else None
    assert_bad_proof(oauth_app, exchange(http, partner, code, dpop=proof), partner)
    assert exchange(http, partner, code).status_code == 200


# -- proofs at the resource (§7) -----------------------------------------------------------------


def test_bound_token_with_a_fresh_proof_opens_the_resource(
    http: FlaskClient, bound: tuple[Partner, str]
) -> None:
    """RFC 9449 §7.1: the positive control of the refusals below."""
    partner, token = bound
    proof = partner.client.dpop_proof("GET", PROTECTED_URL, access_token=token)
    assert resource(http, token, proof=proof).status_code == 200


@pytest.mark.parametrize(
    "case",
    ["ath-missing", "ath-wrong", "other-key", "htm-wrong", "htu-wrong", "no-proof", "stale"],
)
def test_proof_rules_at_the_resource(
    http: FlaskClient, bound: tuple[Partner, str], case: str
) -> None:
    """RFC 9449 §4.3 (12) ath = hash of the token; §7.1 proof by the key of cnf.jkt; (8), (9)
    htm and htu of this request; (11) fresh iat."""
    partner, token = bound
    own = partner.client.dpop_jwk
    proofs = {
        "ath-missing": lambda: dpop_proof(own, "GET", PROTECTED_URL),
        "ath-wrong": lambda: dpop_proof(own, "GET", PROTECTED_URL, access_token=token + "x"),
        "other-key": lambda: dpop_proof(attacker_key(), "GET", PROTECTED_URL, access_token=token),
        "htm-wrong": lambda: dpop_proof(own, "POST", PROTECTED_URL, access_token=token),
        "htu-wrong": lambda: dpop_proof(own, "GET", TOKEN_URL, access_token=token),
        "no-proof": lambda: None,
        "stale": lambda: dpop_proof(
            own, "GET", PROTECTED_URL, access_token=token, iat=int(time.time()) - 400
        ),
    }
    response = resource(http, token, proof=proofs[case]())
    assert_resource_refused(response)
    assert response.headers["WWW-Authenticate"].startswith("DPoP ")
    assert 'algs="PS256 ES256"' in response.headers["WWW-Authenticate"]


def test_replayed_proof_at_the_resource_is_refused(
    http: FlaskClient, bound: tuple[Partner, str]
) -> None:
    """RFC 9449 §11.1: a proof is used once, at the resource too."""
    partner, token = bound
    proof = partner.client.dpop_proof("GET", PROTECTED_URL, access_token=token)
    assert resource(http, token, proof=proof).status_code == 200
    assert_resource_refused(resource(http, token, proof=proof))


def test_bound_token_with_the_bearer_scheme_is_refused(
    http: FlaskClient, bound: tuple[Partner, str]
) -> None:
    """RFC 9449 §7.1: a DPoP-bound token is presented with the DPoP scheme, never as Bearer."""
    partner, token = bound
    proof = partner.client.dpop_proof("GET", PROTECTED_URL, access_token=token)
    for with_proof in (proof, None):
        response = resource(http, token, scheme="Bearer", proof=with_proof)
        assert_resource_refused(response)


def test_bearer_token_with_the_dpop_scheme_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §7.2 / RFC 6750 §2.1: an unbound token is a Bearer token, not a DPoP one."""
    token = obtain_unbound(oauth_app, http, partner)
    proof = dpop_proof(attacker_key(), "GET", PROTECTED_URL, access_token=token)
    assert_resource_refused(resource(http, token, scheme="DPoP", proof=proof))
    assert resource(http, token, scheme="Bearer", proof=None).status_code == 200


# -- htu against the request target as sent (§4.3 (9), with §4.2's normalisation) ---------------

# /_protected checks the token in the view; PROBE (under the API prefix) at the edge, before it.
RESOURCES = ["/_protected", PROBE]


def sent(http: FlaskClient, bound: tuple[Partner, str], target: str, htu: str) -> TestResponse:
    """GET ``target`` (a path as sent, percent-encoded) with a proof whose htu is ``htu``."""
    partner, token = bound
    proof = dpop_proof(partner.client.dpop_jwk, "GET", ISSUER + htu, access_token=token)
    return http.get(target, headers={"Authorization": f"DPoP {token}", "DPoP": proof})


@pytest.mark.parametrize("base", RESOURCES)
@pytest.mark.parametrize(
    ("target", "htu"),
    [
        pytest.param("/a%3Fb", "/a%3Fb", id="%3F"),
        pytest.param("/a%23b", "/a%23b", id="%23"),
        pytest.param("/a%2Fb", "/a%2Fb", id="%2F"),
        pytest.param("/a%3Fb?x=1", "/a%3Fb", id="query-ignored"),
        pytest.param("/a%7Eb", "/a~b", id="%7E-is-tilde"),
        pytest.param("/a~b", "/a%7eb", id="tilde-is-%7e"),
        pytest.param("/a%3fb", "/a%3Fb", id="lowercase-hex-sent"),
        pytest.param("/a%2Fb", "/a%2fb", id="lowercase-hex-signed"),
        pytest.param("/%61%2D%31", "/a-1", id="unreserved-all-encoded"),
    ],
)
def test_a_proof_for_the_target_as_sent_is_accepted(
    http: FlaskClient, bound: tuple[Partner, str], base: str, target: str, htu: str
) -> None:
    """RFC 9449 §4.3 (9): htu is the URI of the request as the client sent it; §4.2: compared
    after RFC 3986 §6.2.2 normalisation (case of percent-encodings, unreserved characters
    decoded), which leaves reserved characters encoded."""
    response = sent(http, bound, base + target, base + htu)
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("base", RESOURCES)
@pytest.mark.parametrize(
    ("target", "htu"),
    [
        # The decoded path: a reserved character decoded is another URI.
        pytest.param("/a%3Fb", "/a?b", id="%3F-as-query"),
        pytest.param("/a%23b", "/a#b", id="%23-as-fragment"),
        pytest.param("/a%2Fb", "/a/b", id="%2F-as-slash"),
        # A proof made for the URL the decoded path used to be cut or cleaned to.
        pytest.param("/a%3Fb", "/a", id="%3F-cut"),
        pytest.param("/a%23b", "/a", id="%23-cut"),
        # Another URL altogether, and the query sent as part of the path.
        pytest.param("/a", "/b", id="other-url"),
        pytest.param("/a%3Fb", "/a%3Fc", id="other-encoded-url"),
        pytest.param("/a?b", "/a%3Fb", id="query-as-path"),
        pytest.param("/a%252Fb", "/a%2Fb", id="encoded-twice"),
    ],
)
def test_a_proof_for_another_target_is_refused(
    http: FlaskClient, bound: tuple[Partner, str], base: str, target: str, htu: str
) -> None:
    """RFC 9449 §4.3 (9): a proof for another URI, however close, does not open this one."""
    response = sent(http, bound, base + target, base + htu)
    assert_resource_refused(response)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('DPoP error="invalid_dpop_proof"') and "htu" in challenge


@pytest.mark.parametrize("base", RESOURCES)
@pytest.mark.parametrize(
    ("target", "htu"),
    [
        pytest.param("/a%09b", "/a%09b", id="%09-as-sent"),
        pytest.param("/a%0Ab", "/a%0Ab", id="%0A-as-sent"),
        pytest.param("/a%09b", "/ab", id="%09-dropped"),
        pytest.param("/a%0Ab", "/ab", id="%0A-dropped"),
    ],
)
def test_a_control_character_in_the_target_is_refused_before_any_proof(
    http: FlaskClient, bound: tuple[Partner, str], base: str, target: str, htu: str
) -> None:
    """A TAB or LF in the path never reaches the proof's check: the edge refuses the request for
    what it names (400), whatever the proof says (the htu comparison itself keeps %09 and %0A
    encoded: tests/unit/gateway/test_dpop_htu.py)."""
    response = sent(http, bound, base + target, base + htu)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    ("target", "htu"),
    [
        ("/%74oken", TOKEN_URL),
        ("/%74oken", ISSUER + "/%74oken"),
        ("/%74ok%65n", ISSUER + "/t%6Fken"),
    ],
)
def test_the_token_endpoint_compares_htu_with_the_target_as_sent(
    http: FlaskClient, partner: Partner, target: str, htu: str
) -> None:
    """RFC 9449 §4.3 (9) at the authorization server: the request target as sent, normalised,
    is the endpoint's URL."""
    form = authenticated(partner, grant_type="client_credentials", scope="accounts")
    proof = dpop_proof(attacker_key(), "POST", htu)
    response = http.post(target, data=form, headers={"DPoP": proof})
    assert response.status_code == 200, response.json


def test_the_par_endpoint_refuses_a_proof_for_another_target(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §4.3 (9) at PAR: a proof for the token endpoint does not serve at /par, however
    the path is encoded; one for /par does."""
    consent_id = create_consent(oauth_app, partner)
    for htu, status in ((TOKEN_URL, 400), (PAR_URL, 201)):
        params, _verifier = par_params(partner, consent_id)
        proof = dpop_proof(partner.client.dpop_jwk, "POST", htu)
        response = http.post(
            "/p%61r", data=authenticated(partner, **params), headers={"DPoP": proof}
        )
        assert response.status_code == status, response.json
