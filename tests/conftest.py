"""Fixtures shared by all tests: the app on the configured database, a client, a session, a
fresh tenant per test, and real PostgreSQL / Redis where a test needs them.

The database is the one ``GATEWAY_DATABASE_URL`` names (a PostgreSQL URL in CI's second pass),
otherwise an SQLite file in a temporary folder. Either way the schema is built by the Alembic
migrations, as in production.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.app import create_app
from gateway.core.administration import SandboxBank
from gateway.oauth import replay
from gateway.store.database import Database, make_engine
from tests.common import services
from tests.common.clock import SANDBOX_START
from tests.common.fapi import UNLIMITED_TIERS


def pytest_configure(config: pytest.Config) -> None:
    """Pin the sandbox's real time for every app the tests make, in this process or another;
    under pytest-xdist, give each worker Redis databases of its own (a worker's test that
    empties or restarts what it keeps there must not reach another's); date the start of the
    shared replay stores in the past."""
    os.environ["GATEWAY_SANDBOX_START"] = SANDBOX_START
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        offset = 2 * int(worker[2:])
        for name in ("GATEWAY_REDIS_URL", "GATEWAY_TEST_REDIS_URL"):
            url = os.environ.get(name) or (services.DEFAULT_REDIS if "TEST" in name else "")
            if url:
                os.environ[name] = services.redis_database(url, offset)
    _replay_store_started_before_the_run()


def _replay_store_started_before_the_run() -> None:
    """The shared test Redis stores (``GATEWAY_REDIS_URL``, which every app of the run shares,
    and ``GATEWAY_TEST_REDIS_URL``) are taken to have started an hour ago when they have no
    start marker yet (a fresh server): otherwise the first app on one would mark it at its
    start, and refuse what the tests sign in that second as made before it (the tests of a
    restart have a store of their own)."""
    for url in {os.environ.get("GATEWAY_REDIS_URL", ""), services.redis_url()} - {""}:
        store = redis.Redis.from_url(url, socket_connect_timeout=1)
        with contextlib.suppress(redis.RedisError):
            replay.mark(store, at=time.time() - 3600, quiet=True)
        store.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the migrated test database (a private PostgreSQL schema or an SQLite file)."""
    configured = os.environ.get("GATEWAY_DATABASE_URL", "")
    if configured.startswith("postgres"):
        with services.postgres_schema(configured) as url:
            engine = make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            yield url
        return
    path = tmp_path_factory.mktemp("db") / "gateway.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The gateway, configured for tests on the test database."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("GATEWAY_REDIS_URL", ""),
            "SECRET_KEY": "test-secret",
            "RATE_LIMIT_TIERS": UNLIMITED_TIERS,
            # The token cache serves every API test (one process: the in-process store will do),
            # so that a change it fails to see fails the test that makes it.
            "TOKEN_CACHE_SECONDS": 30,
        }
    )
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A runner of the app's CLI commands."""
    return app.test_cli_runner()


@pytest.fixture
def engine(app: Flask) -> Engine:
    """The app's database engine."""
    database: Database = app.extensions["database"]
    return database.engine


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session on the test database; what a test does not commit is rolled back."""
    database: Database = app.extensions["database"]
    with database.sessions() as s:
        yield s
        s.rollback()


@pytest.fixture
def tenant() -> str:
    """A tenant id no other test uses, so tests never see each other's sandbox data."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def core(app: Flask, session: Session) -> SandboxBank:
    """The configured bank core bound to ``session``."""
    core: SandboxBank = app.extensions["bank_core"](session)
    return core


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated private schema on the real PostgreSQL server (skips, or fails in CI)."""
    with services.postgres_schema(services.postgres_url()) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of this test's own (a private schema on PostgreSQL when configured)."""
    configured = os.environ.get("GATEWAY_DATABASE_URL", "")
    if configured.startswith("postgres"):
        with services.postgres_schema(configured) as url:
            engine = make_engine(url)
            yield engine
            engine.dispose()
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    yield engine
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each operation's fuzz test its own node id: schemathesis names the items apart
    (``test_published_document[GET /accounts]``) but leaves them the function's node id, and
    pytest-xdist, which schedules by node id, would run one of them and drop the others."""
    for item in items:
        if type(item).__name__ != "SchemathesisFunction" or "[" in item.nodeid:
            continue
        module = item.getparent(pytest.Module)
        assert module is not None
        if hasattr(item, "_id"):  # pytest 9: structured node ids
            item._id = module.id.child(item.name)
        else:  # pytest 8
            item._nodeid = f"{module.nodeid}::{item.name}"  # type: ignore[attr-defined]
