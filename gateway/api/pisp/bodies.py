"""Response bodies of the Payment Initiation API (OBIE v4.0 ``OBWrite...Response`` shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.api.common import iso
from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.payments import cutoff, multi_authorisation, orders
from gateway.payments.models import PaymentOrder

# What of the consent's request data goes back in its response, besides Initiation.
_ECHOED = ("Permission", "ReadRefundAccount", "Authorisation", "SCASupportData")


def consent_data(consent: Consent, now: dt.datetime) -> dict[str, Any]:
    """``OBWriteDomesticConsentResponse5.Data``: the consent as the bank holds it."""
    kept = consent.data or {}
    data: dict[str, Any] = {
        "ConsentId": consent.id,
        "CreationDateTime": iso(consent.created_at),
        "Status": consents.effective_status(consent, now),
        "StatusUpdateDateTime": iso(consent.status_updated_at),
    }
    if consent.expires_at is not None and cutoff.applies(kept.get("family", "")):
        if data["Status"] == consents.EXPIRED:
            # A payment consent has no EXPD (its Status enum): past its cut-off it is rejected.
            data["Status"], data["StatusUpdateDateTime"] = "RJCT", iso(consent.expires_at)
            data["StatusReason"] = [cutoff.REASON]
        data["CutOffDateTime"] = iso(consent.expires_at)
    data |= {name: kept[name] for name in _ECHOED if name in kept}
    data["Initiation"] = kept["Initiation"]
    return data


def order_data(
    order: PaymentOrder, steps: list[orders.Status], id_name: str = "DomesticPaymentId"
) -> dict[str, Any]:
    """``OBWriteDomesticResponse5.Data`` (and kin): the payment order at its last status."""
    status = steps[-1]
    data: dict[str, Any] = {
        id_name: order.id,
        "ConsentId": order.consent_id,
        "CreationDateTime": iso(order.created_at),
        "Status": status.code,
        "StatusUpdateDateTime": iso(status.updated_at),
    }
    if status.reason:
        data["StatusReason"] = [_reason(status)]
    expected = order.initiation.get("RequestedExecutionDateTime")
    if expected or order.settles_at is not None:
        data["ExpectedExecutionDateTime"] = expected or iso(order.created_at)
    if order.settles_at is not None:
        data["ExpectedSettlementDateTime"] = iso(order.settles_at)
    data["Initiation"] = order.initiation
    flow = multi_authorisation.data(order, status.updated_at)
    if flow is not None:
        data["MultiAuthorisation"] = flow
    return data


def _reason(status: orders.Status) -> dict[str, str]:
    reason = {"StatusReasonCode": status.reason or ""}
    if status.reason_description:
        reason["StatusReasonDescription"] = status.reason_description
    return reason


def details_data(order: PaymentOrder, history: list[orders.Status]) -> dict[str, Any]:
    """``OBWritePaymentDetailsResponse1.Data``: each status the order has had."""
    local = order.initiation.get("LocalInstrument")
    return payment_status(order.bank_payment_id or order.id, local, history)


def payment_status(
    transaction_id: str, local_instrument: str | None, history: list[orders.Status]
) -> dict[str, Any]:
    """The ``PaymentStatus`` list of a payment-details response (domestic, VRP, ...): each
    status the payment has had, oldest first."""
    steps = []
    for step in history:
        detail: dict[str, Any] = {"Status": step.code}
        if local_instrument:
            detail["LocalInstrument"] = local_instrument
        if step.reason:
            detail["StatusReason"] = step.reason
        if step.reason_description:
            detail["StatusReasonDescription"] = step.reason_description
        steps.append({
            "PaymentTransactionId": transaction_id,
            "Status": step.code,
            "StatusUpdateDateTime": iso(step.updated_at),
            "StatusDetail": detail,
        })  # fmt: skip
    return {"PaymentStatus": steps}
