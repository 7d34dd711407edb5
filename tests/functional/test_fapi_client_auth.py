"""Client authentication at the token endpoint (RFC 7523 §3, RFC 6749 §2.3, FAPI 2.0 Security
Profile §5.3.2.1): private_key_jwt with ES256/PS256 assertions for this issuer, each used once;
client_secret_basic in the sandbox only; never two methods at once."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from gateway.store.database import Database
from partners import services
from partners.models import App, Organisation
from tests.common.fapi import TOKEN_URL, error_of, post, rows
from tests.common.jose import (
    ASSERTION_TYPE,
    DROP,
    assertion_claims,
    assertion_form,
    attacker_key,
    client_assertion,
    dpop_proof,
    sign,
)
from tests.common.oauth import ISSUER, REDIRECT_URI, Partner, public, register_partner


def token_count(app: Flask, client_id: str) -> int:
    return len(rows(app, "SELECT access_hash FROM gw_token WHERE client_id = :c", c=client_id))


def with_assertion(
    http: FlaskClient, partner: Partner, assertion: str, **extra: str
) -> TestResponse:
    form = assertion_form(partner.client_id, assertion, grant_type="client_credentials", **extra)
    return post(http, TOKEN_URL, form)


def assert_invalid_client(app: Flask, response: TestResponse, partner: Partner) -> None:
    assert response.status_code == 401, response.json
    assert error_of(response) == "invalid_client"
    assert token_count(app, partner.client_id) == 0


def basic(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: form-urlencode each part, then Basic-encode."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


# -- private_key_jwt --------------------------------------------------------------------------


def test_valid_assertion_is_accepted(oauth_app: Flask, http: FlaskClient, partner: Partner) -> None:
    """RFC 7523 §3: the positive control every refusal below is measured against."""
    response = with_assertion(
        http, partner, client_assertion(partner.client_id, partner.private_jwk)
    )
    assert response.status_code == 200 and token_count(oauth_app, partner.client_id) == 1


#: name -> claim overrides; exp and iat numbers are offsets from the time the test runs.
BAD_CLAIMS: dict[str, dict[str, Any]] = {
    "aud-foreign": {"aud": "https://attacker.example"},
    "aud-token-endpoint": {"aud": ISSUER + "/token"},
    "aud-extra-audience": {"aud": [ISSUER, "https://attacker.example"]},
    "aud-missing": {"aud": DROP},
    "sub-not-iss": {"iss": "someone-else"},
    "iss-missing": {"iss": DROP},
    "sub-missing": {"sub": DROP},
    "expired": {"exp": -1, "iat": -61},
    "exp-missing": {"exp": DROP},
    "iat-future": {"iat": 120, "exp": 180},
    "iat-missing": {"iat": DROP},
    "iat-not-number": {"iat": "now"},
    "lifetime-over-300s": {"exp": 301, "iat": 0},
    "lifetime-an-hour": {"exp": 3600},
    "jti-missing": {"jti": DROP},
    "jti-empty": {"jti": ""},
    "jti-not-string": {"jti": 42},
    "nbf-future": {"nbf": 120},
    "nbf-not-number": {"nbf": "soon"},
}


@pytest.mark.parametrize("case", sorted(BAD_CLAIMS))
def test_assertion_claims_rules(
    oauth_app: Flask, http: FlaskClient, partner: Partner, case: str
) -> None:
    """RFC 7523 §3 (1) iss, (2) sub = client_id, (3) aud = issuer (FAPI 2.0 §5.3.2.1: the
    issuer identifier only), (4) exp, (5) iat not far ahead, (6) nbf not ahead, (7) jti;
    lifetime <= 300 s."""
    now = int(time.time())
    timed = {
        k: now + v if k in ("exp", "iat", "nbf") and isinstance(v, int) else v
        for k, v in BAD_CLAIMS[case].items()
    }
    assertion = client_assertion(partner.client_id, partner.private_jwk, **timed)
    assert_invalid_client(oauth_app, with_assertion(http, partner, assertion), partner)


def test_assertion_valid_since_nbf_is_accepted(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7523 §3 (6): a JWT is accepted from its nbf on."""
    assertion = client_assertion(partner.client_id, partner.private_jwk, nbf=int(time.time()))
    assert with_assertion(http, partner, assertion).status_code == 200


def test_assertion_naming_another_client_as_sub_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7523 §3 (2): sub names the client whose keys must verify the signature."""
    victim = register_partner(oauth_app, http)
    assertion = client_assertion(partner.client_id, partner.private_jwk, sub=victim.client_id)
    form = assertion_form(victim.client_id, assertion, grant_type="client_credentials")
    assert_invalid_client(oauth_app, post(http, TOKEN_URL, form), victim)
    assert token_count(oauth_app, partner.client_id) == 0


def test_replayed_assertion_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7523 §3 (7): the server may keep used jti values to refuse a replayed JWT."""
    assertion = client_assertion(partner.client_id, partner.private_jwk)
    assert with_assertion(http, partner, assertion).status_code == 200
    replay = with_assertion(http, partner, assertion)
    assert replay.status_code == 401 and error_of(replay) == "invalid_client"
    assert token_count(oauth_app, partner.client_id) == 1


def test_same_jti_in_a_new_assertion_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7523 §3 (7): uniqueness is of the jti, not of the whole JWT."""
    jti = f"jti-{partner.client_id}"
    first = client_assertion(partner.client_id, partner.private_jwk, jti=jti)
    later = int(time.time()) + 90
    second = client_assertion(partner.client_id, partner.private_jwk, jti=jti, exp=later)
    assert first != second
    assert with_assertion(http, partner, first).status_code == 200
    assert with_assertion(http, partner, second).status_code == 401


def test_rs256_assertion_is_refused_even_with_the_registered_rsa_key(
    oauth_app: Flask, http: FlaskClient
) -> None:
    """FAPI 2.0 §5.4.1: PS256, ES256 (or EdDSA) only; RSASSA-PKCS1-v1_5 is not allowed."""
    partner = register_partner(oauth_app, http, kty="RSA")
    header = {"alg": "RS256", "kid": partner.private_jwk["kid"]}
    assertion = sign(header, assertion_claims(partner.client_id), partner.private_jwk)
    assert_invalid_client(oauth_app, with_assertion(http, partner, assertion), partner)
    good = client_assertion(partner.client_id, partner.private_jwk)  # PS256, same key
    assert with_assertion(http, partner, good).status_code == 200


@pytest.mark.parametrize("same_kid", [True, False], ids=["registered-kid", "own-kid"])
def test_assertion_signed_by_an_unregistered_key_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner, same_kid: bool
) -> None:
    """RFC 7523 §3 (9): the signature must verify with a key registered for the client."""
    stranger = attacker_key()
    kid = partner.private_jwk["kid"] if same_kid else stranger["kid"]
    assertion = sign({"alg": "ES256", "kid": kid}, assertion_claims(partner.client_id), stranger)
    assert_invalid_client(oauth_app, with_assertion(http, partner, assertion), partner)


def test_form_client_id_must_match_the_assertion(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7521 §4.2: client_id, when sent, identifies the same client as the assertion."""
    other = register_partner(oauth_app, http)
    form = assertion_form(
        other.client_id,
        client_assertion(partner.client_id, partner.private_jwk),
        grant_type="client_credentials",
    )
    assert_invalid_client(oauth_app, post(http, TOKEN_URL, form), partner)


def test_wrong_client_assertion_type_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7523 §2.2: client_assertion_type must be the jwt-bearer assertion type."""
    form = assertion_form(
        partner.client_id,
        client_assertion(partner.client_id, partner.private_jwk),
        grant_type="client_credentials",
    )
    form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    assert_invalid_client(oauth_app, post(http, TOKEN_URL, form), partner)


def test_suspended_app_cannot_authenticate(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §5.2 invalid_client: a suspended client is unknown to the token endpoint."""
    database: Database = oauth_app.extensions["database"]
    with database.sessions.begin() as session:
        services.suspend_app(session, session.get_one(App, partner.client_id))
    response = with_assertion(
        http, partner, client_assertion(partner.client_id, partner.private_jwk)
    )
    assert_invalid_client(oauth_app, response, partner)


# -- client_secret_basic and friends -------------------------------------------------------------


@pytest.fixture
def secret_partner(oauth_app: Flask, http: FlaskClient) -> Partner:
    partner = register_partner(oauth_app, http, method="client_secret_basic")
    assert partner.secret
    return partner


def test_client_secret_basic_works_in_the_sandbox(
    oauth_app: Flask, http: FlaskClient, secret_partner: Partner
) -> None:
    """RFC 6749 §2.3.1: HTTP Basic with the url-encoded client id and secret."""
    assert secret_partner.secret is not None
    response = post(
        http,
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        headers=basic(secret_partner.client_id, secret_partner.secret),
    )
    assert response.status_code == 200 and (response.json or {})["token_type"] == "Bearer"


def test_wrong_secret_is_401_with_a_basic_challenge(
    oauth_app: Flask, http: FlaskClient, secret_partner: Partner
) -> None:
    """RFC 6749 §5.2: invalid_client with 401 and WWW-Authenticate for the scheme used."""
    response = post(
        http,
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        headers=basic(secret_partner.client_id, "obs_wrong"),
    )
    assert_invalid_client(oauth_app, response, secret_partner)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_client_secret_post_is_refused_even_with_the_right_secret(
    oauth_app: Flask, http: FlaskClient, secret_partner: Partner
) -> None:
    """FAPI 2.0 §5.3.2.1: no client_secret_post; the secret never travels in the form."""
    assert secret_partner.secret is not None
    form = {
        "grant_type": "client_credentials",
        "client_id": secret_partner.client_id,
        "client_secret": secret_partner.secret,
    }
    assert_invalid_client(oauth_app, post(http, TOKEN_URL, form), secret_partner)


def test_two_authentication_methods_at_once_are_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner, secret_partner: Partner
) -> None:
    """RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request."""
    assert secret_partner.secret is not None
    credentials = basic(secret_partner.client_id, secret_partner.secret)
    both = assertion_form(
        partner.client_id,
        client_assertion(partner.client_id, partner.private_jwk),
        grant_type="client_credentials",
    )
    response = post(http, TOKEN_URL, both, headers=credentials)
    assert response.status_code == 400 and error_of(response) == "invalid_request"
    basic_and_post = {"grant_type": "client_credentials", "client_secret": secret_partner.secret}
    response = post(http, TOKEN_URL, basic_and_post, headers=credentials)
    assert response.status_code == 400 and error_of(response) == "invalid_request"
    assert token_count(oauth_app, partner.client_id) == 0
    assert token_count(oauth_app, secret_partner.client_id) == 0


def test_basic_is_refused_for_a_private_key_jwt_app(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7591 §2 token_endpoint_auth_method: a client authenticates only as registered."""
    response = post(
        http,
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        headers=basic(partner.client_id, "obs_anything"),
    )
    assert_invalid_client(oauth_app, response, partner)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.fixture
def production_app(oauth_app: Flask) -> tuple[str, dict[str, Any]]:
    """An approved production app of an approved organisation (private_key_jwt, DPoP)."""
    database: Database = oauth_app.extensions["database"]
    key = attacker_key()  # simply a fresh key: it becomes this app's registered key
    with database.sessions.begin() as session:
        developer = services.sign_up(
            session,
            email=f"prod-{key['kid'][:10].lower()}@tpp.example",
            name="Prod Dev",
            password="correct horse battery staple",
            legal_name="Prod TPP Ltd",
            country="GB",
            registration_number="07654321",
            roles=["AISP"],
        )
        services.set_organisation_status(session, str(developer.organisation_id), "approved")
        organisation = session.get_one(Organisation, developer.organisation_id)
        app, _secret = services.create_app(
            session,
            organisation,
            name="Prod App",
            redirect_uris=[REDIRECT_URI],
            token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [public(key)]},
            environment="production",
            dpop_bound=True,
        )
        services.approve_app(session, app)
        return app.client_id, key


def test_production_app_refuses_basic_and_form_secrets(
    oauth_app: Flask, http: FlaskClient, production_app: tuple[str, dict[str, Any]]
) -> None:
    """FAPI 2.0 §5.3.2.1: production clients authenticate with private_key_jwt only."""
    client_id, key = production_app
    dpop_key = attacker_key()
    good = assertion_form(
        client_id, client_assertion(client_id, key), grant_type="client_credentials"
    )
    accepted = post(http, TOKEN_URL, good, dpop=dpop_proof(dpop_key, "POST", TOKEN_URL))
    assert accepted.status_code == 200, accepted.json
    response = post(
        http, TOKEN_URL, {"grant_type": "client_credentials"}, headers=basic(client_id, "obs_guess")
    )
    assert response.status_code == 401 and error_of(response) == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"}
    response = post(http, TOKEN_URL, form)
    assert response.status_code == 401 and error_of(response) == "invalid_client"
    assert token_count(oauth_app, client_id) == 1


def test_client_secret_basic_app_moved_to_production_is_refused(
    oauth_app: Flask, http: FlaskClient, secret_partner: Partner
) -> None:
    """FAPI 2.0 §5.3.2.1: even a secret app that reached production (defence in depth) cannot
    use its secret there."""
    database: Database = oauth_app.extensions["database"]
    with database.sessions.begin() as session:
        session.execute(
            update(App)
            .where(App.client_id == secret_partner.client_id)
            .values(environment="production")
        )
    assert secret_partner.secret is not None
    response = post(
        http,
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        headers=basic(secret_partner.client_id, secret_partner.secret),
    )
    assert_invalid_client(oauth_app, response, secret_partner)


def test_assertion_type_without_assertion_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 7521 §4.2: client_assertion is required with client_assertion_type."""
    form = {
        "grant_type": "client_credentials",
        "client_id": partner.client_id,
        "client_assertion_type": ASSERTION_TYPE,
    }
    assert_invalid_client(oauth_app, post(http, TOKEN_URL, form), partner)
