"""Duplicates that arrive together: 50 identical requests at once create one resource and are
all answered the same bytes; a request with another body sent while the first is in progress is
refused. On the configured store and on PostgreSQL (which must be reachable under CI), each
request in a thread of its own with a database connection of its own."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from gateway.api.idempotency.keys import HEADER
from tests.common.idempotency import PAYMENT_CONSENTS, bearer_token, created, probe_app
from tests.common.oauth import Partner, register_partner

REQUESTS = 50
# Long enough that the other requests arrive while the first holds its claim.
DELAY = 0.5


@pytest.fixture(scope="module", params=["configured", "postgres"])
def probe(request: pytest.FixtureRequest) -> Iterator[Flask]:
    fixture = "database_url" if request.param == "configured" else "postgres_url"
    # A small pool: the requests queue for connections as a busy server's would.
    app = probe_app(request.getfixturevalue(fixture), DATABASE_POOL_SIZE=5)
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def partner(probe: Flask) -> Partner:
    return register_partner(probe, probe.test_client(), roles=("PISP",))


def at_once(app: Flask, requests: list[tuple[str, bytes]], token: str) -> list[TestResponse]:
    """Send each (key, body) from a thread of its own, released together."""
    start = threading.Barrier(len(requests))

    def send(key: str, body: bytes) -> TestResponse:
        client = app.test_client()
        start.wait(timeout=30)
        response = client.post(
            PAYMENT_CONSENTS, data=body, content_type="application/json",
            headers={"Authorization": f"Bearer {token}", HEADER: key},
        )  # fmt: skip
        response.get_data()
        return response

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(lambda request: send(*request), requests))


def test_identical_requests_at_once_create_one_resource_and_get_the_same_bytes(
    probe: Flask, partner: Partner
) -> None:
    token = bearer_token(probe, partner.client_id, "payments")
    body = json.dumps({"Data": {"Amount": "5.00"}, "Delay": DELAY}).encode()
    key = str(uuid.uuid4())
    responses = at_once(probe, [(key, body)] * REQUESTS, token)
    assert [r.status_code for r in responses] == [201] * REQUESTS, {
        r.status_code: r.get_json() for r in responses
    }
    assert len({r.get_data() for r in responses}) == 1
    assert len({r.headers["x-jws-signature"] for r in responses}) == 1
    assert len({r.headers["x-fapi-interaction-id"] for r in responses}) == REQUESTS
    assert created(probe, partner.client_id) == 1


def test_another_body_sent_while_the_first_is_in_progress_is_refused(
    probe: Flask, partner: Partner
) -> None:
    token = bearer_token(probe, partner.client_id, "payments")
    key = str(uuid.uuid4())
    bodies = [
        json.dumps({"Data": {"Amount": amount}, "Delay": DELAY}).encode()
        for amount in ("5.00", "6.00")
    ]
    responses = at_once(probe, [(key, body) for body in bodies], token)
    # Whichever claimed the key first created the consent; the other was refused.
    assert sorted(r.status_code for r in responses) == [201, 400]
    refused = next(r for r in responses if r.status_code == 400).get_json()["Errors"][0]
    assert (refused["ErrorCode"], refused["Path"]) == ("U006", HEADER)
    assert created(probe, partner.client_id) == 1
