"""Response bodies of the VRP API (OBIE VRP v4.0 ``OBDomesticVRPConsentResponse``,
``OBDomesticVRPResponse``, ``OBDomesticVRPDetails``, ``OBVRPFundsConfirmationResponse``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.api.common import iso
from gateway.api.pisp.bodies import payment_status
from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core.accounts import Account
from gateway.payments.models import VrpPayment
from gateway.payments.orders import Status


def debtor_account(account: Account) -> dict[str, str]:
    """``OBCashAccountDebtorWithName`` of the account the customer picked: the VRP profile has
    the ASPSP return it in the consent "to enable the PISP to associate it with future VRP
    payments" (OBDomesticVRPConsentResponse ``Data.DebtorAccount``)."""
    ident = account.identifiers[0]
    found = {
        "SchemeName": ident.scheme,
        "Identification": ident.identification,
        "Name": (ident.name or account.nickname)[:70],
    }
    if ident.secondary_identification:
        found["SecondaryIdentification"] = ident.secondary_identification
    return found


def consent_data(consent: Consent, now: dt.datetime, debtor: Account | None) -> dict[str, Any]:
    """``OBDomesticVRPConsentResponse.Data``: the consent as the bank holds it, with the debtor
    account once the customer picked it."""
    kept = consent.data or {}
    data: dict[str, Any] = {
        "ConsentId": consent.id,
        "CreationDateTime": iso(consent.created_at),
        "Status": consents.effective_status(consent, now),
        "StatusUpdateDateTime": iso(consent.status_updated_at),
    }
    if "ReadRefundAccount" in kept:
        data["ReadRefundAccount"] = kept["ReadRefundAccount"]
    data["ControlParameters"] = kept["ControlParameters"]
    data["Initiation"] = kept["Initiation"]
    if debtor is not None:
        data["DebtorAccount"] = debtor_account(debtor)
    return data


def payment_data(
    payment: VrpPayment, steps: list[Status], debtor: Account, refund: bool
) -> dict[str, Any]:
    """``OBDomesticVRPResponse.Data``: the payment at its last status; ``Refund`` (the debtor
    account) only when the consent's ``ReadRefundAccount`` is ``Yes``."""
    status = steps[-1]
    sent = payment.request["Data"]
    data: dict[str, Any] = {
        "DomesticVRPId": payment.id,
        "ConsentId": payment.consent_id,
        "CreationDateTime": iso(payment.created_at),
        "Status": status.code,
        "StatusUpdateDateTime": iso(status.updated_at),
    }
    if status.reason:
        reason = {"StatusReasonCode": status.reason}
        if status.reason_description:
            reason["StatusReasonDescription"] = status.reason_description
        data["StatusReason"] = [reason]
    if payment.settles_at is not None:
        data["ExpectedExecutionDateTime"] = iso(payment.created_at)
        data["ExpectedSettlementDateTime"] = iso(payment.settles_at)
    if refund:
        data["Refund"] = debtor_account(debtor)
    data |= {
        "Initiation": sent["Initiation"],
        "Instruction": sent["Instruction"],
        "DebtorAccount": debtor_account(debtor),
    }
    return data


def details_data(payment: VrpPayment, steps: list[Status]) -> dict[str, Any]:
    """``OBDomesticVRPDetails.Data``: each status the payment has had."""
    local = payment.request["Data"]["Instruction"].get("LocalInstrument")
    return payment_status(payment.bank_payment_id or payment.id, local, steps)
