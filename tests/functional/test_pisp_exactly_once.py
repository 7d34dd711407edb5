"""Payment initiation's guarantees on the wire: a retried payment is answered byte for byte and
pays once, every request body is signed by the partner and every answer by the bank."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from partners.example_client import detached_jws, verify_detached_jws
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, consent_body, payment_body
from tests.functional.test_pisp_domestic import balance, orders_of

PAYMENTS = f"{PISP}/domestic-payments"


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def send(
    http: FlaskClient, partner: Partner, token: str, body: dict[str, Any], **headers: str
) -> TestResponse:
    """POST ``body`` to the payments with the partner's DPoP proof, signature and ``headers``
    (``x_idempotency_key=...``; ``x_jws_signature=""`` sends none)."""
    raw = json.dumps(body).encode()
    sent = partner.client.resource_headers("POST", f"http://localhost{PAYMENTS}", token)
    sent["x-jws-signature"] = detached_jws(raw, partner.private_jwk, iss=partner.client_id,
                                           tan="localhost")  # fmt: skip
    sent |= {name.replace("_", "-"): value for name, value in headers.items()}
    sent = {name: value for name, value in sent.items() if value}
    return http.post(PAYMENTS, data=raw, headers=sent, content_type="application/json")


def test_a_retry_with_the_same_key_is_the_same_answer_and_pays_once(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body("2.00")
    consent_id, token = authorised(oauth_app, pisp, body)
    before = balance(oauth_app, pisp, token)
    order = payment_body(consent_id, body)
    first = send(http, pisp, token, order, x_idempotency_key="pay-2-00-once")
    again = send(http, pisp, token, order, x_idempotency_key="pay-2-00-once")
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["x-jws-signature"] == first.headers["x-jws-signature"]
    assert orders_of(oauth_app, consent_id) == 1
    assert before - balance(oauth_app, pisp, token) == pytest.approx(2.00)
    # A new key is a new request: the consent is consumed by then.
    third = send(http, pisp, token, order, x_idempotency_key="pay-2-00-twice")
    assert third.status_code == 400
    assert third.get_json()["Errors"][0]["ErrorCode"] == "U009"


def test_the_same_key_with_another_body_is_refused(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body("2.00")
    consent_id, token = authorised(oauth_app, pisp, body)
    order = payment_body(consent_id, body)
    assert send(http, pisp, token, order, x_idempotency_key="k-1").status_code == 201
    other = json.loads(json.dumps(order))
    other["Data"]["Initiation"]["InstructionIdentification"] = "OTHER"
    refused = send(http, pisp, token, other, x_idempotency_key="k-1")
    assert refused.status_code == 400
    assert refused.get_json()["Errors"][0]["Path"] == "x-idempotency-key"


def test_a_payment_needs_an_idempotency_key_and_a_signature(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, token = authorised(oauth_app, pisp, body)
    order = payment_body(consent_id, body)
    no_key = send(http, pisp, token, order)
    assert no_key.status_code == 400 and no_key.get_json()["Errors"][0]["ErrorCode"] == "U007"
    unsigned = send(http, pisp, token, order, x_idempotency_key="k-2", x_jws_signature="")
    assert unsigned.status_code == 400
    assert unsigned.get_json()["Errors"][0]["ErrorCode"] == "U019"
    assert orders_of(oauth_app, consent_id) == 0


def test_every_answer_is_signed_by_the_bank(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, token = authorised(oauth_app, pisp, body)
    paid = send(http, pisp, token, payment_body(consent_id, body), x_idempotency_key="k-3")
    refused = send(http, pisp, token, payment_body(consent_id, body), x_idempotency_key="k-4")
    jwks = http.get("/jwks").get_json()
    for response in (paid, refused):
        header = verify_detached_jws(
            response.get_data(), response.headers["x-jws-signature"], jwks,
            iss="http://localhost", tan="localhost",
        )  # fmt: skip
        assert header["kid"] in {key["kid"] for key in jwks["keys"]}
