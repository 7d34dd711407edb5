"""``/international-payment-consents`` and ``/international-payments``: a single payment abroad,
converted from the debtor account's pounds into ``CurrencyOfTransfer`` at the rate its
``ExchangeRateInformation`` names (the rules: :mod:`gateway.payments.international`).

The steps are the domestic payment's (:mod:`gateway.api.pisp.domestic`): staged with a
client-credentials token, authorised by the customer, submitted with the token of that
authorisation; each response adds the conversion (``ExchangeRateInformation``, ``Charges``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.api.common import check_fapi_headers, envelope, iso
from gateway.api.idempotency import idempotent
from gateway.api.pisp import bp
from gateway.api.pisp import common as views
from gateway.api.pisp.bodies import consent_data, details_data, order_data
from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core.fx_orders import FxDesk
from gateway.core.money import Money
from gateway.core.payments import PaymentsCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session
from gateway.oauth.protector import current_token
from gateway.payments import international, orders
from gateway.payments.models import PaymentOrder
from partners.models import App

CONSENTS = "/international-payment-consents"
PAYMENTS = "/international-payments"


def desk() -> FxDesk:
    """The bank's FX desk (the sandbox keeps that contract beside the payment one)."""
    found: FxDesk = current_app.extensions["bank_core"](get_session(), get_reader())
    return found


def consent_body(consent: Consent, now: dt.datetime) -> dict[str, Any]:
    """A consent's response data with the conversion it states (``Charges``,
    ``ExchangeRateInformation``)."""
    data = consent_data(consent, now)
    bearer = consent.data["Initiation"].get("ChargeBearer")
    return data | international.response_fields(consent.data["fx"], bearer)


@bp.post(CONSENTS)
@idempotent("international-payment-consents")
def create_international_consent() -> ResponseReturnValue:
    """CreateInternationalPaymentConsents: the payment staged with its conversion (201)."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    sent = views.body("OBWriteInternationalConsent5")
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = views.bank().now(tenant)
    consent = international.create_consent(
        session, desk(), client_id=token.client_id, tenant_id=tenant, body=sent, now=now
    )
    return views.created(consent_body(consent, now), f"{CONSENTS}/{consent.id}", sent["Risk"])


@bp.get(f"{CONSENTS}/<consent_id>")
def get_international_consent(consent_id: str) -> ResponseReturnValue:
    """GetInternationalPaymentConsentsConsentId: the consent, its status now."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, international.CONSENT_FAMILY)
    now = views.bank().now(consent.tenant_id)
    return jsonify(envelope(consent_body(consent, now)) | {"Risk": consent.data["Risk"]})


@bp.get(f"{CONSENTS}/<consent_id>/funds-confirmation")
def international_funds_confirmation(consent_id: str) -> ResponseReturnValue:
    """GetInternationalPaymentConsentsConsentIdFundsConfirmation."""
    return funds_confirmation(consent_id, international.CONSENT_FAMILY)


def funds_confirmation(consent_id: str, family: str) -> ResponseReturnValue:
    """Whether the debtor account covers the total the consent debits (amount converted and
    charges) now."""
    token = current_token(scope="payments")
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, family)
    if token.consent_id != consent.id:
        raise ApiError.one("U011", "The token was not issued for this consent", status=400)
    bank = views.bank()
    now = bank.now(consent.tenant_id)
    if consents.effective_status(consent, now) != consents.AUTHORISED:
        raise ApiError.one("U009", "Funds can be confirmed for an authorised consent only")
    total = consent.data["fx"]["TotalDebited"]
    money = Money(Decimal(total["Amount"]), total["Currency"])
    available = bank.funds_available(consent.tenant_id, consent.account_ids[0], money)
    result = {"FundsAvailableDateTime": iso(now), "FundsAvailable": available}
    return jsonify(envelope({"FundsAvailableResult": result}))


def _submit(session: Session, core: PaymentsCore, consent: Consent, sent: dict[str, Any],
            now: dt.datetime) -> PaymentOrder:  # fmt: skip
    return international.submit(session, desk(), consent, sent, now)


def _order_body(order: PaymentOrder, now: dt.datetime) -> dict[str, Any]:
    data = order_data(order, orders.history(order, now), "InternationalPaymentId")
    return data | conversion_fields(order)


def conversion_fields(order: PaymentOrder) -> dict[str, Any]:
    """``Charges`` and ``ExchangeRateInformation`` of an order: those of the bank's last
    conversion for it (the rate applied), else those its consent stated."""
    made = (desk().conversions(order.tenant_id, order.bank_payment_id)
            if order.bank_payment_id else ())  # fmt: skip
    if made:
        # The rate applied, under the RateType the partner asked for.
        asked = international.rate_type(order.initiation)
        conversion = international.executed(made[-1]) | {"RateType": asked}
    else:
        conversion = get_session().get_one(Consent, order.consent_id).data["fx"]
    return international.response_fields(conversion, order.initiation.get("ChargeBearer"))


@bp.post(PAYMENTS)
@idempotent("international-payments")
def create_international_payment() -> ResponseReturnValue:
    """CreateInternationalPayments: the order the customer approved, converted and paid."""
    order, now = views.submit_order("OBWriteInternational3", international.CONSENT_FAMILY,
                                    _submit)  # fmt: skip
    return views.created(_order_body(order, now), f"{PAYMENTS}/{order.id}")


def _order(payment_id: str) -> tuple[PaymentOrder, dt.datetime]:
    order = views.own_order(payment_id, international.FAMILY)
    return order, views.bank().now(order.tenant_id)


@bp.get(f"{PAYMENTS}/<international_payment_id>")
def get_international_payment(international_payment_id: str) -> ResponseReturnValue:
    """GetInternationalPaymentsInternationalPaymentId: the order and its status now."""
    order, now = _order(international_payment_id)
    return jsonify(envelope(_order_body(order, now)))


@bp.get(f"{PAYMENTS}/<international_payment_id>/payment-details")
def international_payment_details(international_payment_id: str) -> ResponseReturnValue:
    """GetInternationalPaymentsInternationalPaymentIdPaymentDetails: each status it has had."""
    order, now = _order(international_payment_id)
    steps = orders.history(order, now)
    if order.bank_payment_id is not None:
        made = desk().conversions(order.tenant_id, order.bank_payment_id)
        steps = international.described(steps, made)
    return jsonify(envelope(details_data(order, steps)))
