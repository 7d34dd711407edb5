"""``/domestic-standing-order-consents`` and ``/domestic-standing-orders``: the same amount on
every date of a frequency (see :mod:`gateway.payments.standing_orders`). The grant types are
those of the domestic payment operations; a standing-order consent has no funds confirmation."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.common import check_fapi_headers, envelope
from gateway.api.idempotency import idempotent
from gateway.api.pisp import bp
from gateway.api.pisp import common as views
from gateway.api.pisp.bodies import consent_data, details_data, order_data
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session
from gateway.oauth.protector import current_token
from gateway.payments import domestic, orders
from gateway.payments import standing_orders as standing
from gateway.payments.models import PaymentOrder
from partners.models import App

CONSENTS = "/domestic-standing-order-consents"
PAYMENTS = "/domestic-standing-orders"
ID_NAME = "DomesticStandingOrderId"


@bp.post(CONSENTS)
@idempotent("domestic-standing-order-consents")
def create_standing_order_consent() -> ResponseReturnValue:
    """CreateDomesticStandingOrderConsents: staged, awaiting the customer."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    body = views.body("OBWriteDomesticStandingOrderConsent5")
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = views.bank().now(tenant)
    consent = standing.create_consent(
        session, client_id=token.client_id, tenant_id=tenant, body=body, now=now
    )
    return views.created(consent_data(consent, now), f"{CONSENTS}/{consent.id}", body["Risk"])


@bp.get(f"{CONSENTS}/<consent_id>")
def get_standing_order_consent(consent_id: str) -> ResponseReturnValue:
    """GetDomesticStandingOrderConsentsConsentId."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, standing.CONSENT_FAMILY)
    now = views.bank().now(consent.tenant_id)
    return jsonify(envelope(consent_data(consent, now)) | {"Risk": consent.data["Risk"]})


@bp.post(PAYMENTS)
@idempotent("domestic-standing-orders")
def create_standing_order() -> ResponseReturnValue:
    """CreateDomesticStandingOrders: the approved standing order set up with the bank (201)."""
    token = current_token(scope="payments")
    check_fapi_headers()
    body = views.body("OBWriteDomesticStandingOrder3")
    consent_id = body["Data"]["ConsentId"]
    if token.consent_id != consent_id:
        raise ApiError.one("U008", "The token was issued for another consent",
                           path="Data.ConsentId")  # fmt: skip
    session, bank = get_session(), views.bank()
    now = bank.now(token.consent.tenant_id if token.consent else "")
    consent = domestic.usable_consent(
        session, consent_id, token.client_id, now, standing.CONSENT_FAMILY
    )
    order = standing.submit(session, bank, consent, body, now)
    data = order_data(order, [standing.status(order)], ID_NAME)
    return views.created(data, f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> PaymentOrder:
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    return orders.own(get_session(), payment_id, token.client_id, standing.FAMILY)


@bp.get(f"{PAYMENTS}/<domestic_standing_order_id>")
def get_standing_order(domestic_standing_order_id: str) -> ResponseReturnValue:
    """GetDomesticStandingOrdersDomesticStandingOrderId."""
    order = _order(domestic_standing_order_id)
    return jsonify(envelope(order_data(order, [standing.status(order)], ID_NAME)))


@bp.get(f"{PAYMENTS}/<domestic_standing_order_id>/payment-details")
def standing_order_payment_details(domestic_standing_order_id: str) -> ResponseReturnValue:
    """GetDomesticStandingOrdersDomesticStandingOrderIdPaymentDetails: each payment's status."""
    order = _order(domestic_standing_order_id)
    bank = views.bank()
    steps = standing.payments(bank, order, bank.now(order.tenant_id))
    return jsonify(envelope(details_data(order, steps)))
