"""Helpers of the payment initiation tests: the bodies a partner sends, and a consent the
customer authorised."""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask

from tests.common.oauth import Partner, approve_in_browser

PISP = "/open-banking/v4.0/pisp"
CREDITOR = {
    "SchemeName": "UK.OBIE.SortCodeAccountNumber",
    "Identification": "08080021325698",
    "Name": "ACME Inc",
}


def consent_body(amount: str = "10.50", **initiation: Any) -> dict[str, Any]:
    """An ``OBWriteDomesticConsent4`` for ``amount`` GBP to :data:`CREDITOR`."""
    return {
        "Data": {
            "Initiation": {
                "InstructionIdentification": "ACME412",
                "EndToEndIdentification": "FRESCO.21302.GFX.20",
                "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
                "CreditorAccount": copy.deepcopy(CREDITOR),
                "RemittanceInformation": {"Reference": "FRESCO-101", "Unstructured": ["Lunch"]},
                **initiation,
            }
        },
        "Risk": {"PaymentContextCode": "TransferToThirdParty", "MerchantCategoryCode": "5967"},
    }


def payment_body(consent_id: str, consent: dict[str, Any]) -> dict[str, Any]:
    """The ``OBWriteDomestic2`` that repeats ``consent`` exactly."""
    return {
        "Data": {"ConsentId": consent_id, "Initiation": consent["Data"]["Initiation"]},
        "Risk": consent["Risk"],
    }


def staged(
    partner: Partner, body: dict[str, Any], path: str = f"{PISP}/domestic-payment-consents"
) -> dict[str, Any]:
    """POST the consent (to ``path``) with a client-credentials token."""
    token = partner.client.client_credentials("payments")["access_token"]
    created: dict[str, Any] = partner.client.post_signed(path, token, body)
    return created


def authorised(
    app: Flask,
    partner: Partner,
    body: dict[str, Any],
    path: str = f"{PISP}/domestic-payment-consents",
) -> tuple[str, str]:
    """A consent for ``body`` (posted to ``path``) the customer approved; its id and the
    authorised token."""
    consent_id = staged(partner, body, path)["Data"]["ConsentId"]
    request_uri, verifier, _ = partner.client.push_authorization_request(consent_id, "payments")
    answer = approve_in_browser(
        app, app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id,
    )  # fmt: skip
    token = partner.client.exchange_code(answer["code"], verifier)["access_token"]
    return consent_id, token
