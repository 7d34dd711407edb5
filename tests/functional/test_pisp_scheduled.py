"""Domestic scheduled payments (OBIE v4.0): booked for a day, executed on the tenant's clock.

Every response here is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.clock import SANDBOX_START
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, consent_body, payment_body, staged
from tests.functional.test_pisp_domestic import advance, refused

START = dt.datetime.fromisoformat(SANDBOX_START)
CONSENTS = f"{PISP}/domestic-scheduled-payment-consents"
PAYMENTS = f"{PISP}/domestic-scheduled-payments"


def scheduled_body(amount: str = "4.20", days: int = 3) -> dict[str, Any]:
    """An ``OBWriteDomesticScheduledConsent4`` for ``days`` after the sandbox's start."""
    body = consent_body(amount)
    when = (START + dt.timedelta(days=days)).isoformat()
    body["Data"] = {"Permission": "Create", **body["Data"]}
    body["Data"]["Initiation"]["RequestedExecutionDateTime"] = when
    return body


def scheduled_payment(consent_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return payment_body(consent_id, body)


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def test_a_scheduled_payment_waits_for_its_day_then_settles(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = scheduled_body(days=3)
    created = staged(pisp, body, CONSENTS)
    assert created["Data"]["Status"] == "AWAU" and created["Data"]["Permission"] == "Create"
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    order = pisp.client.post_signed(PAYMENTS, token, scheduled_payment(consent_id, body))["Data"]
    assert order["Status"] == "ACCP"
    assert (
        order["ExpectedExecutionDateTime"]
        == body["Data"]["Initiation"]["RequestedExecutionDateTime"]
    )
    reader = pisp.client.client_credentials("payments")["access_token"]
    path = f"{PAYMENTS}/{order['DomesticScheduledPaymentId']}"
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=2))
    assert pisp.client.get(path, reader)["Data"]["Status"] == "ACCP"
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=3))
    later = pisp.client.get(path, reader)["Data"]
    assert later["Status"] == "ACSC"
    steps = pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"]
    assert [s["Status"] for s in steps] == ["ACCP", "ACSP", "ACSC"]
    consent = pisp.client.get(f"{CONSENTS}/{consent_id}", reader)["Data"]
    assert consent["Status"] == "COND"


def test_a_scheduled_payment_without_the_funds_on_its_day_is_rejected(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = scheduled_body("9999999.00", days=2)
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    order = pisp.client.post_signed(PAYMENTS, token, scheduled_payment(consent_id, body))["Data"]
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=3))
    reader = pisp.client.client_credentials("payments")["access_token"]
    later = pisp.client.get(f"{PAYMENTS}/{order['DomesticScheduledPaymentId']}", reader)["Data"]
    assert later["Status"] == "RJCT"
    assert later["StatusReason"][0]["StatusReasonCode"] == "AM04"


@pytest.mark.parametrize("days", [0, -1, 400])
def test_the_day_must_be_after_today_and_within_a_year(pisp: Partner, days: int) -> None:
    status, error = refused(staged, pisp, scheduled_body(days=days), CONSENTS)
    assert status == 400
    assert error["Errors"][0]["ErrorCode"] == "U003"
    assert error["Errors"][0]["Path"] == "Data.Initiation.RequestedExecutionDateTime"


def test_the_schedule_must_match_the_consent(oauth_app: Flask, pisp: Partner) -> None:
    body = scheduled_body(days=3)
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    sent = scheduled_payment(consent_id, scheduled_body(days=4))
    status, error = refused(pisp.client.post_signed, PAYMENTS, token, sent)
    assert status == 400 and error["Errors"][0]["ErrorCode"] == "U008"
    assert error["Errors"][0]["Path"] == "Data.Initiation.RequestedExecutionDateTime"


def test_a_domestic_consent_cannot_make_a_scheduled_payment(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, token = authorised(oauth_app, pisp, body)
    sent = scheduled_payment(consent_id, scheduled_body(days=3))
    status, error = refused(pisp.client.post_signed, PAYMENTS, token, sent)
    assert status == 400 and error["Errors"][0]["ErrorCode"] == "U011"


def test_the_permission_is_required(pisp: Partner) -> None:
    body = scheduled_body()
    del body["Data"]["Permission"]
    status, error = refused(staged, pisp, body, CONSENTS)
    assert status == 400
    assert (error["Errors"][0]["ErrorCode"], error["Errors"][0]["Path"]) == (
        "U004",
        "Data.Permission",
    )
