"""Domestic VRPs (OBIE VRP v4.0): consent, authorisation, many payments, status, update,
revocation, funds confirmation. Every response is validated against vrp-openapi.yaml by the
conforming test client."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from partners.example_client import GatewayError
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, staged
from tests.common.vrp import (
    CONSENTS,
    PAYMENTS,
    authorised_vrp,
    consent_body,
    first_error,
    payment_body,
    reader,
    send,
)
from tests.functional.test_pisp_domestic import balance


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    """A partner registered for payments."""
    return register_partner(oauth_app, http, roles=("PISP",))


def refused(call: Any, *args: Any) -> tuple[int, tuple[str, str | None]]:
    with pytest.raises(GatewayError) as caught:
        call(*args)
    return caught.value.status, first_error(caught.value.body)


def test_a_consent_pays_many_times_within_its_limits(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body()
    created = staged(pisp, body, CONSENTS)
    data = created["Data"]
    assert data["Status"] == "AWAU" and "DebtorAccount" not in data
    assert data["ControlParameters"] == body["Data"]["ControlParameters"]
    assert created["Links"]["Self"] == f"http://localhost{CONSENTS}/{data['ConsentId']}"
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    consent = pisp.client.get(f"{CONSENTS}/{consent_id}", reader(pisp))
    assert consent["Data"]["Status"] == "AUTH"
    debtor = consent["Data"]["DebtorAccount"]
    before = balance(oauth_app, pisp, token)
    ids = []
    for amount in ("10.00", "12.50", "7.25"):
        paid = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body, amount))
        assert paid["Data"]["Status"] == "ACSP" and paid["Data"]["ConsentId"] == consent_id
        assert paid["Data"]["Instruction"]["InstructedAmount"]["Amount"] == amount
        assert paid["Data"]["DebtorAccount"] == debtor == paid["Data"]["Refund"]
        assert paid["Risk"] == body["Risk"]
        ids.append(paid["Data"]["DomesticVRPId"])
    assert before - balance(oauth_app, pisp, token) == pytest.approx(29.75)
    assert len(set(ids)) == 3
    again = pisp.client.get(f"{PAYMENTS}/{ids[0]}", reader(pisp))
    assert again["Data"]["Status"] == "ACSP"
    assert again["Links"]["Self"] == f"http://localhost{PAYMENTS}/{ids[0]}"
    details = pisp.client.get(f"{PAYMENTS}/{ids[0]}/payment-details", reader(pisp))
    assert [s["Status"] for s in details["Data"]["PaymentStatus"]] == ["ACSP"]
    # A VRP consent is never consumed: it stays authorised.
    assert pisp.client.get(f"{CONSENTS}/{consent_id}", reader(pisp))["Data"]["Status"] == "AUTH"
