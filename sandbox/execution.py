"""The payment engine: the one path by which the sandbox bank moves a customer's money out.

A payment asked for through the payment contract, a scheduled payment on its day and a standing
order's occurrence all come here. The engine finds where the money goes (another account of the
tenant when the creditor's sort code and account number or IBAN is one, "on us"; otherwise the
currency's clearing account), books one balanced journal through the ledger with what each side
sees on its statement, and records the payment. A refusal (insufficient funds, a disabled
account) books nothing: the ledger's savepoint rolls back, and a payment the bank started by
itself is recorded as rejected with the reason.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from gateway.core.errors import InvalidInstruction
from gateway.core.values import Counterparty
from gateway.store.inserts import insert_row
from sandbox import catalogue as cat
from sandbox import ledger
from sandbox.models import Account, Payment

SCAN = "UK.OBIE.SortCodeAccountNumber"
IBAN = "UK.OBIE.IBAN"


@dataclass(frozen=True, slots=True)
class Style:
    """How a kind of payment reads on the debtor's statement: its narrative (``{name}`` is the
    creditor's), bank transaction code and proprietary code; and its journal's kind."""

    information: str
    btc: tuple[str, str]
    proprietary_code: str
    journal_kind: str


STYLES = {
    "order": Style("Payment to {name}", cat.CREDIT_OUT, "Transfer", "payment"),
    "scheduled_payment": Style(
        "Payment to {name}", cat.CREDIT_OUT, "Transfer", "scheduled_payment"
    ),
    "standing_order": Style(
        "Standing order {name}", cat.STANDING_ORDER, "StandingOrder", "standing_order"
    ),
}


@dataclass(frozen=True, slots=True)
class Instruction:
    """One execution: ``amount`` (positive, minor units of the debtor account's currency) from
    ``debtor`` to ``creditor``, of an ``origin`` in :data:`STYLES` (with the public id of the
    scheduled payment or standing order it executes)."""

    debtor: Account
    amount: int
    creditor: Counterparty
    reference: str
    origin: str
    information: str | None = None
    instruction_id: str | None = None
    # The creditor's account when the bank knows it already (a standing order set up between a
    # customer's own accounts); otherwise it is looked up by the creditor's identification.
    creditor_account_pk: int | None = None


def on_us(session: Session, tenant_id: str, creditor: Counterparty) -> Account | None:
    """The tenant's own customer account that ``creditor`` identifies, if any."""
    ident = (creditor.identification or "").replace(" ", "").upper()
    if creditor.scheme == SCAN and len(ident) == 14:
        match = and_(Account.sort_code == ident[:6], Account.account_number == ident[6:])
    elif creditor.scheme == IBAN and ident:
        match = and_(Account.iban == ident)
    else:
        return None
    return session.scalar(
        select(Account).where(
            Account.tenant_id == tenant_id, Account.customer_pk.is_not(None), match
        )
    )


def execute(session: Session, instruction: Instruction, booked_at: dt.datetime) -> Payment:
    """Book ``instruction`` at ``booked_at`` and record it as a ``Booked`` payment.

    Raises what the ledger raises (``InsufficientFunds``, ``InvalidInstruction`` for a currency
    mismatch or a disabled account) with nothing written; ``InvalidInstruction`` for an amount
    that is not positive."""
    debtor = instruction.debtor
    if instruction.amount <= 0:
        raise InvalidInstruction("the amount must be positive")
    style = STYLES[instruction.origin]
    creditor = instruction.creditor
    if instruction.creditor_account_pk is not None:
        target = session.get(Account, instruction.creditor_account_pk)
    else:
        target = on_us(session, debtor.tenant_id, creditor)
    if target is not None and target.pk == debtor.pk:
        raise InvalidInstruction("the creditor account is the debtor account")
    if target is not None and target.currency != debtor.currency:
        raise InvalidInstruction(
            f"the creditor account is in {target.currency}: a payment in {debtor.currency} "
            "cannot be credited to it"
        )
    counter = target or ledger.internal_account(
        session, debtor.tenant_id, "clearing", debtor.currency
    )
    out = ledger.Detail(
        information=(instruction.information or style.information.format(name=creditor.name))[:140],
        reference=instruction.reference,
        btc=style.btc,
        proprietary_code=style.proprietary_code,
        counterparty_name=creditor.name,
        counterparty_scheme=creditor.scheme,
        counterparty_id=creditor.identification,
    )
    incoming = ledger.Detail(
        information=f"Payment from {debtor.nickname}"[:140],
        reference=instruction.reference,
        btc=cat.CREDIT_IN,
        proprietary_code="Transfer",
        counterparty_name=debtor.nickname,
        counterparty_scheme=SCAN if debtor.sort_code else IBAN,
        counterparty_id=(
            f"{debtor.sort_code}{debtor.account_number}" if debtor.sort_code else debtor.iban
        ),
    )
    legs = [
        ledger.Leg(debtor.pk, -instruction.amount, debtor.currency, out),
        ledger.Leg(counter.pk, instruction.amount, debtor.currency, incoming),
    ]
    journal = ledger.post(
        session, tenant_id=debtor.tenant_id, kind=style.journal_kind, legs=legs,
        booked_at=booked_at,
    )  # fmt: skip
    return _record(session, instruction, booked_at, status="Booked", journal_pk=journal.pk)


def reject(session: Session, instruction: Instruction, at: dt.datetime, reason: str) -> Payment:
    """Record an execution the bank started by itself and refused (nothing was booked)."""
    return _record(session, instruction, at, status="Rejected", reason=reason[:140])


def _record(
    session: Session,
    instruction: Instruction,
    at: dt.datetime,
    *,
    status: str,
    journal_pk: int | None = None,
    reason: str | None = None,
) -> Payment:
    debtor, creditor = instruction.debtor, instruction.creditor
    payment = Payment(
        tenant_id=debtor.tenant_id,
        # Unique even for two identical orders in one second; never derived from row counts.
        public_id=f"pay{secrets.token_hex(12)}",
        account_pk=debtor.pk,
        amount=instruction.amount,
        currency=debtor.currency,
        creditor_name=creditor.name[:350],
        creditor_scheme=creditor.scheme,
        creditor_identification=creditor.identification,
        reference=instruction.reference,
        status=status,
        status_reason=reason,
        origin=instruction.origin,
        instruction_id=instruction.instruction_id,
        created_at=at,
        booked_at=at if status == "Booked" else None,
        journal_pk=journal_pk,
    )
    return insert_row(session, payment)
