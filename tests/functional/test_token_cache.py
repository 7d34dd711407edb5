"""The worker's token cache (gateway.oauth.token_cache). A token, its consent and the customer's
accounts are read and then kept, tagged with the versions of what they depend on. A commit that
changes one of them replaces its version in the shared store, and the next call, in any worker,
reads it again; commits that change other partners' tokens, consents, apps or sandboxes leave the
entry alone. Without the store's answer, a call reads the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from gateway.app import create_app
from gateway.edge import roundtrip
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


def entry_of(app: Flask, token: str) -> token_cache.Entry | None:
    cache: token_cache.TokenCache = app.extensions["token_cache"]
    return cache.get(hashlib.sha256(token.encode()).hexdigest())


def kept(app: Flask, http: FlaskClient) -> Consented:
    """A consented token that the worker keeps, confirmed, with its listing."""
    consented = authorised(app, http, EVERYTHING)
    for _ in range(3):
        read(consented, "/accounts")
        entry = entry_of(app, consented[1])
        if entry is not None and entry.confirmed and entry.listing is not None:
            return consented
    raise AssertionError("the token was not kept")


def versions(app: Flask, token: str) -> dict[str, bytes | None]:
    """The store's versions of what the kept entry of ``token`` depends on."""
    entry = entry_of(app, token)
    assert entry is not None
    found = app.extensions["redis"].mget(list(entry.keys))
    return dict(zip(entry.keys, found, strict=True))


def moved(before: dict[str, bytes | None], after: dict[str, bytes | None]) -> set[str]:
    """The kinds of version that moved (``generation``, ``token``, ``app``, ...)."""
    return {key.split(":")[2] if key.count(":") > 1 else "generation"
            for key in before if before[key] != after[key]}  # fmt: skip


def revoke_behind_the_gateways_back(app: Flask, token: str) -> None:
    """Revoke a token with a plain statement, as another system's write would: no version is
    replaced."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    database: Database = app.extensions["database"]
    with database.engine.begin() as connection:
        changed = connection.execute(
            text("UPDATE gw_token SET revoked_at = :now WHERE access_hash = :digest"),
            {"now": dt.datetime.now(dt.UTC), "digest": digest},
        )
    assert changed.rowcount == 1


def test_the_versions_are_what_make_a_worker_read_a_kept_token_again(
    oauth_app: Flask, http: FlaskClient
) -> None:
    consented = kept(oauth_app, http)
    revoke_behind_the_gateways_back(oauth_app, consented[1])
    # The worker still serves what it kept: no version moved (this is why every commit that
    # changes a token must replace its version, which the tests below check).
    assert read(consented, "/accounts")["Data"]["Account"]
    entry = entry_of(oauth_app, consented[1])
    assert entry is not None
    token_key = entry.keys[1]
    oauth_app.extensions["redis"].set(token_key, token_cache.new_value())
    status, body = refusal(consented, "/accounts")
    assert status == 401 and body["Errors"][0]["ErrorCode"] == "U042"


def test_a_first_read_serves_nothing_before_the_next_call_reads_it_again(
    oauth_app: Flask, http: FlaskClient
) -> None:
    # The first read of a token comes before its versions are known: a change committed between
    # that read and the round trip must not be served from the entry.
    consented = authorised(oauth_app, http, EVERYTHING)
    cache: token_cache.TokenCache = oauth_app.extensions["token_cache"]
    cache.drop(hashlib.sha256(consented[1].encode()).hexdigest())
    read(consented, "/accounts")
    entry = entry_of(oauth_app, consented[1])
    assert entry is not None and not entry.confirmed
    revoke_behind_the_gateways_back(oauth_app, consented[1])
    assert refusal(consented, "/accounts")[0] == 401


def test_the_store_restarting_empty_makes_every_worker_read_again(
    oauth_app: Flask, http: FlaskClient
) -> None:
    consented = kept(oauth_app, http)
    revoke_behind_the_gateways_back(oauth_app, consented[1])
    oauth_app.extensions["redis"].delete(token_cache.GENERATION_KEY)
    assert refusal(consented, "/accounts")[0] == 401


def store_down(app: Flask, consented: Consented, monkeypatch: pytest.MonkeyPatch) -> None:
    """The edge's round trip fails: no version confirms the entry, so the database answers."""
    revoke_behind_the_gateways_back(app, consented[1])

    def unreachable(*_args: Any) -> NoReturn:
        raise redis.ConnectionError("the store is down")

    monkeypatch.setattr(roundtrip, "_send", unreachable)


def token_expired(app: Flask, consented: Consented, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock passes the token's expiry (never kept: compared on every call)."""
    later = dt.datetime.now(dt.UTC) + tokens.ACCESS_TTL + dt.timedelta(seconds=1)
    monkeypatch.setattr(tokens, "now", lambda: later)


def entry_aged(app: Flask, consented: Consented, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry passes the cache's age limit."""
    revoke_behind_the_gateways_back(app, consented[1])
    monkeypatch.setattr(app.extensions["token_cache"], "max_age", 0.0)


@pytest.mark.parametrize("spoil", [store_down, token_expired, entry_aged])
def test_a_kept_token_is_read_again_without_a_new_version_when(
    oauth_app: Flask,
    http: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    spoil: Callable[[Flask, Consented, pytest.MonkeyPatch], None],
) -> None:
    consented = kept(oauth_app, http)
    spoil(oauth_app, consented, monkeypatch)
    status, _body = refusal(consented, "/accounts")
    assert status == 401


def test_an_entry_past_its_age_is_read_once_after_the_versions_and_kept_anew(
    oauth_app: Flask, http: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    consented = kept(oauth_app, http)
    cache: token_cache.TokenCache = oauth_app.extensions["token_cache"]
    database: Database = oauth_app.extensions["database"]
    statements: list[str] = []

    def on_statement(*args: Any) -> None:
        statements.append(args[2])

    event.listen(database.read_engine, "before_cursor_execute", on_statement)
    try:
        monkeypatch.setattr(cache, "max_age", 0.0)  # the entry is past its age
        assert read(consented, "/accounts")["Data"]["Account"]
        # Its token once (after the versions: confirmed), and the accounts once.
        assert len(statements) == 2, statements
        monkeypatch.setattr(cache, "max_age", 30.0)
        entry = entry_of(oauth_app, consented[1])
        assert entry is not None and entry.confirmed and entry.listing is not None
        statements.clear()
        assert read(consented, "/accounts")["Data"]["Account"]
        assert statements == []  # served from what that call kept
    finally:
        event.remove(database.read_engine, "before_cursor_execute", on_statement)


def committed(app: Flask, change: Callable[[Any], None]) -> None:
    """Run ``change`` on a session of the app's and commit."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        change(session)
        session.commit()


def _revoke(app: Flask, token: str) -> None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    committed(
        app,
        lambda s: tokens.revoke(
            s, s.scalars(select(Token).where(Token.access_hash == digest)).one()
        ),
    )


def _delete_consent(app: Flask, consented: Consented) -> None:
    partner, token, _accounts = consented
    entry = entry_of(app, token)
    assert entry is not None
    client_token = partner.client.client_credentials("accounts")["access_token"]
    partner.client.delete(f"{AIS}/account-access-consents/{entry.token.consent_id}", client_token)


def _suspend(app: Flask, consented: Consented) -> None:
    client_id = consented[0].client_id
    committed(app, lambda s: partner_apps.suspend_app(
        s, s.scalars(select(App).where(App.client_id == client_id)).one()
    ))  # fmt: skip


CHANGES: list[tuple[str, Callable[[Flask, Consented], None], set[str]]] = [
    ("revoking the token", lambda app, c: _revoke(app, c[1]), {"token"}),
    ("deleting the consent", _delete_consent, {"consent"}),
    ("suspending the app", _suspend, {"app"}),
]


@pytest.mark.parametrize(("what", "change", "kinds"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_change_replaces_the_version_of_what_it_changed_and_is_refused_at_once(
    oauth_app: Flask, http: FlaskClient, what: str,
    change: Callable[[Flask, Consented], None], kinds: set[str],
) -> None:  # fmt: skip
    consented = kept(oauth_app, http)
    before = versions(oauth_app, consented[1])
    change(oauth_app, consented)
    assert moved(before, versions(oauth_app, consented[1])) == kinds, what
    assert refusal(consented, "/accounts")[0] == 401


def test_moving_the_bank_clock_replaces_the_tenants_version(
    oauth_app: Flask, http: FlaskClient
) -> None:
    expiry = (dt.datetime.fromisoformat(SANDBOX_START) + dt.timedelta(days=2)).isoformat()
    consented = authorised(oauth_app, http, EVERYTHING, expiration=expiry)
    for _ in range(3):
        assert read(consented, "/accounts")["Data"]["Account"]
    before = versions(oauth_app, consented[1])
    done = oauth_app.test_cli_runner().invoke(
        args=["sandbox", "advance", "--tenant", consented[0].organisation_id, "--days", "3"]
    )
    assert done.exit_code == 0, done.output
    assert moved(before, versions(oauth_app, consented[1])) == {"tenant"}
    status, body = refusal(consented, "/accounts")
    assert status == 403 and "EXPD" in body["Errors"][0]["Message"]


def test_new_rows_and_rolled_back_changes_replace_no_version(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner, token, _accounts = consented = kept(oauth_app, http)
    before = versions(oauth_app, token)
    # Inserts: a token, a consent (no kept entry can hold a row that did not exist).
    partner.client.create_account_access_consent(EVERYTHING)
    partner.client.client_credentials("accounts")
    database: Database = oauth_app.extensions["database"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    with database.sessions() as session:
        tokens.revoke(
            session, session.scalars(select(Token).where(Token.access_hash == digest)).one()
        )
        session.rollback()
    assert versions(oauth_app, token) == before
    assert read(consented, "/accounts")["Data"]["Account"]


def test_another_partners_activity_leaves_this_partners_entry_alone(
    oauth_app: Flask, http: FlaskClient
) -> None:
    mine = kept(oauth_app, http)
    theirs = kept(oauth_app, http)
    # Revoked behind the gateway's back: served only for as long as the entry is kept, which
    # shows that the other partner's changes below did not drop it.
    revoke_behind_the_gateways_back(oauth_app, mine[1])
    before = versions(oauth_app, mine[1])
    partner = theirs[0]
    authorised(oauth_app, http, EVERYTHING, partner)  # a new consent authorised
    _revoke(oauth_app, theirs[1])
    _suspend(oauth_app, theirs)
    oauth_app.test_cli_runner().invoke(
        args=["sandbox", "advance", "--tenant", partner.organisation_id, "--hours", "1"]
    )
    assert versions(oauth_app, mine[1]) == before
    assert read(mine, "/accounts")["Data"]["Account"]


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
    assert entry_of(first, token) is not None
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
