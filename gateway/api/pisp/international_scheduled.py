"""``/international-scheduled-payment-consents`` and ``/international-scheduled-payments``: one
payment abroad on a future day, converted when it executes (the rules:
:mod:`gateway.payments.international_scheduled`).

The steps are the international payment's (:mod:`gateway.api.pisp.international`); the order is
``ACCP`` until its day, then its execution's status, each booked execution's conversion in its
payment details; the order reports the rate the execution applied once it has executed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.api.common import check_fapi_headers, envelope
from gateway.api.idempotency import idempotent
from gateway.api.pisp import bp
from gateway.api.pisp import common as views
from gateway.api.pisp.bodies import details_data, order_data
from gateway.api.pisp.international import (
    consent_body,
    conversion_fields,
    desk,
    funds_confirmation,
)
from gateway.consents.models import Consent
from gateway.core.payments import PaymentsCore
from gateway.edge.transaction import get_session
from gateway.oauth.protector import current_token
from gateway.payments import international_scheduled as scheduled
from gateway.payments.models import PaymentOrder
from gateway.payments.orders import Status
from partners.models import App

CONSENTS = "/international-scheduled-payment-consents"
PAYMENTS = "/international-scheduled-payments"
ID_NAME = "InternationalScheduledPaymentId"


@bp.post(CONSENTS)
@idempotent("international-scheduled-payment-consents")
def create_international_scheduled_consent() -> ResponseReturnValue:
    """CreateInternationalScheduledPaymentConsents: staged for a day with its conversion."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    sent = views.body("OBWriteInternationalScheduledConsent5")
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = views.bank().now(tenant)
    consent = scheduled.create_consent(
        session, desk(), client_id=token.client_id, tenant_id=tenant, body=sent, now=now
    )
    return views.created(consent_body(consent, now), f"{CONSENTS}/{consent.id}", sent["Risk"])


@bp.get(f"{CONSENTS}/<consent_id>")
def get_international_scheduled_consent(consent_id: str) -> ResponseReturnValue:
    """GetInternationalScheduledPaymentConsentsConsentId."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, scheduled.CONSENT_FAMILY)
    now = views.bank().now(consent.tenant_id)
    return jsonify(envelope(consent_body(consent, now)) | {"Risk": consent.data["Risk"]})


@bp.get(f"{CONSENTS}/<consent_id>/funds-confirmation")
def international_scheduled_funds_confirmation(consent_id: str) -> ResponseReturnValue:
    """GetInternationalScheduledPaymentConsentsConsentIdFundsConfirmation: whether the account
    covers the total the consent states now."""
    return funds_confirmation(consent_id, scheduled.CONSENT_FAMILY)


def _submit(session: Session, core: PaymentsCore, consent: Consent, sent: dict[str, Any],
            now: dt.datetime) -> PaymentOrder:  # fmt: skip
    return scheduled.submit(session, desk(), consent, sent, now)


def _body(order: PaymentOrder, steps: list[Status]) -> dict[str, Any]:
    return order_data(order, steps, ID_NAME) | conversion_fields(order)


@bp.post(PAYMENTS)
@idempotent("international-scheduled-payments")
def create_international_scheduled_payment() -> ResponseReturnValue:
    """CreateInternationalScheduledPayments: the approved payment booked for its day (201)."""
    order, now = views.submit_order(
        "OBWriteInternationalScheduled3", scheduled.CONSENT_FAMILY, _submit
    )
    steps = scheduled.status(views.bank(), desk(), order, now)
    return views.created(_body(order, steps), f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> tuple[PaymentOrder, list[Status]]:
    order = views.own_order(payment_id, scheduled.FAMILY)
    bank = views.bank()
    return order, scheduled.status(bank, desk(), order, bank.now(order.tenant_id))


@bp.get(f"{PAYMENTS}/<international_scheduled_payment_id>")
def get_international_scheduled_payment(
    international_scheduled_payment_id: str,
) -> ResponseReturnValue:
    """GetInternationalScheduledPaymentsInternationalScheduledPaymentId: its status now."""
    order, steps = _order(international_scheduled_payment_id)
    return jsonify(envelope(_body(order, steps)))


@bp.get(f"{PAYMENTS}/<international_scheduled_payment_id>/payment-details")
def international_scheduled_payment_details(
    international_scheduled_payment_id: str,
) -> ResponseReturnValue:
    """GetInternationalScheduledPaymentsInternationalScheduledPaymentIdPaymentDetails."""
    order, steps = _order(international_scheduled_payment_id)
    return jsonify(envelope(details_data(order, steps)))
