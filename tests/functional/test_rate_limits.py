"""Rate limits per app tier: RateLimit-* headers, 429 with Retry-After and the OBIE body."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.store.database import Database
from partners.models import App
from tests.common.fapi import authenticated
from tests.common.oauth import Partner, register_partner

CONSENTS = "/open-banking/v4.0/aisp/account-access-consents/aac-missing"


@pytest.fixture(scope="module")
def limited_app(database_url: str) -> Iterator[Flask]:
    """The gateway with tiny limits: 3 calls a minute in the sandbox tier, 6 in 'wide'."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "RATE_LIMIT_TIERS": {"sandbox": "3/minute", "wide": "6/minute"},
        }
    )
    # Windows are aligned on the minute: counted at a pinned instant, half a minute into one,
    # the test's calls never straddle a window's end, whatever the hour.
    app.extensions["rate_limiter"].clock = lambda: 1_800_000_030.0
    yield app
    app.extensions["database"].dispose()


def _get(http: FlaskClient, partner: Partner, token: str) -> TestResponse:
    """GET the consent resource as the partner's client would (DPoP-bound token, fresh proof)."""
    headers = partner.client.resource_headers("GET", f"http://localhost{CONSENTS}", token)
    return http.get(CONSENTS, headers=headers)


def test_limits_apply_per_app_with_headers_and_a_429(limited_app: Flask) -> None:
    http = limited_app.test_client()
    partner = register_partner(limited_app, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]
    other = register_partner(limited_app, http, roles=("AISP",))
    other_token = other.client.client_credentials("accounts")["access_token"]
    answers = [_get(http, partner, token) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [400, 400, 400]  # unknown consent, but counted
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    # Seconds until the window resets (windows are aligned on the minute).
    assert [a.headers["RateLimit-Reset"] for a in answers[:3]] == ["30"] * 3
    refused = answers[3]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    assert refused.json is not None and refused.json["Errors"][0]["ErrorCode"] == "U042"
    assert refused.headers["x-fapi-interaction-id"]
    # Another app has its own budget.
    assert _get(http, other, other_token).status_code == 400


def test_ops_can_move_an_app_to_a_wider_tier(limited_app: Flask) -> None:
    http = limited_app.test_client()
    partner = register_partner(limited_app, http, roles=("AISP",))
    database: Database = limited_app.extensions["database"]
    with database.sessions.begin() as session:
        session.get_one(App, partner.client_id).tier = "wide"
    token = partner.client.client_credentials("accounts")["access_token"]
    codes = [_get(http, partner, token).status_code for _ in range(7)]
    assert codes == [400] * 6 + [429]


def test_the_authorization_server_and_probes_are_not_app_limited(limited_app: Flask) -> None:
    http = limited_app.test_client()
    assert all(http.get("/healthz").status_code == 200 for _ in range(5))
    assert "RateLimit-Limit" not in http.get("/healthz").headers


def test_limits_fail_open_when_redis_is_down(database_url: str) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            # Nothing listens on port 1: every Redis call fails.
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    http = app.test_client()
    response = http.get("/open-banking/v4.0/aisp/accounts")
    # Served (and refused for lack of a token), not broken by the unreachable limiter store.
    assert response.status_code == 401
    assert response.json is not None and response.json["Errors"][0]["ErrorCode"] == "U042"
    app.extensions["database"].dispose()


def test_retry_after_only_on_a_refusal(limited_app: Flask) -> None:
    http = limited_app.test_client()
    partner = register_partner(limited_app, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]
    first = _get(http, partner, token)
    assert "RateLimit-Remaining" in first.headers and "Retry-After" not in first.headers


def test_a_replayed_proof_is_refused_where_the_limiter_claims_it(
    limited_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 9449 §11.1 under the APIs, where the proof's jti is claimed in the limiter's round
    trip to the store: the second use of a proof is refused, and both uses are counted."""
    http = limited_app.test_client()
    partner = register_partner(limited_app, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]

    def second_round_trip(key: str, ttl: int) -> bool:
        raise AssertionError("the claim was not made in the limiter's round trip")

    monkeypatch.setattr("gateway.oauth.protector.replay_guard", second_round_trip)
    headers = partner.client.resource_headers("GET", f"http://localhost{CONSENTS}", token)
    first, again = http.get(CONSENTS, headers=headers), http.get(CONSENTS, headers=headers)
    assert first.status_code == 400  # the proof passed: an unknown consent
    assert again.status_code == 401
    assert again.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')
    assert "used before" in again.headers["WWW-Authenticate"]
    assert again.headers["RateLimit-Remaining"] == "1"


def test_without_the_store_a_proof_is_refused_not_trusted(
    limited_app: Flask, database_url: str
) -> None:
    """The limiter fails open when Redis is down; the replay check of a DPoP proof does not."""
    http = limited_app.test_client()
    partner = register_partner(limited_app, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]
    down = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
         "REDIS_URL": "redis://127.0.0.1:1/0"}
    )  # fmt: skip
    headers = partner.client.resource_headers("GET", f"http://localhost{CONSENTS}", token)
    refused = down.test_client().get(CONSENTS, headers=headers)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.json is not None and refused.json["Errors"][0]["ErrorCode"] == "U000"
    assert "unavailable" in refused.json["Errors"][0]["Message"]
    down.extensions["database"].dispose()


def test_without_the_store_the_authorization_server_answers_in_its_format(
    limited_app: Flask, database_url: str
) -> None:
    """The client assertion's replay check needs the store: a 503 in the OAuth format, as the
    token endpoint's clients parse it."""
    partner = register_partner(limited_app, limited_app.test_client(), roles=("AISP",))
    down = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
         "REDIS_URL": "redis://127.0.0.1:1/0"}
    )  # fmt: skip
    form = authenticated(partner, grant_type="client_credentials", scope="accounts")
    refused = down.test_client().post("/token", data=form)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.json is not None and refused.json["error"] == "temporarily_unavailable"
    down.extensions["database"].dispose()
