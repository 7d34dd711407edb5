"""Helpers of the VRP tests: the bodies a partner sends, a consent the customer authorised, raw
signed requests, and the tenant's clock."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from gateway.payments.models import VrpPayment
from gateway.store.database import Database
from partners.example_client import detached_jws
from tests.common.oauth import Partner
from tests.common.pisp import CREDITOR, PISP, authorised

CONSENTS = f"{PISP}/domestic-vrp-consents"
PAYMENTS = f"{PISP}/domestic-vrps"
SWEEPING = "UK.OBIE.VRPType.Sweeping"
SCA = "UK.OBIE.SCA"


def consent_body(
    maximum: str = "25.00",
    limits: tuple[tuple[str, str, str], ...] = (("Month", "Calendar", "100.00"),),
    **control: Any,
) -> dict[str, Any]:
    """An ``OBDomesticVRPConsentRequest`` to :data:`CREDITOR` in GBP: each payment at most
    ``maximum``, ``limits`` as (PeriodType, PeriodAlignment, Amount)."""
    periodic = [
        {"PeriodType": kind, "PeriodAlignment": align, "Amount": amount, "Currency": "GBP"}
        for kind, align, amount in limits
    ]
    return {
        "Data": {
            "ReadRefundAccount": "Yes",
            "ControlParameters": {
                "VRPType": [SWEEPING],
                "PSUAuthenticationMethods": [SCA],
                "MaximumIndividualAmount": {"Amount": maximum, "Currency": "GBP"},
                "PeriodicLimits": periodic,
                **control,
            },
            "Initiation": {
                "CreditorAccount": copy.deepcopy(CREDITOR),
                "RemittanceInformation": {"Reference": "SWEEP-42"},
            },
        },
        "Risk": {"PaymentContextCode": "TransferToSelf"},
    }


def payment_body(
    consent_id: str, consent: dict[str, Any], amount: str = "10.00", **data: Any
) -> dict[str, Any]:
    """An ``OBDomesticVRPRequest`` of ``amount`` GBP under ``consent``."""
    initiation = copy.deepcopy(consent["Data"]["Initiation"])
    return {
        "Data": {
            "ConsentId": consent_id,
            "PSUAuthenticationMethod": SCA,
            "VRPType": SWEEPING,
            "Initiation": initiation,
            "Instruction": {
                "InstructionIdentification": "SWEEP-1",
                "EndToEndIdentification": "E2E-SWEEP-1",
                "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
                "CreditorAccount": copy.deepcopy(CREDITOR),
                "RemittanceInformation": {"Reference": "SWEEP-42"},
            },
            **data,
        },
        "Risk": {"PaymentContextCode": "TransferToSelf"},
    }


def authorised_vrp(app: Flask, partner: Partner, body: dict[str, Any]) -> tuple[str, str]:
    """A VRP consent for ``body`` the customer approved; its id and the authorised token."""
    return authorised(app, partner, body, CONSENTS)


def reader(partner: Partner) -> str:
    """A client-credentials token of the partner (scope payments)."""
    token: str = partner.client.client_credentials("payments")["access_token"]
    return token


def send(
    http: FlaskClient,
    partner: Partner,
    method: str,
    path: str,
    token: str,
    body: Any = None,
    content_type: str = "application/json",
    **headers: str,
) -> TestResponse:
    """A request with the partner's DPoP proof, a signed body and ``headers``
    (``x_idempotency_key=...``; ``x_jws_signature=""`` sends none)."""
    sent = partner.client.resource_headers(method, f"http://localhost{path}", token)
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        sent["x-jws-signature"] = detached_jws(raw, partner.private_jwk, iss=partner.client_id,
                                               tan="localhost")  # fmt: skip
    sent |= {name.replace("_", "-"): value for name, value in headers.items()}
    sent = {name: value for name, value in sent.items() if value}
    if body is None:
        return http.open(path, method=method, headers=sent)
    return http.open(path, method=method, data=raw, headers=sent, content_type=content_type)


def advance(app: Flask, tenant: str, delta: dt.timedelta) -> None:
    """Move the tenant's sandbox clock forward."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        app.extensions["bank_core"](session).advance_clock(tenant, delta)


def first_error(answer: Any) -> tuple[str, str | None]:
    """The code and path of an error body's first error."""
    error = answer["Errors"][0]
    return error["ErrorCode"], error.get("Path")


def vrps_of(app: Flask, consent_id: str) -> int:
    """How many VRPs the gateway holds under the consent."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        query = select(func.count()).select_from(VrpPayment)
        return int(session.scalar(query.where(VrpPayment.consent_id == consent_id)) or 0)
