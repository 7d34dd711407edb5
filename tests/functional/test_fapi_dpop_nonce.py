"""Server DPoP nonces (RFC 9449 §8 at the token endpoint, §9 at the resources): offered in every
response to a request with a proof, checked when a proof carries one, and required by an app
configured so; clients that know nothing of nonces keep working where they are only offered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.oauth.nonces import LIFETIME, Nonces
from tests.common.fapi import (
    PROBE,
    TOKEN_URL,
    authenticated,
    error_of,
    post,
    protected_app,
    tokens_for,
)
from tests.common.jose import attacker_key, dpop_proof
from tests.common.oauth import (
    ISSUER,
    Partner,
    approve_in_browser,
    create_consent,
    register_partner,
)
from tests.common.obie import ConformingClient

RESOURCES = ["/_protected", PROBE]


@pytest.fixture(scope="module")
def strict_app(database_url: str) -> Iterator[Flask]:
    """The gateway with nonces required in every proof."""
    app = protected_app(database_url, DPOP_NONCE="required")
    app.test_client_class = ConformingClient
    yield app
    app.extensions["database"].dispose()


def nonce_of(app: Flask, response: TestResponse) -> str:
    """The nonce a response offers, checked to be one of the app's."""
    nonce = response.headers["DPoP-Nonce"]
    assert app.extensions["dpop_nonces"].issued_at(nonce) is not None
    return nonce


def token_request(http: FlaskClient, partner: Partner, **claims: Any) -> TestResponse:
    form = authenticated(partner, grant_type="client_credentials", scope="accounts")
    return post(http, TOKEN_URL, form, dpop=dpop_proof(attacker_key(), "POST", TOKEN_URL, **claims))


def resource_request(
    http: FlaskClient, partner: Partner, token: str, base: str, **claims: Any
) -> TestResponse:
    proof = dpop_proof(partner.client.dpop_jwk, "GET", ISSUER + base, access_token=token, **claims)
    return http.get(base, headers={"Authorization": f"DPoP {token}", "DPoP": proof})


def assert_asks_for_a_nonce(app: Flask, response: TestResponse, *, at_resource: bool) -> None:
    """RFC 9449 §8 (400, error use_dpop_nonce) or §9 (401 with a DPoP challenge of that error),
    with a fresh nonce."""
    if at_resource:
        assert response.status_code == 401, response.get_data(as_text=True)
        assert response.headers["WWW-Authenticate"].startswith('DPoP error="use_dpop_nonce"')
    else:
        assert response.status_code == 400 and error_of(response) == "use_dpop_nonce"
    nonce_of(app, response)


@pytest.fixture(scope="module")
def bound(oauth_app: Flask) -> tuple[Partner, str]:
    http = oauth_app.test_client()
    partner = register_partner(oauth_app, http)
    return partner, tokens_for(oauth_app, http, partner)["access_token"]


def test_the_token_endpoint_offers_a_nonce_in_every_answer_to_a_proof(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9449 §8.2: the server may give a new nonce in any response; the authorization server
    gives one in each answer to a request with a proof, success or error, and none without."""
    nonce_of(oauth_app, token_request(http, partner))
    refused = token_request(http, partner, htm="GET")
    assert refused.status_code == 400 and nonce_of(oauth_app, refused)
    form = authenticated(partner, grant_type="client_credentials", scope="accounts")
    assert "DPoP-Nonce" not in post(http, TOKEN_URL, form).headers


def test_a_resource_offers_the_next_nonce_to_a_client_that_uses_them(
    oauth_app: Flask, http: FlaskClient, bound: tuple[Partner, str]
) -> None:
    """RFC 9449 §9: a proof with a nonce is answered with the current one (a refusal that asks
    for a nonce gives one too, see below); a client that sends none is spared the header on
    the API's hot path."""
    owner, token = bound
    nonce = oauth_app.extensions["dpop_nonces"].issue()
    for base in RESOURCES:
        answer = resource_request(http, owner, token, base, nonce=nonce)
        assert answer.status_code == 200 and nonce_of(oauth_app, answer)
        answer = resource_request(http, owner, token, base)
        assert answer.status_code == 200 and "DPoP-Nonce" not in answer.headers


def test_a_proof_with_the_servers_nonce_is_accepted(
    oauth_app: Flask, http: FlaskClient, partner: Partner, bound: tuple[Partner, str]
) -> None:
    nonce = nonce_of(oauth_app, token_request(http, partner))
    assert token_request(http, partner, nonce=nonce).status_code == 200
    owner, token = bound
    for base in RESOURCES:
        assert resource_request(http, owner, token, base, nonce=nonce).status_code == 200


BAD_NONCES = {
    "another-key": lambda: Nonces("another key", required=False).issue(),
    "expired": lambda: Nonces("t", required=False).issue(time.time() - LIFETIME - 1),
    "made-up": lambda: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "not-a-string": lambda: 1_800_000_000,
    "empty": lambda: "",
}


@pytest.mark.parametrize("case", sorted(BAD_NONCES))
def test_a_nonce_not_ours_or_expired_is_answered_with_a_fresh_one(
    oauth_app: Flask, http: FlaskClient, partner: Partner, bound: tuple[Partner, str], case: str
) -> None:
    """RFC 9449 §4.3 (10): a nonce the proof carries is one the server gave (and, here, still
    live); otherwise the client is told to use the one given (§8: 400; §9: 401)."""
    nonce = BAD_NONCES[case]()
    assert_asks_for_a_nonce(oauth_app, token_request(http, partner, nonce=nonce), at_resource=False)
    owner, token = bound
    for base in RESOURCES:
        response = resource_request(http, owner, token, base, nonce=nonce)
        assert_asks_for_a_nonce(oauth_app, response, at_resource=True)


def test_where_nonces_are_required_a_proof_without_one_is_refused(strict_app: Flask) -> None:
    """RFC 9449 §8 and §9 with GATEWAY_DPOP_NONCE=required."""
    http = strict_app.test_client()
    partner = register_partner(strict_app, http)
    asked = token_request(http, partner)
    assert_asks_for_a_nonce(strict_app, asked, at_resource=False)
    nonce = nonce_of(strict_app, asked)
    assert token_request(http, partner, nonce=nonce).status_code == 200
    partner.client.dpop_nonces[ISSUER] = nonce
    token = tokens_for(strict_app, http, partner)["access_token"]
    for base in RESOURCES:
        asked = resource_request(http, partner, token, base)
        assert_asks_for_a_nonce(strict_app, asked, at_resource=True)
        answer = resource_request(http, partner, token, base, nonce=nonce_of(strict_app, asked))
        assert answer.status_code == 200


def test_the_example_client_retries_with_the_nonce_it_is_given(strict_app: Flask) -> None:
    """An RFC 9449 client (the example client) sends a request again, once, with a fresh proof
    carrying the nonce the server asked it to use (and a fresh client assertion), and uses the
    latest nonce from then on; the code of a refused exchange still serves."""
    http = strict_app.test_client()
    partner = register_partner(strict_app, http)
    client = partner.client
    statuses: list[tuple[str, int]] = []
    send = client.transport

    def recording(
        method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        answer = send(method, url, headers, body)
        statuses.append((url.removeprefix(ISSUER), answer[0]))
        return answer

    client.transport = recording
    client.client_credentials("accounts")
    assert statuses == [("/token", 400), ("/token", 200)]
    request_uri, verifier, _state = client.push_authorization_request(
        create_consent(strict_app, partner)
    )
    answer = approve_in_browser(
        strict_app, strict_app.test_client(), client.authorization_url(request_uri),
        partner.organisation_id,
    )  # fmt: skip
    client.dpop_nonces.clear()  # as after a long pause: the nonce it was given has aged out
    token = client.exchange_code(answer["code"], verifier)["access_token"]
    assert statuses[2:] == [("/par", 201), ("/token", 400), ("/token", 200)]
    client.dpop_nonces.clear()
    client.get(PROBE, token)
    assert statuses[5:] == [(PROBE, 401), (PROBE, 200)]
    client.get(PROBE, token)
    assert statuses[7:] == [(PROBE, 200)]
