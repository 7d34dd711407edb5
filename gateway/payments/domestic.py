"""Domestic payments (OBIE v4.0 Payment Initiation: ``/domestic-payment-consents`` and
``/domestic-payments``): the rules beyond the reference schema, and the submission of an order
under an authorised consent.

The consent keeps the ``Initiation`` and ``Risk`` exactly as the partner sent them; the order must
repeat both exactly (Payment Initiation API profile, "Payment Order Consent": the ASPSP must
reject a payment order whose Initiation or Risk does not match its consent, ``U008``
UK.OBIE.Resource.ConsentMismatch, with the path of the first field that differs). A consent is
authorised once, on one debtor account, and consumed by exactly one order (status ``COND``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core.errors import InsufficientFunds, InvalidInstruction
from gateway.core.money import EXPONENTS, Money, to_minor
from gateway.core.payments import PaymentOrder as BankOrder
from gateway.core.payments import PaymentsCore
from gateway.core.values import Counterparty
from gateway.edge.errors import ApiError
from gateway.payments import cutoff, multi_authorisation, scenarios
from gateway.payments.models import PaymentOrder
from gateway.store.inserts import insert_row

FAMILY = "domestic-payments"
CONSENT_FAMILY = "domestic-payment-consents"
# The creditor account schemes a domestic payment can reach (OBInternalAccountIdentification4Code).
SCHEMES = ("UK.OBIE.SortCodeAccountNumber", "UK.OBIE.IBAN")
# OBInternalLocalInstrument1Code values of the UK's domestic schemes the bank sends through.
LOCAL_INSTRUMENTS = ("UK.OBIE.FPS", "UK.OBIE.BACS", "UK.OBIE.CHAPS", "UK.OBIE.Paym")
_SORT_CODE_ACCOUNT = re.compile(r"\d{14}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def check_initiation(initiation: dict[str, Any], amount_name: str = "InstructedAmount") -> Money:
    """Refuse what the schema admits but the bank cannot carry out; return the amount (the
    initiation's ``amount_name``)."""
    amount = check_amount(initiation[amount_name], f"Data.Initiation.{amount_name}")
    local = initiation.get("LocalInstrument")
    if local is not None and local not in LOCAL_INSTRUMENTS:
        raise ApiError.one("U026", f"{local} is not offered; use one of "
                           f"{', '.join(LOCAL_INSTRUMENTS)}",
                           path="Data.Initiation.LocalInstrument")  # fmt: skip
    for side in ("CreditorAccount", "DebtorAccount"):
        if side in initiation:
            check_account(initiation[side], f"Data.Initiation.{side}")
    return amount


def check_amount(amount: dict[str, str], path: str) -> Money:
    """An ``Amount`` and ``Currency`` the bank can pay: a currency it holds, more than zero, no
    more decimals than the currency has (ISO 4217)."""
    currency = amount["Currency"]
    if currency not in EXPONENTS:
        raise ApiError.one("U023", f"{currency} is not a currency this bank pays in",
                           path=f"{path}.Currency")  # fmt: skip
    value = Decimal(amount["Amount"])
    try:
        minor = to_minor(value, currency)
    except InvalidInstruction as exc:
        raise ApiError.one("U002", str(exc), path=f"{path}.Amount") from None
    if minor <= 0:
        raise ApiError.one("U002", "The amount must be more than zero", path=f"{path}.Amount")
    return Money(value, currency)


def check_account(account: dict[str, Any], path: str) -> None:
    """An account at ``path`` the bank can pay to or from: a scheme it reaches (U027), an
    identification of that scheme's shape (U021)."""
    scheme = account["SchemeName"]
    if scheme not in SCHEMES:
        raise ApiError.one("U027", f"{scheme} is not supported; use one of {', '.join(SCHEMES)}",
                           path=f"{path}.SchemeName")  # fmt: skip
    shape = _SORT_CODE_ACCOUNT if scheme == SCHEMES[0] else _IBAN
    if not shape.fullmatch(account["Identification"]):
        what = "a 6-digit sort code and 8-digit account number" if shape is _SORT_CODE_ACCOUNT \
            else "an IBAN without spaces"  # fmt: skip
        raise ApiError.one("U021", f"The identification must be {what}",
                           path=f"{path}.Identification")  # fmt: skip


def create_consent(
    session: Session,
    *,
    client_id: str,
    tenant_id: str,
    body: dict[str, Any],
    now: dt.datetime,
    family: str = CONSENT_FAMILY,
    amount_name: str = "InstructedAmount",
) -> Consent:
    """A payment consent of ``family`` awaiting the customer, from a body valid against its
    reference schema (``OBWriteDomesticConsent4`` and kin)."""
    data = body["Data"]
    check_initiation(data["Initiation"], amount_name)
    kept = dict(data) | {"family": family, "Risk": body["Risk"]}
    return consents.create(
        session, client_id=client_id, tenant_id=tenant_id, kind="payments", data=kept, now=now,
        expires_at=cutoff.cut_off(family, data["Initiation"], now),
    )  # fmt: skip


def differences(sent: Any, kept: Any, path: str) -> Iterator[str]:
    """The JSON paths at which ``sent`` differs from ``kept`` (exact JSON values)."""
    if isinstance(sent, dict) and isinstance(kept, dict):
        for key in sorted(set(sent) | set(kept)):
            yield from differences(sent.get(key), kept.get(key), f"{path}.{key}")
    elif isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        for index, (a, b) in enumerate(zip(sent, kept, strict=True)):
            yield from differences(a, b, f"{path}[{index}]")
    elif sent != kept or type(sent) is not type(kept):
        yield path


def check_matches(consent: Consent, body: dict[str, Any]) -> None:
    """``U008`` unless the order's Initiation and Risk are exactly the consent's."""
    data = consent.data or {}
    for name, sent, kept in (
        ("Data.Initiation", body["Data"]["Initiation"], data.get("Initiation")),
        ("Risk", body["Risk"], data.get("Risk")),
    ):
        first = next(differences(sent, kept, name), None)
        if first is not None:
            raise ApiError.one("U008", f"{first} does not match the consent", path=first)


def usable_consent(
    session: Session,
    consent_id: str,
    client_id: str,
    now: dt.datetime,
    family: str = CONSENT_FAMILY,
) -> Consent:
    """The authorised, unconsumed payment consent of ``family`` the order names, locked for
    this unit of work (two submissions under one consent take turns)."""
    consent = session.scalar(
        select(Consent)
        .where(Consent.id == consent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (
        consent is None
        or consent.client_id != client_id
        or (consent.data or {}).get("family") != family
    ):
        raise ApiError.one("U011", f"No {family[:-1]} with this id", status=400)
    if consent.status == consents.AUTHORISED and cutoff.applies(family):
        cutoff.check_order_in_time(consent.expires_at, now)
    status = consents.effective_status(consent, now)
    if status != consents.AUTHORISED:
        word = "consumed already" if status == consents.CONSUMED else f"{status}, not AUTH"
        raise ApiError.one("U009", f"The consent is {word}", path="Data.ConsentId")
    return consent


def submit(
    session: Session, bank: PaymentsCore, consent: Consent, body: dict[str, Any], now: dt.datetime
) -> PaymentOrder:
    """Execute the order the customer approved and consume the consent; a payment the bank
    refuses for want of funds is recorded as ``RJCT`` (AM04), never an error of the API. A
    sandbox scenario's amount (gateway.payments.scenarios) gets its outcome instead, and a
    payment that awaits another authoriser (gateway.payments.multi_authorisation) waits."""
    check_matches(consent, body)
    order = bank_order(consent, body["Data"]["Initiation"])
    row = new_order(consent, FAMILY, "dp-", order, now)
    flow = multi_authorisation.awaiting(consent)
    if flow is not None:
        multi_authorisation.hold(row, flow)
    else:
        execute(bank, consent, row, now)
    return record(session, consent, row, now)


def execute(bank: PaymentsCore, consent: Consent, row: PaymentOrder, now: dt.datetime) -> None:
    """Ask the bank to pay the order of ``row`` now and write what became of it."""
    order = bank_order(consent, row.initiation)
    outcome = scenarios.of(consent, order.amount)
    if outcome is not None and not outcome.books:
        scenarios.record(row, outcome, now)
        return
    try:
        paid = bank.pay(consent.tenant_id, order)
    except InsufficientFunds:
        scenarios.record(row, scenarios.INSUFFICIENT_FUNDS, now)
    else:
        row.bank_payment_id, row.status, row.settles_at = paid.id, "ACSP", paid.settles_at
        if outcome is not None:
            scenarios.record(row, outcome, now)


def bank_order(
    consent: Consent, initiation: dict[str, Any], amount_name: str = "InstructedAmount"
) -> BankOrder:
    """The bank's order for an initiation the customer approved, from the account they
    picked."""
    creditor = initiation["CreditorAccount"]
    remittance = initiation.get("RemittanceInformation") or {}
    reference = (
        remittance.get("Reference")
        or initiation.get("EndToEndIdentification")
        or initiation.get("InstructionIdentification")
        or "Standing order"
    )
    return BankOrder(
        debtor_account_id=consent.account_ids[0],
        amount=check_initiation(initiation, amount_name),
        creditor=Counterparty(creditor["Name"], creditor["SchemeName"], creditor["Identification"]),
        reference=reference[:35],
        information=" ".join(remittance.get("Unstructured") or ())[:140] or None,
    )


def new_order(
    consent: Consent, family: str, prefix: str, order: BankOrder, now: dt.datetime
) -> PaymentOrder:
    """The gateway's row of a payment order (not yet added)."""
    return PaymentOrder(
        id=prefix + secrets.token_hex(16), consent_id=consent.id, client_id=consent.client_id,
        tenant_id=consent.tenant_id, family=family, debtor_account_id=order.debtor_account_id,
        initiation=consent.data["Initiation"], created_at=now, status_updated_at=now,
    )  # fmt: skip


def record(session: Session, consent: Consent, row: PaymentOrder, now: dt.datetime) -> PaymentOrder:
    """Consume the consent and keep the order, together (one order per consent)."""
    consents.consume(session, consent, now=now)
    try:
        insert_row(session, row)
    except IntegrityError:
        # Another order consumed this consent at the same moment (the unique consent index).
        raise ApiError.one(
            "U009", "The consent is consumed already", path="Data.ConsentId"
        ) from None
    return row
