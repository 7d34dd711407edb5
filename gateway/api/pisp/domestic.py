"""``/domestic-payment-consents`` and ``/domestic-payments``: a single immediate payment.

The partner stages the payment with a client-credentials token (the consent, ``AWAU``), the
customer authorises it on the consent page and picks the debtor account (``AUTH``), then the
partner submits the order with the token of that authorisation: the bank books it and the consent
is consumed (``COND``). Reading consents and payments takes a client-credentials token; the
consent's funds confirmation takes the authorised token (OBIE Payment Initiation API profile
v4.0, "Grant types").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api import reference
from gateway.api.common import check_fapi_headers, envelope, iso, public_url
from gateway.api.pisp import REFERENCE_FILE, bp
from gateway.api.pisp.bodies import consent_data, details_data, order_data
from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session
from gateway.oauth.protector import current_token
from gateway.payments import domestic, orders
from gateway.payments.models import PaymentOrder
from partners.models import App

CLIENT_TOKEN = ("client_credentials",)
CONSENTS = "/domestic-payment-consents"
PAYMENTS = "/domestic-payments"


def _bank() -> BankCore:
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def _body(component: str) -> dict[str, Any]:
    if not request.is_json:
        raise ApiError.one("U006", "The body must be application/json", path="Content-Type",
                           status=415)  # fmt: skip
    sent = request.get_json(silent=True)
    if sent is None:
        raise ApiError.one("U010", "The body is not valid JSON")
    return reference.check(sent, REFERENCE_FILE, component)


def _created(
    data: dict[str, Any], location: str, risk: dict[str, Any] | None = None
) -> ResponseReturnValue:
    body = envelope(data, self_url=public_url(f"{bp.url_prefix}{location}"))
    response = jsonify(body if risk is None else body | {"Risk": risk})
    response.status_code = 201
    return response


def _own_consent(consent_id: str, client_id: str) -> Consent:
    consent = get_session().get(Consent, consent_id)
    if (
        consent is None
        or consent.client_id != client_id
        or (consent.data or {}).get("family") != domestic.CONSENT_FAMILY
    ):
        # OBIE profile v4.0: an unknown resource id is a 400 (U011), not a 404.
        raise ApiError.one("U011", "No domestic payment consent with this id", status=400)
    return consent


@bp.post(CONSENTS)
def create_consent() -> ResponseReturnValue:
    """CreateDomesticPaymentConsents: the payment staged, awaiting the customer (201, AWAU)."""
    token = current_token(scope="payments", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    body = _body("OBWriteDomesticConsent4")
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = _bank().now(tenant)
    consent = domestic.create_consent(
        session, client_id=token.client_id, tenant_id=tenant, body=body, now=now
    )
    return _created(consent_data(consent, now), f"{CONSENTS}/{consent.id}", body["Risk"])


@bp.get(f"{CONSENTS}/<consent_id>")
def get_consent(consent_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentConsentsConsentId: the consent and its status on the tenant's clock."""
    token = current_token(scope="payments", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    consent = _own_consent(consent_id, token.client_id)
    now = _bank().now(consent.tenant_id)
    return jsonify(envelope(consent_data(consent, now)) | {"Risk": consent.data["Risk"]})


@bp.get(f"{CONSENTS}/<consent_id>/funds-confirmation")
def funds_confirmation(consent_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentConsentsConsentIdFundsConfirmation: whether the debtor account the
    customer picked covers the amount now (nothing is reserved)."""
    token = current_token(scope="payments")
    check_fapi_headers()
    consent = _own_consent(consent_id, token.client_id)
    if token.consent_id != consent.id:
        raise ApiError.one("U011", "The token was not issued for this consent", status=400)
    bank = _bank()
    now = bank.now(consent.tenant_id)
    if consents.effective_status(consent, now) != consents.AUTHORISED:
        raise ApiError.one("U009", "Funds can be confirmed for an authorised consent only")
    amount = domestic.check_initiation(consent.data["Initiation"])
    available = bank.funds_available(consent.tenant_id, consent.account_ids[0], amount)
    result = {"FundsAvailableDateTime": iso(now), "FundsAvailable": available}
    return jsonify(envelope({"FundsAvailableResult": result}))


@bp.post(PAYMENTS)
def create_payment() -> ResponseReturnValue:
    """CreateDomesticPayments: the order the customer approved, executed (201)."""
    token = current_token(scope="payments")
    check_fapi_headers()
    body = _body("OBWriteDomestic2")
    consent_id = body["Data"]["ConsentId"]
    if token.consent_id != consent_id:
        raise ApiError.one("U008", "The token was issued for another consent",
                           path="Data.ConsentId")  # fmt: skip
    session, bank = get_session(), _bank()
    now = bank.now(token.consent.tenant_id if token.consent else "")
    consent = domestic.usable_consent(session, consent_id, token.client_id, now)
    order = domestic.submit(session, bank, consent, body, now)
    return _created(order_data(order, now), f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> tuple[PaymentOrder, dt.datetime]:
    token = current_token(scope="payments", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    order = orders.own(get_session(), payment_id, token.client_id, domestic.FAMILY)
    return order, _bank().now(order.tenant_id)


@bp.get(f"{PAYMENTS}/<payment_id>")
def get_payment(payment_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentsDomesticPaymentId: the order and its status now."""
    order, now = _order(payment_id)
    return jsonify(envelope(order_data(order, now)))


@bp.get(f"{PAYMENTS}/<payment_id>/payment-details")
def payment_details(payment_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentsDomesticPaymentIdPaymentDetails: each status the order has had."""
    order, now = _order(payment_id)
    return jsonify(envelope(details_data(order, now)))
