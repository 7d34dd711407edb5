"""Liveness and readiness probes (:mod:`gateway.health`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import migrate
from gateway.app import create_app
from gateway.store.database import Database
from gateway.store.kv import is_fake
from tests.common import services

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str) -> Iterator[MakeApp]:
    """Build apps of the test's own (on the test database unless told otherwise); their engines
    and Redis clients are closed afterwards."""
    built: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "REDIS_URL": "",
                "SECRET_KEY": "test-secret",
                **settings,
            }
        )
        built.append(app)
        return app

    yield make
    for app in built:
        database: Database = app.extensions["database"]
        database.dispose()
        app.extensions["redis"].close()


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_touches_no_store(make_app: MakeApp, tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    app = make_app(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}", REDIS_URL="redis://127.0.0.1:1/0"
    )
    app.extensions["database"].dispose()
    shutil.rmtree(folder)  # neither store answers now
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_every_store(app: Flask, client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    database = body["checks"]["database"]
    assert database["status"] == "ok"
    assert database["revision"] == migrate.head_revision()
    assert database["revision"] is not None
    assert database["backend"] == app.extensions["database"].engine.dialect.name
    redis = body["checks"]["redis"]
    assert redis["status"] == "ok"
    expected = "in-process" if is_fake(app.extensions["redis"]) else "redis"
    assert redis["backend"] == expected


def test_readyz_is_503_when_the_schema_is_behind(make_app: MakeApp, tmp_path: Path) -> None:
    # create_app checks that the database answers, not that it is migrated.
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail"
    database = body["checks"]["database"]
    assert database["status"] == "fail"
    assert database["revision"] is None
    assert str(migrate.head_revision()) in database["detail"]
    # Only the store that failed is named as failing.
    assert body["checks"]["redis"]["status"] == "ok"


def test_readyz_turns_ready_once_migrated(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    migrate.upgrade(app.extensions["database"].engine)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["database"]["revision"] == migrate.head_revision()


def test_readyz_is_503_when_the_database_fails(make_app: MakeApp, tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    app = make_app(DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}")
    database: Database = app.extensions["database"]
    database.engine.dispose()
    shutil.rmtree(folder)  # SQLite cannot open (nor create) a file in a missing folder
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == {"status": "fail", "detail": "OperationalError"}
    assert body["checks"]["redis"]["status"] == "ok"


def test_readyz_is_503_when_redis_is_unreachable(make_app: MakeApp) -> None:
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail"
    assert body["checks"]["redis"]["status"] == "fail"
    assert body["checks"]["redis"]["detail"] == "ConnectionError"
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.redis
def test_readyz_reports_a_real_redis(make_app: MakeApp) -> None:
    services.redis_client().close()  # skips, or fails in CI, when Redis is down
    app = make_app(REDIS_URL=services.redis_url())
    assert not is_fake(app.extensions["redis"])
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["redis"] == {"status": "ok", "backend": "redis"}
