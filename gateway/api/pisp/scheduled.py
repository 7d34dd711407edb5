"""``/domestic-scheduled-payment-consents`` and ``/domestic-scheduled-payments``: one payment on
a future day (see :mod:`gateway.payments.scheduled`). The grant types are those of the domestic
payment operations; a scheduled payment consent has no funds confirmation in v4.0."""

from __future__ import annotations

import datetime as dt

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.common import envelope
from gateway.api.idempotency import idempotent
from gateway.api.pisp import bp
from gateway.api.pisp import common as views
from gateway.api.pisp.bodies import details_data, order_data
from gateway.payments import orders, scheduled
from gateway.payments.models import PaymentOrder

CONSENTS = "/domestic-scheduled-payment-consents"
PAYMENTS = "/domestic-scheduled-payments"
ID_NAME = "DomesticScheduledPaymentId"


@bp.post(CONSENTS)
@idempotent("domestic-scheduled-payment-consents")
def create_scheduled_consent() -> ResponseReturnValue:
    """CreateDomesticScheduledPaymentConsents: staged for a day, awaiting the customer."""
    return views.stage_consent(
        "OBWriteDomesticScheduledConsent4", scheduled.create_consent, CONSENTS
    )


@bp.get(f"{CONSENTS}/<consent_id>")
def get_scheduled_consent(consent_id: str) -> ResponseReturnValue:
    """GetDomesticScheduledPaymentConsentsConsentId."""
    return views.read_consent(consent_id, scheduled.CONSENT_FAMILY)


@bp.post(PAYMENTS)
@idempotent("domestic-scheduled-payments")
def create_scheduled_payment() -> ResponseReturnValue:
    """CreateDomesticScheduledPayments: the approved payment booked for its day (201)."""
    order, now = views.submit_order(
        "OBWriteDomesticScheduled2", scheduled.CONSENT_FAMILY, scheduled.submit
    )
    steps = orders.history(order, now)
    return views.created(order_data(order, steps, ID_NAME), f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> tuple[PaymentOrder, list[orders.Status]]:
    order = views.own_order(payment_id, scheduled.FAMILY)
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
