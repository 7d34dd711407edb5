"""What the payment initiation views share: the bank, request bodies checked against the
reference, the created-resource response, and the partner's own consents."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api import reference
from gateway.api.common import envelope, public_url
from gateway.api.pisp import REFERENCE_FILE, bp
from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session

CLIENT_TOKEN = ("client_credentials",)


def bank() -> BankCore:
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def body(component: str) -> dict[str, Any]:
    if not request.is_json:
        raise ApiError.one("U006", "The body must be application/json", path="Content-Type",
                           status=415)  # fmt: skip
    sent = request.get_json(silent=True)
    if sent is None:
        raise ApiError.one("U010", "The body is not valid JSON")
    return reference.check(sent, REFERENCE_FILE, component)


def created(
    data: dict[str, Any], location: str, risk: dict[str, Any] | None = None
) -> ResponseReturnValue:
    body = envelope(data, self_url=public_url(f"{bp.url_prefix}{location}"))
    response = jsonify(body if risk is None else body | {"Risk": risk})
    response.status_code = 201
    return response


def own_consent(consent_id: str, client_id: str, family: str) -> Consent:
    """The partner's payment consent of ``family``; 400 U011 otherwise."""
    consent = get_session().get(Consent, consent_id)
    if (
        consent is None
        or consent.client_id != client_id
        or (consent.data or {}).get("family") != family
    ):
        # OBIE profile v4.0: an unknown resource id is a 400 (U011), not a 404.
        raise ApiError.one("U011", f"No {family[:-1]} with this id", status=400)
    return consent
