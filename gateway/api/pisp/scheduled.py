"""``/domestic-scheduled-payment-consents`` and ``/domestic-scheduled-payments``: one payment on
a future day (see :mod:`gateway.payments.scheduled`). The grant types are those of the domestic
payment operations; a scheduled payment consent has no funds confirmation in v4.0."""

from __future__ import annotations

import datetime as dt

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
from gateway.payments import domestic, orders, scheduled
from gateway.payments.models import PaymentOrder
from gateway.payments.orders import Status
from partners.models import App

CONSENTS = "/domestic-scheduled-payment-consents"
PAYMENTS = "/domestic-scheduled-payments"
ID_NAME = "DomesticScheduledPaymentId"


@bp.post(CONSENTS)
@idempotent("domestic-scheduled-payment-consents")
def create_scheduled_consent() -> ResponseReturnValue:
    """CreateDomesticScheduledPaymentConsents: staged for a day, awaiting the customer."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    body = views.body("OBWriteDomesticScheduledConsent4")
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = views.bank().now(tenant)
    consent = scheduled.create_consent(
        session, client_id=token.client_id, tenant_id=tenant, body=body, now=now
    )
    return views.created(consent_data(consent, now), f"{CONSENTS}/{consent.id}", body["Risk"])


@bp.get(f"{CONSENTS}/<consent_id>")
def get_scheduled_consent(consent_id: str) -> ResponseReturnValue:
    """GetDomesticScheduledPaymentConsentsConsentId."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, scheduled.CONSENT_FAMILY)
    now = views.bank().now(consent.tenant_id)
    return jsonify(envelope(consent_data(consent, now)) | {"Risk": consent.data["Risk"]})


@bp.post(PAYMENTS)
@idempotent("domestic-scheduled-payments")
def create_scheduled_payment() -> ResponseReturnValue:
    """CreateDomesticScheduledPayments: the approved payment booked for its day (201)."""
    token = current_token(scope="payments")
    check_fapi_headers()
    body = views.body("OBWriteDomesticScheduled2")
    consent_id = body["Data"]["ConsentId"]
    if token.consent_id != consent_id:
        raise ApiError.one("U008", "The token was issued for another consent",
                           path="Data.ConsentId")  # fmt: skip
    session, bank = get_session(), views.bank()
    now = bank.now(token.consent.tenant_id if token.consent else "")
    consent = domestic.usable_consent(
        session, consent_id, token.client_id, now, scheduled.CONSENT_FAMILY
    )
    order = scheduled.submit(session, bank, consent, body, now)
    steps = [Status(order.status, order.created_at)]
    return views.created(order_data(order, steps, ID_NAME), f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> tuple[PaymentOrder, list[Status]]:
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    order = orders.own(get_session(), payment_id, token.client_id, scheduled.FAMILY)
    bank = views.bank()
    now: dt.datetime = bank.now(order.tenant_id)
    return order, scheduled.status(bank, order, now)


@bp.get(f"{PAYMENTS}/<domestic_scheduled_payment_id>")
def get_scheduled_payment(domestic_scheduled_payment_id: str) -> ResponseReturnValue:
    """GetDomesticScheduledPaymentsDomesticScheduledPaymentId: its status now."""
    order, steps = _order(domestic_scheduled_payment_id)
    return jsonify(envelope(order_data(order, steps, ID_NAME)))


@bp.get(f"{PAYMENTS}/<domestic_scheduled_payment_id>/payment-details")
def scheduled_payment_details(domestic_scheduled_payment_id: str) -> ResponseReturnValue:
    """GetDomesticScheduledPaymentsDomesticScheduledPaymentIdPaymentDetails."""
    order, steps = _order(domestic_scheduled_payment_id)
    return jsonify(envelope(details_data(order, steps)))
