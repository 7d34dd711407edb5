"""The ``x-fapi-interaction-id`` header (:mod:`gateway.edge.interaction`): echoed when it is a
UUID, generated otherwise, present on every response and on the access log line."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.edge.interaction import HEADER
from gateway.store.database import Database
from tests.common.logs import Recorder, recording


@pytest.fixture
def access_log() -> Iterator[Recorder]:
    """Records of ``gateway.access`` made during the test."""
    with recording("gateway.access") as recorder:
        yield recorder


@pytest.fixture(scope="module")
def crashing_app(database_url: str) -> Iterator[Flask]:
    """An app of its own with a route that fails unexpectedly."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "REDIS_URL": "", "SECRET_KEY": "t"}
    )

    @app.get("/t/crash")
    def crash() -> str:
        raise RuntimeError("boom")

    yield app
    database: Database = app.extensions["database"]
    database.dispose()


def generated(value: str) -> uuid.UUID:
    """Parse ``value`` as a UUID the gateway generated (version 4, canonical form)."""
    parsed = uuid.UUID(value)
    assert parsed.version == 4
    assert str(parsed) == value
    return parsed


@pytest.mark.parametrize(
    "sent",
    [
        "93bac548-d2de-4546-b106-880a5018460d",
        "93BAC548-D2DE-4546-B106-880A5018460D",
        # Any RFC 4122 form is echoed, not only version 4.
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    ],
)
def test_a_uuid_is_echoed(client: FlaskClient, sent: str) -> None:
    response = client.get("/healthz", headers={HEADER: sent})
    assert response.status_code == 200
    assert response.headers[HEADER] == sent


def test_a_missing_header_gets_a_generated_uuid4(client: FlaskClient) -> None:
    first = client.get("/healthz").headers[HEADER]
    second = client.get("/healthz").headers[HEADER]
    assert generated(first) != generated(second)


@pytest.mark.parametrize(
    "sent",
    [
        "abc",
        "not-a-uuid; DROP TABLE sbx_account",
        "93bac548-d2de-4546-b106-880a5018460d; DROP",
        "x93bac548-d2de-4546-b106-880a5018460d",
        "{93bac548-d2de-4546-b106-880a5018460d}",
        "93bac548d2de4546b106880a5018460d",
        "93bac548-d2de-4546-b106-880a5018460z",
        "<script>alert(1)</script>",
        "",
    ],
)
def test_anything_else_is_replaced_not_echoed(
    client: FlaskClient, access_log: Recorder, sent: str
) -> None:
    response = client.get("/healthz", headers={HEADER: sent})
    answered = response.headers[HEADER]
    assert answered != sent
    generated(answered)
    [line] = [r for r in access_log.records if r.name == "gateway.access"]
    assert line.interaction_id == answered  # type: ignore[attr-defined]
    if sent:
        assert sent not in line.getMessage()


def test_an_error_response_carries_the_header(client: FlaskClient) -> None:
    sent = str(uuid.uuid4())
    response = client.get("/no/such/thing", headers={HEADER: sent})
    assert response.status_code == 404
    assert response.headers[HEADER] == sent
    assert response.get_json()["Id"] == sent

    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.get_json()["Id"] == str(generated(response.headers[HEADER]))


def test_an_unexpected_error_carries_the_header(crashing_app: Flask) -> None:
    client = crashing_app.test_client()
    sent = str(uuid.uuid4())
    response = client.get("/t/crash", headers={HEADER: sent})
    assert response.status_code == 500
    assert response.headers[HEADER] == sent
    assert response.get_json()["Id"] == sent

    response = client.get("/t/crash")
    assert response.status_code == 500
    assert response.get_json()["Id"] == str(generated(response.headers[HEADER]))


def test_the_access_line_carries_the_interaction_id(
    app: Flask, client: FlaskClient, access_log: Recorder
) -> None:
    sent = str(uuid.uuid4())
    client.get("/no/such/thing", headers={HEADER: sent})

    [line] = [r for r in access_log.records if r.name == "gateway.access"]
    assert line.levelno == logging.INFO
    assert line.interaction_id == sent  # type: ignore[attr-defined]
    message = line.getMessage()
    assert message.startswith("GET /no/such/thing 404 ")
    assert message.endswith("ms")

    # The gateway's own handler writes the id on the line.
    [handler] = [h for h in logging.getLogger("gateway").handlers if getattr(h, "_gateway", 0)]
    assert f"[{sent}]" in handler.format(line)


def test_records_outside_a_request_get_a_placeholder_id(app: Flask) -> None:
    [handler] = [h for h in logging.getLogger("gateway").handlers if getattr(h, "_gateway", 0)]
    record = logging.LogRecord("gateway.test", logging.INFO, __file__, 1, "hello", None, None)
    assert handler.filter(record)
    assert record.interaction_id == "-"  # type: ignore[attr-defined]
    assert "[-] hello" in handler.format(record)
