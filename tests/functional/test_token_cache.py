"""The worker's token cache (gateway.oauth.token_cache). A token, its consent and the customer's
accounts are read once and then kept. Every commit that changes one of them replaces the
authorisation epoch in the shared store, and the next call, in any worker, reads them again.
Without a confirmed epoch (the store down), a call reads the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from gateway.app import create_app
from gateway.edge.ratelimit import Limiter
from gateway.oauth import token_cache, tokens
from gateway.oauth.models import Token
from gateway.store.database import Database
from partners import apps as partner_apps
from partners.models import App
from tests.common import services
from tests.common.ais import AIS, Consented, authorised, read, refusal
from tests.common.clock import SANDBOX_START
from tests.common.fapi import UNLIMITED_TIERS
from tests.common.oauth import flask_transport

EVERYTHING = ["ReadAccountsDetail", "ReadBalances"]


def kept(app: Flask, http: FlaskClient) -> Consented:
    """A consented token that the worker keeps, with its listing (two reads: the first one
    sets the epoch if the store had none)."""
    consented = authorised(app, http, EVERYTHING)
    read(consented, "/accounts")
    read(consented, "/accounts")
    cache = app.extensions["token_cache"]
    entry = cache.get(cache.key(consented[1]))
    assert entry is not None and entry.listing is not None
    return consented


def epoch(app: Flask) -> bytes | None:
    value: bytes | None = app.extensions["redis"].get(token_cache.EPOCH_KEY)
    return value


def revoke_behind_the_gateways_back(app: Flask, token: str) -> None:
    """Revoke a token with a plain statement, as another host's commit would: the epoch is
    not changed here."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    database: Database = app.extensions["database"]
    with database.engine.begin() as connection:
        changed = connection.execute(
            text("UPDATE gw_token SET revoked_at = :now WHERE access_hash = :digest"),
            {"now": dt.datetime.now(dt.UTC), "digest": digest},
        )
    assert changed.rowcount == 1


def test_the_epoch_is_what_makes_a_worker_read_a_kept_token_again(
    oauth_app: Flask, http: FlaskClient
) -> None:
    consented = kept(oauth_app, http)
    revoke_behind_the_gateways_back(oauth_app, consented[1])
    # The worker still serves what it kept: the epoch has not moved (this is why every commit
    # that changes a token must move it, which the tests below check).
    assert read(consented, "/accounts")["Data"]["Account"]
    oauth_app.extensions["redis"].set(token_cache.EPOCH_KEY, token_cache.new_epoch())
    status, body = refusal(consented, "/accounts")
    assert status == 401 and body["Errors"][0]["ErrorCode"] == "U042"


def store_down(app: Flask, consented: Consented, monkeypatch: pytest.MonkeyPatch) -> None:
    """The edge's round trip fails: no epoch confirms the entry, so the database answers."""
    revoke_behind_the_gateways_back(app, consented[1])
    monkeypatch.setattr(Limiter, "hit", lambda *_args, **_kwargs: None)


def token_expired(app: Flask, consented: Consented, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock passes the token's expiry (never kept: compared on every call)."""
    later = dt.datetime.now(dt.UTC) + tokens.ACCESS_TTL + dt.timedelta(seconds=1)
    monkeypatch.setattr(tokens, "now", lambda: later)


def entry_aged(app: Flask, consented: Consented, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry passes the cache's age limit."""
    revoke_behind_the_gateways_back(app, consented[1])
    monkeypatch.setattr(app.extensions["token_cache"], "max_age", 0.0)


@pytest.mark.parametrize("spoil", [store_down, token_expired, entry_aged])
def test_a_kept_token_is_refused_without_a_new_epoch_when(
    oauth_app: Flask,
    http: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    spoil: Callable[[Flask, Consented, pytest.MonkeyPatch], None],
) -> None:
    consented = kept(oauth_app, http)
    spoil(oauth_app, consented, monkeypatch)
    status, _body = refusal(consented, "/accounts")
    assert status == 401


def committed(app: Flask, change: Callable[[Any], None]) -> None:
    """Run ``change`` on a session of the app's and commit."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        change(session)
        session.commit()


def test_revoking_a_token_moves_the_epoch(oauth_app: Flask, http: FlaskClient) -> None:
    consented = kept(oauth_app, http)
    before = epoch(oauth_app)
    digest = hashlib.sha256(consented[1].encode()).hexdigest()
    committed(
        oauth_app,
        lambda s: tokens.revoke(
            s, s.scalars(select(Token).where(Token.access_hash == digest)).one()
        ),
    )
    assert epoch(oauth_app) != before
    assert refusal(consented, "/accounts")[0] == 401


def test_deleting_the_consent_moves_the_epoch(oauth_app: Flask, http: FlaskClient) -> None:
    partner, token, _accounts = consented = kept(oauth_app, http)
    cache = oauth_app.extensions["token_cache"]
    entry = cache.get(cache.key(token))
    assert entry is not None
    consent_id = entry.token.consent_id
    before = epoch(oauth_app)
    client_token = partner.client.client_credentials("accounts")["access_token"]
    partner.client.delete(f"{AIS}/account-access-consents/{consent_id}", client_token)
    assert epoch(oauth_app) != before
    assert refusal(consented, "/accounts")[0] == 401


def test_suspending_the_app_moves_the_epoch(oauth_app: Flask, http: FlaskClient) -> None:
    partner, _token, _accounts = consented = kept(oauth_app, http)
    before = epoch(oauth_app)
    committed(
        oauth_app,
        lambda s: partner_apps.suspend_app(
            s, s.scalars(select(App).where(App.client_id == partner.client_id)).one()
        ),
    )
    assert epoch(oauth_app) != before
    assert refusal(consented, "/accounts")[0] == 401


def test_moving_the_bank_clock_moves_the_epoch(oauth_app: Flask, http: FlaskClient) -> None:
    expiry = (dt.datetime.fromisoformat(SANDBOX_START) + dt.timedelta(days=2)).isoformat()
    consented = authorised(oauth_app, http, EVERYTHING, expiration=expiry)
    read(consented, "/accounts")
    assert read(consented, "/accounts")["Data"]["Account"]
    before = epoch(oauth_app)
    moved = oauth_app.test_cli_runner().invoke(
        args=["sandbox", "advance", "--tenant", consented[0].organisation_id, "--days", "3"]
    )
    assert moved.exit_code == 0, moved.output
    assert epoch(oauth_app) != before
    status, body = refusal(consented, "/accounts")
    assert status == 403 and "EXPD" in body["Errors"][0]["Message"]


def test_new_rows_and_rolled_back_changes_keep_the_epoch(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner, token, _accounts = consented = kept(oauth_app, http)
    before = epoch(oauth_app)
    # Inserts: a token, a consent (no kept entry can hold a row that did not exist).
    partner.client.create_account_access_consent(EVERYTHING)
    database: Database = oauth_app.extensions["database"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    with database.sessions() as session:
        tokens.revoke(
            session, session.scalars(select(Token).where(Token.access_hash == digest)).one()
        )
        session.rollback()
    assert epoch(oauth_app) == before
    assert read(consented, "/accounts")["Data"]["Account"]


@pytest.fixture
def two_workers(database_url: str) -> Iterator[tuple[Flask, Flask]]:
    """Two gateways on one database and one real Redis, each with the cache it has by default
    with Redis: two workers, or two hosts."""
    services.redis_client().close()  # skips, or fails in CI, when Redis is down
    config = {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
              "REDIS_URL": services.redis_url(), "RATE_LIMIT_TIERS": UNLIMITED_TIERS}  # fmt: skip
    first, second = create_app(config), create_app(config)
    yield first, second
    for app in (first, second):
        app.extensions["database"].dispose()


def test_a_change_in_one_worker_reaches_the_cache_of_another(
    two_workers: tuple[Flask, Flask],
) -> None:
    from partners.example_client import GatewayError

    first, second = two_workers
    assert "token_cache" in first.extensions  # on by default with Redis
    partner, token, _accounts = consented = kept(first, first.test_client())
    assert first.extensions["token_cache"].get(first.extensions["token_cache"].key(token))
    # The other worker revokes the token; the first one had it in its cache.
    digest = hashlib.sha256(token.encode()).hexdigest()
    committed(
        second,
        lambda s: tokens.revoke(
            s, s.scalars(select(Token).where(Token.access_hash == digest)).one()
        ),
    )
    status, _body = refusal(consented, "/accounts")
    assert status == 401
    # The same partner through the second worker is refused too (it never kept the token).
    elsewhere = dataclasses.replace(partner.client, transport=flask_transport(second.test_client()))
    with pytest.raises(GatewayError) as refused:
        elsewhere.get(f"{AIS}/accounts", token)
    assert refused.value.status == 401
