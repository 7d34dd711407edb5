"""The example client's payment calls against the gateway: the bank's signature of every answer
of the payment API is checked, and a forged or missing one is refused."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from partners.example_client import PISP, GatewayError
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import authorised, consent_body


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    """A partner registered for payments."""
    return register_partner(oauth_app, http, roles=("PISP",))


def test_the_payment_calls_check_the_banks_signatures(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("2.00")
    consent_id, token = authorised(oauth_app, pisp, body)
    key = str(uuid.uuid4())
    paid = pisp.client.submit_domestic_payment(token, consent_id, body, key)["Data"]
    assert paid["ConsentId"] == consent_id and paid["Status"] == "ACSP"
    # The same key again: the bank's first answer, signed, and nothing paid twice.
    again = pisp.client.submit_domestic_payment(token, consent_id, body, key)["Data"]
    assert again["DomesticPaymentId"] == paid["DomesticPaymentId"]
    staff = pisp.client.client_credentials("payments")["access_token"]
    read = pisp.client.domestic_payment(staff, paid["DomesticPaymentId"])["Data"]
    assert read["Status"] == "ACSP"
    assert pisp.client.bank_jwks is not None and pisp.client.bank_jwks["keys"]


def test_a_forged_or_missing_response_signature_is_refused(oauth_app: Flask, pisp: Partner) -> None:
    staff = pisp.client.client_credentials("payments")["access_token"]
    url = pisp.client.issuer + f"{PISP}/domestic-payment-consents"
    headers = pisp.client.resource_headers("GET", url + "/pmc-nosuch", staff)
    status, answered, raw = pisp.client.transport("GET", url + "/pmc-nosuch", headers, None)
    signature = {k.lower(): v for k, v in answered.items()}["x-jws-signature"]
    assert status == 400
    assert pisp.client.verify_response(raw, signature)["alg"] == "ES256"
    with pytest.raises(GatewayError, match="does not verify"):
        pisp.client.verify_response(raw.replace(b"U011", b"U012"), signature)
    with pytest.raises(GatewayError, match="no x-jws-signature"):
        pisp.client.verify_response(raw, None)


def test_the_payment_reference_is_read_when_the_app_is_made(database_url: str) -> None:
    from gateway.api import reference
    from gateway.api.pisp import REFERENCE_FILE
    from gateway.app import create_app

    reference._registry.cache_clear()
    reference.validator.cache_clear()
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"})
    try:  # no request yet: the reference files (payments and VRP) are read already, once each
        assert reference._registry.cache_info().currsize == 2
        reference.validator(REFERENCE_FILE, "OBWriteDomestic2")
        assert reference._registry.cache_info().hits >= 1
    finally:
        app.extensions["database"].dispose()
