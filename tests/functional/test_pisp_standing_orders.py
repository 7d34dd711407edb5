"""Domestic standing orders (OBIE v4.0): set up once, paid on the tenant's clock on every date of
the frequency.

Every response here is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.clock import SANDBOX_START
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import CREDITOR, PISP, authorised, payment_body, staged
from tests.functional.test_pisp_domestic import advance, refused

START = dt.datetime.fromisoformat(SANDBOX_START)
CONSENTS = f"{PISP}/domestic-standing-order-consents"
ORDERS = f"{PISP}/domestic-standing-orders"
MANDATE = "Data.Initiation.MandateRelatedInformation"


def standing_body(kind: str = "WEEK", count: str | None = "3", **initiation: Any) -> dict[str, Any]:
    """A standing order of 7.25 GBP at ``kind``, first paid the day after the sandbox's start."""
    mandate: dict[str, Any] = {
        "Frequency": {"Type": kind},
        "FirstPaymentDateTime": (START + dt.timedelta(days=1)).isoformat(),
    }
    body: dict[str, Any] = {
        "Data": {
            "Permission": "Create",
            "Initiation": {
                "MandateRelatedInformation": mandate,
                "FirstPaymentAmount": {"Amount": "7.25", "Currency": "GBP"},
                "CreditorAccount": copy.deepcopy(CREDITOR),
                "RemittanceInformation": {"Reference": "RENT-FLAT-2"},
                **initiation,
            },
        },
        "Risk": {"PaymentContextCode": "TransferToThirdParty"},
    }
    if count is not None:
        body["Data"]["Initiation"]["NumberOfPayments"] = count
    return body


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def test_a_weekly_standing_order_pays_its_number_of_payments(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = standing_body("WEEK", "3")
    assert staged(pisp, body, CONSENTS)["Data"]["Status"] == "AWAU"
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    made = pisp.client.post_signed(ORDERS, token, payment_body(consent_id, body))["Data"]
    assert made["Status"] == "INCO"
    reader = pisp.client.client_credentials("payments")["access_token"]
    path = f"{ORDERS}/{made['DomesticStandingOrderId']}"
    assert (
        pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"][0]["Status"]
        == "ACCP"
    )
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=40))
    steps = pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"]
    settled = [s["StatusUpdateDateTime"][:10] for s in steps if s["Status"] == "ACSC"]
    booked = [s["StatusUpdateDateTime"][:10] for s in steps if s["Status"] == "ACSP"]
    assert booked == ["2026-03-05", "2026-03-12", "2026-03-19"]
    assert len(settled) == 3
    assert pisp.client.get(path, reader)["Data"]["Status"] == "INCO"


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (lambda i: i["MandateRelatedInformation"]["Frequency"].update(Type="ADHO"), "U025",
         f"{MANDATE}.Frequency.Type"),
        (lambda i: i["MandateRelatedInformation"]["Frequency"].update(Type="EvryMoment"), "U002",
         f"{MANDATE}.Frequency.Type"),
        (lambda i: i.update(RecurringPaymentAmount={"Amount": "8.00", "Currency": "GBP"}),
         "U002", "Data.Initiation.RecurringPaymentAmount"),
        (lambda i: i["MandateRelatedInformation"].pop("FirstPaymentDateTime"), "U001",
         f"{MANDATE}.FirstPaymentDateTime"),
        (lambda i: i["MandateRelatedInformation"].update(
            FirstPaymentDateTime=(START - dt.timedelta(days=2)).isoformat()), "U003",
         f"{MANDATE}.FirstPaymentDateTime"),
        (lambda i: i["MandateRelatedInformation"].update(
            FinalPaymentDateTime=(START + dt.timedelta(days=60)).isoformat()), "U005",
         "Data.Initiation.NumberOfPayments"),
        (lambda i: i.update(NumberOfPayments="0"), "U002", "Data.Initiation.NumberOfPayments"),
    ],
)  # fmt: skip
def test_a_standing_order_the_bank_cannot_follow_is_refused(
    pisp: Partner, change: Any, code: str, path: str
) -> None:
    body = standing_body()
    change(body["Data"]["Initiation"])
    status, error = refused(staged, pisp, body, CONSENTS)
    assert status == 400
    assert (error["Errors"][0]["ErrorCode"], error["Errors"][0]["Path"]) == (code, path)


def test_a_standing_order_until_cancelled_is_accepted(oauth_app: Flask, pisp: Partner) -> None:
    body = standing_body("IntrvlMnthDay:01:-01", count=None)
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    made = pisp.client.post_signed(ORDERS, token, payment_body(consent_id, body))["Data"]
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=70))
    reader = pisp.client.client_credentials("payments")["access_token"]
    path = f"{ORDERS}/{made['DomesticStandingOrderId']}/payment-details"
    steps = pisp.client.get(path, reader)["Data"]["PaymentStatus"]
    booked = [s["StatusUpdateDateTime"][:10] for s in steps if s["Status"] == "ACSP"]
    # The last day of March and of April (a Thursday and a Thursday): no drift, no end.
    assert booked == ["2026-03-31", "2026-04-30"]
