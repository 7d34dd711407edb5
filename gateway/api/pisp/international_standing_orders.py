"""``/international-standing-order-consents`` and ``/international-standing-orders``: the same
amount abroad on every date of a frequency, each payment converted at the rate when it executes
(the rules: :mod:`gateway.payments.international_standing`). A standing-order consent has no
funds confirmation in v4.0, and its responses carry ``Charges`` but no exchange rate."""

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
from gateway.api.pisp.bodies import consent_data, details_data, order_data
from gateway.api.pisp.international import desk
from gateway.consents.models import Consent
from gateway.core.payments import PaymentsCore
from gateway.edge.transaction import get_session
from gateway.oauth.protector import current_token
from gateway.payments import international
from gateway.payments import international_standing as standing
from gateway.payments import standing_orders as domestic_orders
from gateway.payments.models import PaymentOrder
from partners.models import App

CONSENTS = "/international-standing-order-consents"
PAYMENTS = "/international-standing-orders"
ID_NAME = "InternationalStandingOrderId"


def _charges(consent: Consent) -> dict[str, Any]:
    bearer = consent.data["Initiation"].get("ChargeBearer")
    return {"Charges": international.response_fields(consent.data["fx"], bearer)["Charges"]}


@bp.post(CONSENTS)
@idempotent("international-standing-order-consents")
def create_international_standing_order_consent() -> ResponseReturnValue:
    """CreateInternationalStandingOrderConsents: staged, awaiting the customer."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    sent = views.body("OBWriteInternationalStandingOrderConsent6")
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = views.bank().now(tenant)
    consent = standing.create_consent(
        session, desk(), client_id=token.client_id, tenant_id=tenant, body=sent, now=now
    )
    data = consent_data(consent, now) | _charges(consent)
    return views.created(data, f"{CONSENTS}/{consent.id}", sent["Risk"])


@bp.get(f"{CONSENTS}/<consent_id>")
def get_international_standing_order_consent(consent_id: str) -> ResponseReturnValue:
    """GetInternationalStandingOrderConsentsConsentId."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, standing.CONSENT_FAMILY)
    now = views.bank().now(consent.tenant_id)
    data = consent_data(consent, now) | _charges(consent)
    return jsonify(envelope(data) | {"Risk": consent.data["Risk"]})


def _submit(session: Session, core: PaymentsCore, consent: Consent, sent: dict[str, Any],
            now: dt.datetime) -> PaymentOrder:  # fmt: skip
    return standing.submit(session, desk(), consent, sent, now)


def _body(order: PaymentOrder, now: dt.datetime) -> dict[str, Any]:
    data = order_data(order, [domestic_orders.status(order, now)], ID_NAME)
    return data | _charges(get_session().get_one(Consent, order.consent_id))


@bp.post(PAYMENTS)
@idempotent("international-standing-orders")
def create_international_standing_order() -> ResponseReturnValue:
    """CreateInternationalStandingOrders: the approved standing order set up (201)."""
    order, now = views.submit_order(
        "OBWriteInternationalStandingOrder4", standing.CONSENT_FAMILY, _submit
    )
    return views.created(_body(order, now), f"{PAYMENTS}/{order.id}")


@bp.get(f"{PAYMENTS}/<international_standing_order_payment_id>")
def get_international_standing_order(
    international_standing_order_payment_id: str,
) -> ResponseReturnValue:
    """GetInternationalStandingOrdersInternationalStandingOrderPaymentId."""
    order = views.own_order(international_standing_order_payment_id, standing.FAMILY)
    return jsonify(envelope(_body(order, views.bank().now(order.tenant_id))))


@bp.get(f"{PAYMENTS}/<international_standing_order_payment_id>/payment-details")
def international_standing_order_payment_details(
    international_standing_order_payment_id: str,
) -> ResponseReturnValue:
    """GetInternationalStandingOrdersInternationalStandingOrderPaymentIdPaymentDetails: each
    payment's status, each booked payment's conversion described."""
    order = views.own_order(international_standing_order_payment_id, standing.FAMILY)
    bank = views.bank()
    steps = standing.payments(bank, desk(), order, bank.now(order.tenant_id))
    return jsonify(envelope(details_data(order, steps)))
