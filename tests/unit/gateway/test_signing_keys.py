"""The authorization server's signing keys: one active key, even when workers race to make it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway import migrate
from gateway.oauth import keys
from gateway.oauth.models import ServerKey


def _key_row(kid: str, status: str, minutes_ago: int) -> dict[str, Any]:
    created = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return {"kid": kid, "alg": "ES256", "private_jwk": {}, "status": status, "created_at": created}


def test_a_second_active_key_cannot_be_stored(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(insert(ServerKey), [_key_row("k1", "active", 1)])
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(insert(ServerKey), [_key_row("k2", "active", 0)])
    with fresh_engine.begin() as conn:  # any number of published keys is fine
        conn.execute(insert(ServerKey), [_key_row(f"p{i}", "published", 9) for i in range(2)])


def test_the_worker_that_loses_the_race_for_the_first_key_uses_the_winners(
    fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(fresh_engine)
    sessions = sessionmaker(fresh_engine)
    winner: list[str] = []

    with sessions() as loser:
        looked = loser.scalar

        def no_key_yet(statement: Any, *args: Any, **kwargs: Any) -> Any:
            # The loser finds no key; meanwhile another worker makes one and commits it.
            monkeypatch.setattr(loser, "scalar", looked)
            with sessions.begin() as other:
                winner.append(keys.active_key(other)[0])
            return None

        monkeypatch.setattr(loser, "scalar", no_key_yet)
        kid, _key = keys.active_key(loser)
        loser.commit()
    assert [kid] == winner
    with Session(fresh_engine) as check:
        assert check.scalars(select(ServerKey.kid)).all() == winner


def test_the_migration_keeps_the_newest_of_several_active_keys(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0004")
    with fresh_engine.begin() as conn:
        conn.execute(
            insert(ServerKey.__table__),
            [
                _key_row("old", "active", 5),
                _key_row("new", "active", 1),
                _key_row("r", "retired", 9),
            ],
        )
    migrate.upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        statuses = {
            kid: status for kid, status in conn.execute(select(ServerKey.kid, ServerKey.status))
        }
    assert statuses == {"new": "active", "old": "published", "r": "retired"}
