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

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.common import check_fapi_headers, envelope, iso
from gateway.api.idempotency import idempotent
from gateway.api.pisp import bp
from gateway.api.pisp import common as views
from gateway.api.pisp.bodies import details_data, order_data
from gateway.consents import services as consents
from gateway.edge.errors import ApiError
from gateway.oauth.protector import current_token
from gateway.payments import domestic, orders, scenarios
from gateway.payments.models import PaymentOrder

CONSENTS = "/domestic-payment-consents"
PAYMENTS = "/domestic-payments"


@bp.post(CONSENTS)
@idempotent("domestic-payment-consents")
def create_consent() -> ResponseReturnValue:
    """CreateDomesticPaymentConsents: the payment staged, awaiting the customer (201, AWAU)."""
    return views.stage_consent("OBWriteDomesticConsent4", domestic.create_consent, CONSENTS)


@bp.get(f"{CONSENTS}/<consent_id>")
def get_consent(consent_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentConsentsConsentId: the consent and its status on the tenant's clock."""
    return views.read_consent(consent_id, domestic.CONSENT_FAMILY)


@bp.get(f"{CONSENTS}/<consent_id>/funds-confirmation")
def funds_confirmation(consent_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentConsentsConsentIdFundsConfirmation: whether the debtor account the
    customer picked covers the amount now (nothing is reserved)."""
    token = current_token(scope="payments")
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, domestic.CONSENT_FAMILY)
    if token.consent_id != consent.id:
        raise ApiError.one("U011", "The token was not issued for this consent", status=400)
    bank = views.bank()
    now = bank.now(consent.tenant_id)
    if consents.effective_status(consent, now) != consents.AUTHORISED:
        raise ApiError.one("U009", "Funds can be confirmed for an authorised consent only")
    amount = domestic.check_initiation(consent.data["Initiation"])
    available = scenarios.funds_available(consent, amount)
    if available is None:
        available = bank.funds_available(consent.tenant_id, consent.account_ids[0], amount)
    result = {"FundsAvailableDateTime": iso(now), "FundsAvailable": available}
    return jsonify(envelope({"FundsAvailableResult": result}))


@bp.post(PAYMENTS)
@idempotent("domestic-payments")
def create_payment() -> ResponseReturnValue:
    """CreateDomesticPayments: the order the customer approved, executed (201)."""
    order, now = views.submit_order("OBWriteDomestic2", domestic.CONSENT_FAMILY, domestic.submit)
    return views.created(order_data(order, orders.history(order, now)), f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> tuple[PaymentOrder, dt.datetime]:
    order = views.own_order(payment_id, domestic.FAMILY)
    return order, views.bank().now(order.tenant_id)


@bp.get(f"{PAYMENTS}/<domestic_payment_id>")
def get_payment(domestic_payment_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentsDomesticPaymentId: the order and its status now."""
    order, now = _order(domestic_payment_id)
    return jsonify(envelope(order_data(order, orders.history(order, now))))


@bp.get(f"{PAYMENTS}/<domestic_payment_id>/payment-details")
def payment_details(domestic_payment_id: str) -> ResponseReturnValue:
    """GetDomesticPaymentsDomesticPaymentIdPaymentDetails: each status the order has had."""
    order, now = _order(domestic_payment_id)
    return jsonify(envelope(details_data(order, orders.history(order, now))))
