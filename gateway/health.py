"""Liveness and readiness probes.

``/healthz`` answers as long as the process serves requests; ``/readyz`` checks each store (the
database, its schema revision, Redis) and answers 503 naming the store that failed, so that a load
balancer takes the instance out of rotation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from gateway.migrate import schema_status
from gateway.store.database import Database
from gateway.store.kv import is_fake

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Process liveness: no store is touched."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness of every store the gateway needs."""
    checks: dict[str, dict[str, Any]] = {}
    database: Database = current_app.extensions["database"]
    try:
        current, head = schema_status(database.engine)
        ok = current == head
        checks["database"] = {
            "status": "ok" if ok else "fail",
            "backend": database.engine.dialect.name,
            "revision": current,
            **({} if ok else {"detail": f"schema at {current}, code expects {head}"}),
        }
    except SQLAlchemyError as exc:
        checks["database"] = {"status": "fail", "detail": type(exc).__name__}
    client = current_app.extensions["redis"]
    try:
        client.ping()
        checks["redis"] = {"status": "ok", "backend": "in-process" if is_fake(client) else "redis"}
    except RedisError as exc:
        checks["redis"] = {"status": "fail", "detail": type(exc).__name__}
    ready = all(check["status"] == "ok" for check in checks.values())
    return jsonify(status="ok" if ready else "fail", checks=checks), 200 if ready else 503
