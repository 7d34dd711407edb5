"""``/domestic-standing-order-consents`` and ``/domestic-standing-orders``: the same amount on
every date of a frequency (see :mod:`gateway.payments.standing_orders`). The grant types are
those of the domestic payment operations; a standing-order consent has no funds confirmation."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.common import envelope
from gateway.api.idempotency import idempotent
from gateway.api.pisp import bp
from gateway.api.pisp import common as views
from gateway.api.pisp.bodies import details_data, order_data
from gateway.payments import standing_orders as standing
from gateway.payments.models import PaymentOrder

CONSENTS = "/domestic-standing-order-consents"
PAYMENTS = "/domestic-standing-orders"
ID_NAME = "DomesticStandingOrderId"


@bp.post(CONSENTS)
@idempotent("domestic-standing-order-consents")
def create_standing_order_consent() -> ResponseReturnValue:
    """CreateDomesticStandingOrderConsents: staged, awaiting the customer."""
    return views.stage_consent(
        "OBWriteDomesticStandingOrderConsent5", standing.create_consent, CONSENTS
    )


@bp.get(f"{CONSENTS}/<consent_id>")
def get_standing_order_consent(consent_id: str) -> ResponseReturnValue:
    """GetDomesticStandingOrderConsentsConsentId."""
    return views.read_consent(consent_id, standing.CONSENT_FAMILY)


@bp.post(PAYMENTS)
@idempotent("domestic-standing-orders")
def create_standing_order() -> ResponseReturnValue:
    """CreateDomesticStandingOrders: the approved standing order set up with the bank (201)."""
    order, now = views.submit_order(
        "OBWriteDomesticStandingOrder3", standing.CONSENT_FAMILY, standing.submit
    )
    data = order_data(order, [standing.status(order, now)], ID_NAME)
    return views.created(data, f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> PaymentOrder:
    return views.own_order(payment_id, standing.FAMILY)


@bp.get(f"{PAYMENTS}/<domestic_standing_order_id>")
def get_standing_order(domestic_standing_order_id: str) -> ResponseReturnValue:
    """GetDomesticStandingOrdersDomesticStandingOrderId."""
    order = _order(domestic_standing_order_id)
    now = views.bank().now(order.tenant_id)
    return jsonify(envelope(order_data(order, [standing.status(order, now)], ID_NAME)))


@bp.get(f"{PAYMENTS}/<domestic_standing_order_id>/payment-details")
def standing_order_payment_details(domestic_standing_order_id: str) -> ResponseReturnValue:
    """GetDomesticStandingOrdersDomesticStandingOrderIdPaymentDetails: each payment's status."""
    order = _order(domestic_standing_order_id)
    bank = views.bank()
    steps = standing.payments(bank, order, bank.now(order.tenant_id))
    return jsonify(envelope(details_data(order, steps)))
