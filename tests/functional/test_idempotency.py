"""x-idempotency-key through HTTP, on a stand-in for the payment APIs' POSTs
(tests/common/idempotency.py: one consent row per successful request, and a stand-in signing
layer): the header's rules, replays byte for byte, refusals, the key's scope and lifetime, a
failed request that keeps nothing, and the purge command."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.api.idempotency import keys, store
from gateway.api.idempotency.keys import HEADER, LIFETIME
from gateway.store.database import Database
from tests.common.idempotency import (
    FUNDS_CONSENTS,
    PAYMENT_CONSENTS,
    Clock,
    created,
    injected_clock,
    probe_app,
)
from tests.common.oauth import ISSUER, Partner, register_partner
from tests.common.obie import ConformingClient

BODY: dict[str, Any] = {
    "Data": {"Initiation": {"InstructedAmount": {"Amount": "10.50", "Currency": "GBP"},
                            "RemittanceInformation": {"Reference": "Café 42"}}},
    "Risk": {},
}  # fmt: skip
RAW = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def probe(database_url: str) -> Iterator[Flask]:
    app = probe_app(database_url)
    app.test_client_class = ConformingClient
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def http(probe: Flask) -> FlaskClient:
    return probe.test_client()


@pytest.fixture
def clock(probe: Flask) -> Iterator[Clock]:
    yield from injected_clock(probe)


@pytest.fixture
def partner(probe: Flask, http: FlaskClient) -> Partner:
    return register_partner(probe, http, roles=("PISP", "CBPII"))


def token_of(partner: Partner, scope: str = "payments") -> str:
    return str(partner.client.client_credentials(scope)["access_token"])


def send(
    http: FlaskClient, partner: Partner, token: str, raw: bytes = RAW, *,
    key: str | None = "key-1", path: str = PAYMENT_CONSENTS,
) -> TestResponse:  # fmt: skip
    """POST ``raw`` as JSON with the partner's DPoP-bound token and ``key`` (none: no header)."""
    headers = partner.client.resource_headers("POST", ISSUER + path, token)
    if key is not None:
        headers[HEADER] = key
    return http.post(path, data=raw, headers=headers, content_type="application/json")


def error(response: TestResponse) -> dict[str, Any]:
    body: dict[str, Any] = response.get_json()
    assert body["Id"] == response.headers["x-fapi-interaction-id"]
    first: dict[str, Any] = body["Errors"][0]
    return first


def same_response(first: TestResponse, again: TestResponse) -> None:
    assert again.status_code == first.status_code
    assert again.get_data() == first.get_data()
    for name in ("Content-Type", "Location", "x-jws-signature"):
        assert again.headers[name] == first.headers[name], name
    # Per request: the interaction id is the new request's own.
    assert again.headers["x-fapi-interaction-id"] != first.headers["x-fapi-interaction-id"]


# -- the same request again ----------------------------------------------------------------------


def test_the_same_request_again_is_answered_byte_for_byte_and_creates_nothing(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    token = token_of(partner)
    first = send(http, partner, token)
    assert first.status_code == 201, first.get_json()
    assert first.headers["x-jws-signature"]
    clock.now += dt.timedelta(hours=23)
    again = send(http, partner, token)
    same_response(first, again)
    # The stored response was the signed one; the signing layer left the replay as it was.
    assert "Cache-Control" not in again.headers
    assert created(probe, partner.client_id) == 1


def test_a_reserialised_body_is_the_same_request(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    token = token_of(partner)
    first = send(http, partner, token)
    # A partner's library may send the same value another way: key order, spacing, escapes.
    reordered = dict(reversed(BODY.items()))
    again = send(http, partner, token, json.dumps(reordered, indent=2, ensure_ascii=True).encode())
    same_response(first, again)
    assert created(probe, partner.client_id) == 1


def test_another_body_with_the_key_is_refused_and_creates_nothing(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    token = token_of(partner)
    first = send(http, partner, token)
    changed = RAW.replace(b"10.50", b"10.51")
    refused = send(http, partner, token, changed)
    assert refused.status_code == 400
    assert error(refused)["ErrorCode"] == "U006"
    assert error(refused)["Path"] == HEADER
    assert "x-jws-signature" not in refused.headers
    assert created(probe, partner.client_id) == 1
    # The key still answers its own request.
    same_response(first, send(http, partner, token))


# -- the header's rules (OBIE v4.0: required, maxLength 40, ^(?!\s)(.*)(\S)$) --------------------


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (None, "U007"),
        ("x" * 41, "U006"),
        ("", "U006"),
        (" leading", "U006"),
        ("trailing ", "U006"),
        ("tab\t", "U006"),
        ("\xff", "U006"),  # not UTF-8 text
    ],
    ids=["missing", "too-long", "empty", "leading-space", "trailing-space", "tab", "not-utf8"],
)
def test_a_missing_or_invalid_key_is_refused(
    probe: Flask, http: FlaskClient, partner: Partner, key: str | None, code: str
) -> None:
    response = send(http, partner, token_of(partner), key=key)
    assert response.status_code == 400
    assert (error(response)["ErrorCode"], error(response)["Path"]) == (code, HEADER)
    assert created(probe, partner.client_id) == 0


def test_the_longest_key_and_any_characters_inside_are_taken(
    probe: Flask, http: FlaskClient, partner: Partner
) -> None:
    token = token_of(partner)
    for key in ("x" * 40, "a key/with?odd#chars%"):
        assert send(http, partner, token, key=key).status_code == 201
    assert created(probe, partner.client_id) == 2


def test_the_token_is_checked_before_the_key(
    probe: Flask, http: FlaskClient, partner: Partner
) -> None:
    anonymous = http.post(PAYMENT_CONSENTS, data=RAW, content_type="application/json",
                          headers={HEADER: "key-1"})  # fmt: skip
    assert anonymous.status_code == 401
    # A token without the operation's family scope claims no key.
    wrong_scope = send(http, partner, token_of(partner, "fundsconfirmations"))
    assert wrong_scope.status_code == 403
    assert send(http, partner, token_of(partner)).status_code == 201


# -- the key's scope and lifetime --------------------------------------------------------------


def test_a_key_is_scoped_per_client(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    other = register_partner(probe, http, roles=("PISP",))
    mine = send(http, partner, token_of(partner))
    theirs = send(http, other, token_of(other))
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["Data"]["ConsentId"] != theirs.get_json()["Data"]["ConsentId"]
    assert created(probe, partner.client_id) == created(probe, other.client_id) == 1


def test_a_key_is_scoped_per_operation(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    payment = send(http, partner, token_of(partner))
    funds = send(http, partner, token_of(partner, "fundsconfirmations"), path=FUNDS_CONSENTS)
    assert payment.status_code == funds.status_code == 201
    assert payment.get_json()["Data"]["ConsentId"] != funds.get_json()["Data"]["ConsentId"]
    assert created(probe, partner.client_id) == 2


def test_a_key_lives_24_hours_on_the_clock(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    token = token_of(partner)
    first = send(http, partner, token)
    clock.now += LIFETIME - dt.timedelta(seconds=1)
    same_response(first, send(http, partner, token))
    clock.now += dt.timedelta(seconds=1)
    # Expired: the same key is a new one, for this request or any other.
    renewed = send(http, partner, token, RAW.replace(b"10.50", b"99.00"))
    assert renewed.status_code == 201
    assert renewed.get_json()["Data"]["ConsentId"] != first.get_json()["Data"]["ConsentId"]
    assert created(probe, partner.client_id) == 2
    same_response(renewed, send(http, partner, token, RAW.replace(b"10.50", b"99.00")))


def test_a_failed_request_keeps_nothing_and_may_be_retried_with_its_key(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    token = token_of(partner)
    failing = json.dumps({**BODY, "Fail": True}).encode()
    assert send(http, partner, token, failing).status_code == 400
    assert send(http, partner, token, failing).status_code == 400  # ran again, not replayed
    assert created(probe, partner.client_id) == 0
    # The key was never used: another body with it is a new request, not a mismatch.
    assert send(http, partner, token).status_code == 201
    assert created(probe, partner.client_id) == 1


def test_the_purge_command_deletes_the_expired_keys(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    token = token_of(partner)
    send(http, partner, token, key="old")
    clock.now += dt.timedelta(hours=12)
    recent = send(http, partner, token, key="recent")
    clock.now += dt.timedelta(hours=12)
    result = probe.test_cli_runner().invoke(args=["idempotency", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("purged ") and "expired idempotency key" in result.output
    assert int(result.output.split()[1]) >= 1
    same_response(recent, send(http, partner, token, key="recent"))
    # The purged key is a new one: a new consent.
    assert send(http, partner, token, key="old").status_code == 201
    assert created(probe, partner.client_id) == 3


def test_a_key_held_without_a_response_is_refused_as_in_progress(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    # Never left by a request (its response is stored before its commit): a row written so by
    # something else is refused, 409 U029, rather than run a second time.
    database: Database = probe.extensions["database"]
    with database.sessions.begin() as session:
        where = store.Scope(partner.client_id, "domestic-payment-consents", "held")
        fingerprint = keys.fingerprint("POST", PAYMENT_CONSENTS, RAW, is_json=True)
        assert isinstance(store.claim(session, where, fingerprint, now=clock.now), store.Claimed)
    response = send(http, partner, token_of(partner), key="held")
    assert response.status_code == 409
    assert error(response)["ErrorCode"] == "U029"
    assert created(probe, partner.client_id) == 0
