"""Domestic variable recurring payments (OBIE VRP v4.0, ``/domestic-vrps``): many payments under
one authorised VRP consent, each within its control parameters.

What a payment request must satisfy, beyond the reference schema (VRP profile v4.0, "Domestic
VRPs"; the codes are the OB internal code set's):

* the consent is the token's, authorised and not expired (``U009`` otherwise; it expires at its
  ``ValidToDateTime``);
* its ``Initiation`` is exactly the consent's, and where the consent's Initiation names a
  ``CreditorAccount`` or ``RemittanceInformation`` the ``Instruction`` carries the same
  (``U008`` UK.OBIE.Resource.ConsentMismatch, with the path of the first field that differs);
  the amount (``Instruction.InstructedAmount``) may vary;
* its ``VRPType``, ``PSUAuthenticationMethod`` and ``PSUInteractionType`` (``OffSession`` when not
  given) are among those of the consent's ControlParameters, and its amount within the
  ``MaximumIndividualAmount`` and every ``PeriodicLimits`` entry, counted on the tenant's clock
  over the payments the bank accepted under the consent, and at or after ``ValidFromDateTime``
  (``U014`` UK.OBIE.Rules.FailsControlParameters; :mod:`gateway.consents.vrp_limits`).

The consent's row is locked (``SELECT ... FOR UPDATE``) before the payments made under it are
read, and the payment is recorded in the same unit of work as the bank's posting, so that two
payments made at once cannot together pass a limit only one of them fits. Funds are checked
when the bank executes it: a payment it refuses for want of funds is ``RJCT`` with ``AM04``,
not an error of the API, and counts toward no limit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.consents import vrp_limits
from gateway.consents.models import Consent
from gateway.core.errors import InsufficientFunds
from gateway.core.money import Money, from_minor, to_minor
from gateway.core.payments import PaymentOrder as BankOrder
from gateway.core.payments import PaymentsCore
from gateway.core.values import Counterparty
from gateway.edge.errors import ApiError
from gateway.payments import domestic
from gateway.payments.models import VrpPayment
from gateway.payments.orders import Status

FAMILY = "domestic-vrps"
INSTRUCTION = "Data.Instruction"
# OBDomesticVRPRequest: "If not provided the default is OffSession".
DEFAULT_INTERACTION = "OffSession"


def control_of(consent: Consent) -> vrp_limits.ControlParameters:
    """The consent's control parameters (checked when it was created)."""
    return vrp_limits.control_parameters(consent.data["ControlParameters"])


def check_instruction(instruction: dict[str, Any]) -> Money:
    """Refuse an instruction the bank cannot carry out; return its amount."""
    path = f"{INSTRUCTION}.InstructedAmount"
    amount = domestic.check_amount(instruction["InstructedAmount"], path)
    local = instruction.get("LocalInstrument")
    if local is not None and local not in domestic.LOCAL_INSTRUMENTS:
        raise ApiError.one("U026", f"{local} is not offered; use one of "
                           f"{', '.join(domestic.LOCAL_INSTRUMENTS)}",
                           path=f"{INSTRUCTION}.LocalInstrument")  # fmt: skip
    domestic.check_account(instruction["CreditorAccount"], f"{INSTRUCTION}.CreditorAccount")
    return amount


def check_matches(consent: Consent, data: dict[str, Any]) -> None:
    """``U008`` unless the request's Initiation is the consent's, and the Instruction repeats
    what the consent's Initiation fixes (its creditor account and remittance information)."""
    initiation = consent.data["Initiation"]
    first = next(domestic.differences(data["Initiation"], initiation, "Data.Initiation"), None)
    for name in ("CreditorAccount", "RemittanceInformation"):
        if first is None and name in initiation:
            sent = data["Instruction"].get(name)
            first = next(domestic.differences(sent, initiation[name], f"{INSTRUCTION}.{name}"),
                         None)  # fmt: skip
    if first is not None:
        raise ApiError.one("U008", f"{first} does not match the consent", path=first)


def check_kinds(consent: Consent, data: dict[str, Any]) -> None:
    """``U014`` unless the payment's type, authentication and interaction are among those the
    consent's ControlParameters allow."""
    control = consent.data["ControlParameters"]
    sent = {
        "VRPType": (data["VRPType"], control["VRPType"]),
        "PSUAuthenticationMethod": (
            data["PSUAuthenticationMethod"], control["PSUAuthenticationMethods"]),
        "PSUInteractionType": (
            data.get("PSUInteractionType", DEFAULT_INTERACTION),
            control.get("PSUInteractionTypes") or [DEFAULT_INTERACTION]),
    }  # fmt: skip
    for name, (value, allowed) in sent.items():
        if value not in allowed:
            raise ApiError.one("U014", f"The consent's ControlParameters allow {name} "
                               f"{', '.join(allowed)}, not {value}",
                               path=f"Data.{name}")  # fmt: skip


def accepted(session: Session, consent: Consent) -> list[vrp_limits.VrpPayment]:
    """The payments the bank accepted under the consent, as the limits count them."""
    rows = session.execute(
        select(VrpPayment.amount_minor, VrpPayment.currency, VrpPayment.created_at).where(
            VrpPayment.consent_id == consent.id, VrpPayment.status == "ACSP"
        )
    )
    return [vrp_limits.VrpPayment(from_minor(m, c), at) for m, c, at in rows]


def submit(
    session: Session, bank: PaymentsCore, consent: Consent, body: dict[str, Any], now: dt.datetime
) -> VrpPayment:
    """Make a payment under the consent (locked by the caller, authorised) at ``now``; see the
    module's docstring for what it must satisfy."""
    data = body["Data"]
    amount = check_instruction(data["Instruction"])
    check_matches(consent, data)
    check_kinds(consent, data)
    proposed = vrp_limits.VrpPayment(amount, now)
    vrp_limits.check(control_of(consent), consent.created_at, accepted(session, consent), proposed)
    row = _row(consent, body, amount, now)
    try:
        paid = bank.pay(consent.tenant_id, bank_order(consent, data, amount))
    except InsufficientFunds:
        row.status, row.status_reason = "RJCT", "AM04"
        row.status_reason_description = "The debtor account has not enough funds available"
    else:
        row.bank_payment_id, row.status, row.settles_at = paid.id, "ACSP", paid.settles_at
    session.add(row)
    session.flush()
    return row


def bank_order(consent: Consent, data: dict[str, Any], amount: Money) -> BankOrder:
    """The bank's order for the instruction, from the account the customer picked."""
    instruction = data["Instruction"]
    creditor = instruction["CreditorAccount"]
    remittance = instruction.get("RemittanceInformation") or {}
    reference = remittance.get("Reference") or instruction["EndToEndIdentification"]
    return BankOrder(
        debtor_account_id=consent.account_ids[0],
        amount=amount,
        creditor=Counterparty(creditor["Name"], creditor["SchemeName"], creditor["Identification"]),
        reference=reference[:35],
        information=" ".join(remittance.get("Unstructured") or ())[:140] or None,
    )


def _row(consent: Consent, body: dict[str, Any], amount: Money, now: dt.datetime) -> VrpPayment:
    return VrpPayment(
        id="vrp-" + secrets.token_hex(16), consent_id=consent.id, client_id=consent.client_id,
        tenant_id=consent.tenant_id, debtor_account_id=consent.account_ids[0],
        amount_minor=to_minor(amount.amount, amount.currency), currency=amount.currency,
        request={"Data": body["Data"], "Risk": body["Risk"]}, created_at=now,
        status_updated_at=now,
    )  # fmt: skip


def status(payment: VrpPayment, now: dt.datetime) -> list[Status]:
    """Every status the payment has had up to ``now``, oldest first: ``ACSP`` once booked and
    ``ACSC`` from its settlement, or ``RJCT`` with its reason."""
    steps = [Status(payment.status, payment.created_at, payment.status_reason,
                    payment.status_reason_description)]  # fmt: skip
    if payment.status == "ACSP" and payment.settles_at is not None and payment.settles_at <= now:
        steps.append(Status("ACSC", payment.settles_at))
    return steps


def own(session: Session, payment_id: str, client_id: str) -> VrpPayment:
    """The VRP ``payment_id`` of this client; 400 U011 otherwise (OBIE Read/Write Data API
    Profile v4.0: an unknown resource id is a 400, not a 404)."""
    payment = session.get(VrpPayment, payment_id)
    if payment is None or payment.client_id != client_id:
        raise ApiError.one("U011", "No domestic VRP with this id", status=400)
    return payment
