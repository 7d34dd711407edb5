"""Replay protection that survives the replay store losing its memory (a real Redis restarted
empty, or a store flushed): a DPoP proof or a client assertion used before is refused after, as
it was before, and clients that sign anew carry on (gateway.oauth.replay, gateway.oauth.nonces).

The incident: a proof used at t=7 s had its replay refused; Redis restarted empty; at t=27 s the
same headers got 200 and the account data.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from werkzeug.test import TestResponse

from gateway.oauth import replay
from tests.common import services
from tests.common.ais import AIS, authorised
from tests.common.fapi import TOKEN_URL, authenticated, error_of, post, protected_app
from tests.common.jose import attacker_key, dpop_proof
from tests.common.oauth import ISSUER, Partner, register_partner
from tests.common.obie import ConformingClient

ACCOUNTS = f"{AIS}/accounts"


class Store:
    """The replay store of an app under test, and how it loses its memory."""

    def __init__(self, app: Flask, lose: object) -> None:
        self.app, self.lose = app, lose

    @property
    def client(self) -> redis.Redis:
        client: redis.Redis = self.app.extensions["redis"]
        return client

    def marker(self) -> int:
        value = self.client.get(replay.MARKER)
        assert value is not None
        return int(value)

    def wait_past_marker(self) -> None:
        """Until the second after the marker's: what a client signs then is after it."""
        time.sleep(max(0.0, math.ceil(self.marker() / 1000) - time.time()) + 0.01)


@pytest.fixture(params=["redis-restarted", "in-process-flushed"])
def store(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Store]:
    """The gateway on a real Redis of the test's own that it restarts (SHUTDOWN NOSAVE, then
    start again on the same port), or on the in-process store that it flushes."""
    if request.param == "redis-restarted":
        with services.private_redis(tmp_path) as server:
            # The new server is taken to have started an hour ago (as the shared test stores
            # are): before its first restart it refuses nothing as made before it.
            replay.mark(redis.Redis.from_url(server.url), at=time.time() - 3600, quiet=True)
            app = protected_app(database_url, REDIS_URL=server.url)
            app.test_client_class = ConformingClient
            yield Store(app, server.restart)
    else:
        app = protected_app(database_url, REDIS_URL="")
        app.test_client_class = ConformingClient
        yield Store(app, lambda: app.extensions["redis"].flushdb())
    app.extensions["database"].dispose()
    app.extensions["redis"].close()


def _lose_memory(store: Store) -> None:
    assert store.marker()
    store.lose()  # type: ignore[operator]
    assert store.client.get(replay.MARKER) is None, "the store kept its memory"


@pytest.mark.parametrize("with_nonce", [False, True], ids=["iat", "nonce"])
def test_the_same_headers_at_the_api_are_refused_after_the_store_lost_its_memory(
    store: Store, with_nonce: bool
) -> None:
    """RFC 9449 §11.1 across a restart: the proof's jti is forgotten, but the proof was made
    (its iat, or its nonce) before the store started, so it is refused all the same; a client
    that signs a new proof is served (the example client after being asked for a nonce)."""
    app = store.app
    http = app.test_client()
    partner, token, _ids = authorised(app, http, ["ReadAccountsDetail"])
    if not with_nonce:
        partner.client.dpop_nonces.clear()  # a client that never heard of nonces
    headers = partner.client.resource_headers("GET", ISSUER + ACCOUNTS, token)
    assert ("nonce" in _claims(headers["DPoP"])) is with_nonce
    served = http.get(ACCOUNTS, headers=headers)
    assert served.status_code == 200 and served.json and served.json["Data"]["Account"]
    _assert_refused(http.get(ACCOUNTS, headers=headers), "invalid_dpop_proof")

    _lose_memory(store)
    again = http.get(ACCOUNTS, headers=headers)
    _assert_refused(again, "use_dpop_nonce")
    assert "Data" not in (again.json or {})
    # Still refused, now as a replay, and the marker stands.
    start = store.marker()
    _assert_refused(http.get(ACCOUNTS, headers=headers), "invalid_dpop_proof")
    assert store.marker() == start
    # The example client signs anew: with the nonce it was just given, or asked for one.
    listed = partner.client.get(ACCOUNTS, token)
    assert listed["Data"]["Account"]


def test_a_proof_dated_ahead_is_refused_after_it_all_the_same(store: Store) -> None:
    """A client whose clock runs 50 s ahead (within the skew accepted) dates its proof ahead:
    used just before the restart, its iat is after the new marker. It counts as made as early
    as the skew allows, so after the restart it is asked for a nonce, and once seen, refused
    as a replay; the client that signs anew with the nonce is served."""
    app = store.app
    http = app.test_client()
    partner, token, _ids = authorised(app, http, ["ReadAccountsDetail"])
    client = partner.client
    client.dpop_nonces.clear()
    proof = dpop_proof(client.dpop_jwk, "GET", ISSUER + ACCOUNTS, access_token=token,
                       iat=int(time.time()) + 50)  # fmt: skip
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    assert http.get(ACCOUNTS, headers=headers).status_code == 200

    _lose_memory(store)
    # The store marks itself at this first claim: the proof's iat is 50 s after that.
    again = http.get(ACCOUNTS, headers=headers)
    _assert_refused(again, "use_dpop_nonce")
    assert _claims(proof)["iat"] > store.marker() / 1000
    _assert_refused(http.get(ACCOUNTS, headers=headers), "invalid_dpop_proof")
    assert client.get(ACCOUNTS, token)["Data"]["Account"]


def test_a_client_assertion_and_a_token_request_proof_are_refused_after_it(
    store: Store,
) -> None:
    """RFC 7523 §3 (7) and RFC 9449 §11.1 at the token endpoint, across a restart."""
    app = store.app
    http = app.test_client()
    partner = register_partner(app, http)
    form = authenticated(partner, grant_type="client_credentials", scope="accounts")
    proof = dpop_proof(attacker_key(), "POST", TOKEN_URL)
    assert post(http, TOKEN_URL, form, dpop=proof).status_code == 200
    reused = post(http, TOKEN_URL, form, dpop=dpop_proof(attacker_key(), "POST", TOKEN_URL))
    assert reused.status_code == 401 and "used before" in (reused.json or {})["error_description"]

    _lose_memory(store)
    again = post(http, TOKEN_URL, form, dpop=dpop_proof(attacker_key(), "POST", TOKEN_URL))
    assert again.status_code == 401 and error_of(again) == "invalid_client"
    assert "before the replay store started" in (again.json or {})["error_description"]
    # The proof of the first request, with an assertion made after the store started.
    store.wait_past_marker()
    replayed = post(http, TOKEN_URL, _fresh(partner), dpop=proof)
    assert replayed.status_code == 400 and error_of(replayed) == "use_dpop_nonce"
    nonce = replayed.headers["DPoP-Nonce"]
    fresh = dpop_proof(attacker_key(), "POST", TOKEN_URL, nonce=nonce)
    assert post(http, TOKEN_URL, _fresh(partner), dpop=fresh).status_code == 200


def test_one_round_trip_per_api_call_while_the_store_holds_its_marker(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker is read in the request's round trip; only the call that finds the store
    without one writes it (a second trip, once)."""
    app = store.app
    http = app.test_client()
    partner, token, _ids = authorised(app, http, ["ReadAccountsDetail"])
    marks: list[int] = []
    real_mark = replay.mark

    def counted(client: redis.Redis, at: float | None = None, *, quiet: bool = False) -> int:
        marks.append(1)
        return real_mark(client, at, quiet=quiet)

    monkeypatch.setattr(replay, "mark", counted)
    monkeypatch.setattr("gateway.oauth.protector.replay_guard", _no_second_trip)
    for _ in range(3):
        partner.client.get(ACCOUNTS, token)
    assert marks == []
    _lose_memory(store)
    store.client.ping()  # the client reconnects to the restarted server
    for _ in range(3):
        partner.client.get(ACCOUNTS, token)
    assert marks == [1]


def _no_second_trip(key: str, ttl: int, issued_at: float) -> replay.Outcome:
    raise AssertionError("the claim was not made in the request's round trip")


def _fresh(partner: Partner) -> dict[str, str]:
    return authenticated(partner, grant_type="client_credentials", scope="accounts")


def _claims(proof: str) -> dict[str, object]:
    payload = proof.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return claims


def _assert_refused(response: TestResponse, error: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith(f'DPoP error="{error}"')


def test_without_redis_server_in_ci_the_restart_test_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The restart needs a server of the test's own: where none can be started CI fails."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    monkeypatch.setattr(services.os, "access", lambda path, mode: False)
    with (
        pytest.raises(pytest.fail.Exception, match="redis-server is not installed"),
        services.private_redis(tmp_path),
    ):
        pass  # pragma: no cover
