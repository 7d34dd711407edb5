"""Payments under concurrency on PostgreSQL (which must be reachable under CI): 50 identical
payment requests at once make one payment, and payments that together exceed what an account
can spend settle only what it can afford, with every penny accounted for.

Each request runs in a thread of its own with a database connection of its own, signed and
DPoP-bound as a partner sends it, all released together."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_UP, Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.consents.models import Consent
from gateway.payments.models import PaymentOrder
from gateway.store.database import Database
from partners.example_client import detached_jws
from tests.common.fapi import protected_app
from tests.common.oauth import Partner, register_partner
from tests.common.obie import ConformingClient
from tests.common.pisp import PISP, authorised, consent_body, payment_body

PAYMENTS = f"{PISP}/domestic-payments"


@pytest.fixture(scope="module")
def app(postgres_url: str) -> Iterator[Flask]:
    # A small pool: the requests queue for connections as a busy server's would.
    built = protected_app(postgres_url, DATABASE_POOL_SIZE=8)
    built.test_client_class = ConformingClient
    yield built
    built.extensions["database"].dispose()


@pytest.fixture
def pisp(app: Flask) -> Partner:
    return register_partner(app, app.test_client(), roles=("PISP",))


def _request(partner: Partner, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    """A payment request as the partner sends it: signed body, idempotency key, fresh proof."""
    raw = json.dumps(body).encode()
    headers = {
        "Accept": "application/json",
        "x-idempotency-key": key,
        "x-jws-signature": detached_jws(raw, partner.private_jwk, iss=partner.client_id,
                                        tan="localhost"),
        **partner.client.resource_headers("POST", f"http://localhost{PAYMENTS}", token),
    }  # fmt: skip
    return {"data": raw, "headers": headers, "content_type": "application/json"}


def _at_once(app: Flask, requests: list[dict[str, Any]]) -> list[TestResponse]:
    start = threading.Barrier(len(requests))

    def send(request: dict[str, Any]) -> TestResponse:
        client = app.test_client()
        start.wait(timeout=60)
        response = client.post(PAYMENTS, **request)
        response.get_data()
        return response

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def _orders(app: Flask, consent_ids: list[str]) -> list[PaymentOrder]:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        chosen = select(PaymentOrder).where(PaymentOrder.consent_id.in_(consent_ids))
        return list(session.scalars(chosen))


def _account_of(app: Flask, consent_id: str) -> str:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        return session.get_one(Consent, consent_id).account_ids[0]


def _balances(app: Flask, tenant: str, account_id: str) -> tuple[Decimal, Decimal]:
    """The account's booked balance and what it can spend (available plus its credit line)."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        seen = app.extensions["bank_core"](session).balances(tenant, account_id)
        return seen.booked.amount, seen.available.amount + seen.credit_line.amount


def test_fifty_identical_payment_requests_at_once_make_one_payment(
    app: Flask, pisp: Partner
) -> None:
    body = consent_body("7.77")
    consent_id, token = authorised(app, pisp, body)
    account = _account_of(app, consent_id)
    booked_before, _ = _balances(app, pisp.organisation_id, account)
    key = str(uuid.uuid4())
    same = payment_body(consent_id, body)
    # The same body and key fifty times, each with a proof of its own (a proof is used once).
    answers = _at_once(app, [_request(pisp, token, same, key) for _ in range(50)])
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json is not None and refused.json["Errors"][0]["ErrorCode"] == "U029"
    assert len({a.get_data() for a in answers if a.status_code == 201}) == 1
    assert len(_orders(app, [consent_id])) == 1
    booked_after, _ = _balances(app, pisp.organisation_id, account)
    assert booked_before - booked_after == Decimal("7.77")


def test_payments_beyond_the_balance_settle_only_what_it_can_afford(
    app: Flask, pisp: Partner
) -> None:
    probe = consent_body("1.00")
    first_id, _ = authorised(app, pisp, probe)
    account = _account_of(app, first_id)
    booked_before, spendable = _balances(app, pisp.organisation_id, account)
    # Four of these fit in what the account can spend; eight are sent.
    amount = (spendable / Decimal("4.5")).quantize(Decimal("0.01"), rounding=ROUND_UP)
    assert amount > 0 and (spendable // amount) == 4
    bodies = [consent_body(str(amount)) for _ in range(8)]
    consents = [authorised(app, pisp, body) for body in bodies]
    assert {_account_of(app, consent_id) for consent_id, _ in consents} == {account}
    requests = [
        _request(pisp, token, payment_body(consent_id, body), str(uuid.uuid4()))
        for (consent_id, token), body in zip(consents, bodies, strict=True)
    ]
    answers = _at_once(app, requests)
    assert [a.status_code for a in answers] == [201] * 8
    statuses = sorted(a.json["Data"]["Status"] for a in answers if a.json is not None)
    assert statuses == ["ACSP"] * 4 + ["RJCT"] * 4
    orders = _orders(app, [consent_id for consent_id, _ in consents])
    paid = [o for o in orders if o.status == "ACSP"]
    assert len(orders) == 8 and len(paid) == 4
    assert all(o.status_reason == "AM04" for o in orders if o.status == "RJCT")
    booked_after, left = _balances(app, pisp.organisation_id, account)
    # Conservation: the account lost exactly the four payments it made, and no more than it had.
    assert booked_before - booked_after == amount * 4
    assert left == spendable - amount * 4 and left >= 0
