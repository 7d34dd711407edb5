"""VRPs made at once under one consent: together they stay within its periodic limit. Each
payment is a request in a thread of its own with a database connection of its own; the consent's
row is locked while the payments already made are counted (``SELECT ... FOR UPDATE`` on
PostgreSQL, writers taking turns on SQLite), so only those the limit affords are paid. On the
configured store and on PostgreSQL (which must be reachable under CI)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.payments.models import VrpPayment
from partners.example_client import GatewayError
from tests.common.fapi import protected_app
from tests.common.oauth import Partner, register_partner
from tests.common.obie import ConformingClient
from tests.common.vrp import PAYMENTS, authorised_vrp, consent_body, payment_body
from tests.functional.test_pisp_domestic import balance

RACERS = 8
# Each pays 10.00 under a daily limit of 50.00: five of the eight fit.
AFFORDED = 5


@pytest.fixture(scope="module", params=["configured", "postgres"])
def racing_app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    fixture = "database_url" if request.param == "configured" else "postgres_url"
    app = protected_app(request.getfixturevalue(fixture), DATABASE_POOL_SIZE=RACERS + 2)
    app.test_client_class = ConformingClient
    yield app
    app.extensions["database"].dispose()


def test_payments_at_once_together_stay_within_the_periodic_limit(racing_app: Flask) -> None:
    partner: Partner = register_partner(racing_app, racing_app.test_client(), roles=("PISP",))
    body = consent_body("10.00", (("Day", "Calendar", "50.00"),))
    consent_id, token = authorised_vrp(racing_app, partner, body)
    before = balance(racing_app, partner, token)
    start = threading.Barrier(RACERS)
    answers: list[tuple[int, str]] = []

    def race(number: int) -> None:
        sent = payment_body(consent_id, body, "10.00")
        sent["Data"]["Instruction"]["InstructionIdentification"] = f"RACE-{number}"
        start.wait(timeout=30)
        try:
            paid = partner.client.post_signed(PAYMENTS, token, sent)
            answers.append((201, paid["Data"]["Status"]))
        except GatewayError as refused:
            answers.append((refused.status, refused.body["Errors"][0]["ErrorCode"]))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(answers) == sorted(
        [(201, "ACSP")] * AFFORDED + [(400, "U014")] * (RACERS - AFFORDED)
    ), answers
    with racing_app.extensions["database"].sessions() as session:
        paid = session.scalars(
            select(VrpPayment.amount_minor).where(VrpPayment.consent_id == consent_id)
        ).all()
    assert sorted(paid) == [1000] * AFFORDED
    assert Decimal(str(before - balance(racing_app, partner, token))).quantize(
        Decimal("0.01")
    ) == Decimal("50.00")
