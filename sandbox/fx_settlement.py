"""How the sandbox settles a converted payment, and how ops prove the books.

Each FX payment is one journal (kind ``fx_payment``), balanced per currency:

* the customer's debit of the total in the sell currency (the amount converted and the fee);
* the FX position in the sell currency takes the amount converted, fee income the fee;
* in the buy currency, the FX position is debited the amount received and the bank's nostro
  with its correspondent abroad, which pays it out, is credited it.

Amounts are signed as every posting is: positive credits the account, negative debits it. The
FX position thus holds a credit in the currencies the bank bought and a debit in those it sold;
valued at the mid rates, with the fee income, it is the desk's profit and loss
(:func:`position`).

The journal's memo names the quote (its ContractIdentification) and the rate applied. The
reconciliation (:func:`reconcile`) proves that every FX journal balances per currency and that
each nostro's balance equals the sum of its postings.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from gateway.core import fx
from gateway.core.fx_orders import QuoteUsed
from gateway.core.money import EXPONENTS, from_minor, to_minor
from gateway.core.values import Counterparty
from sandbox import catalogue as cat
from sandbox import ledger
from sandbox import models as m
from sandbox.fx_models import FxExecution

KIND = "fx_payment"
# Money arriving from abroad (sandbox.fx_execution.receive).
RECEIPT = "fx_receipt"
KINDS = (KIND, RECEIPT)
VOSTRO = "vostro"
NOSTRO = "nostro"
POSITION = "fx-desk"
FEES = "fx-fees"


def settle(
    session: Session, debtor: m.Account, quote: fx.Quote, creditor: Counterparty,
    reference: str, at: dt.datetime, *, origin: str = "order", instruction_id: str | None = None,
) -> m.Payment:  # fmt: skip
    """Book the converted payment of ``quote`` from ``debtor`` as one journal, record it and
    the conversion (:class:`sandbox.fx_models.FxExecution`), and mark the quote used by the
    instruction (or the payment) in one savepoint.

    Raises what the ledger raises (``InsufficientFunds``, ``InvalidInstruction``), or
    :class:`gateway.core.fx_orders.QuoteUsed` when another instruction used the quote, with
    nothing written."""
    public_id = f"pay{secrets.token_hex(12)}"
    with session.begin_nested():
        _claim(session, debtor.tenant_id, quote.contract_id, instruction_id or public_id)
        journal = _post(session, debtor, quote, creditor, reference, at)
        payment = m.Payment(
            tenant_id=debtor.tenant_id, public_id=public_id, account_pk=debtor.pk,
            amount=to_minor(quote.total_debited.amount, quote.sell_amount.currency),
            currency=quote.sell_amount.currency, creditor_name=creditor.name[:350],
            creditor_scheme=creditor.scheme, creditor_identification=creditor.identification,
            reference=reference, status="Booked", origin=origin, instruction_id=instruction_id,
            created_at=at, booked_at=at, journal_pk=journal.pk,
        )  # fmt: skip
        session.add(payment)
        record(session, journal, debtor, quote, at, payment_id=public_id,
               instruction_id=instruction_id)  # fmt: skip
        session.flush()
    return payment


def _claim(session: Session, tenant: str, contract_id: str, user: str) -> None:
    """Mark the quote used by ``user``; :class:`QuoteUsed` if another had used it."""
    claimed: object = session.execute(
        update(m.FxQuote)
        .where(m.FxQuote.tenant_id == tenant, m.FxQuote.public_id == contract_id,
               or_(m.FxQuote.used_by.is_(None), m.FxQuote.used_by == user))
        .values(used_by=user)
        .returning(literal_column("1")),
        execution_options={"synchronize_session": False},
    ).first()  # fmt: skip
    if claimed is None:
        raise QuoteUsed(f"quote {contract_id} was used by another payment")


def _post(
    session: Session, debtor: m.Account, quote: fx.Quote, creditor: Counterparty,
    reference: str, at: dt.datetime,
) -> m.Journal:  # fmt: skip
    tenant = debtor.tenant_id
    sell, buy, fee = quote.sell_amount, quote.buy_amount, quote.fee
    total = to_minor(quote.total_debited.amount, sell.currency)
    bought = to_minor(buy.amount, buy.currency)
    nostro = ledger.internal_account(session, tenant, NOSTRO, buy.currency)
    out = ledger.Detail(
        information=f"Payment to {creditor.name} ({buy.amount:f} {buy.currency})"[:140],
        reference=reference, btc=cat.INTL_OUT, proprietary_code="InternationalTransfer",
        counterparty_name=creditor.name, counterparty_scheme=creditor.scheme,
        counterparty_id=creditor.identification,
    )  # fmt: skip
    internal = ledger.Detail(information=f"FX {quote.contract_id}", reference=reference)
    legs = [
        ledger.Leg(debtor.pk, -total, sell.currency, out),
        ledger.Leg(_internal(session, tenant, POSITION, sell.currency),
                   to_minor(sell.amount, sell.currency), sell.currency, internal),
        ledger.Leg(_internal(session, tenant, POSITION, buy.currency), -bought, buy.currency,
                   internal),
        ledger.Leg(nostro.pk, bought, buy.currency, internal),
    ]  # fmt: skip
    minor_fee = to_minor(fee.amount, fee.currency)
    if minor_fee:
        legs.append(ledger.Leg(_internal(session, tenant, FEES, fee.currency), minor_fee,
                               fee.currency, internal))  # fmt: skip
    memo = f"{quote.contract_id} {sell.currency}/{buy.currency} @ {quote.rate}"
    journal = ledger.post(session, tenant_id=tenant, kind=KIND, legs=legs, booked_at=at,
                          memo=memo[:140])  # fmt: skip
    move_balance(session, nostro, bought)
    return journal


def move_balance(session: Session, internal: m.Account, minor: int) -> None:
    # Internal accounts keep no running balance in the ledger; a nostro's (and a vostro's) is
    # kept here, so that reconciliation can compare it with its postings.
    session.execute(
        update(m.Account).where(m.Account.pk == internal.pk)
        .values(booked_balance=m.Account.booked_balance + minor)
    )  # fmt: skip


def record(
    session: Session, journal: m.Journal, account: m.Account, quote: fx.Quote, at: dt.datetime,
    *, payment_id: str | None = None, instruction_id: str | None = None,
    direction: str = "Outgoing",
) -> FxExecution:  # fmt: skip
    """Keep the conversion ``quote`` made in ``journal``."""
    sell, buy = quote.sell_amount, quote.buy_amount
    row = FxExecution(
        tenant_id=account.tenant_id, journal_pk=journal.pk, account_pk=account.pk,
        payment_id=payment_id, instruction_id=instruction_id, direction=direction,
        contract_id=quote.contract_id,
        rate_type="Agreed" if quote.expires_at is not None else "Actual", rate=str(quote.rate),
        sell_currency=sell.currency, sell_amount=to_minor(sell.amount, sell.currency),
        buy_currency=buy.currency, buy_amount=to_minor(buy.amount, buy.currency),
        fee=to_minor(quote.fee.amount, quote.fee.currency), quoted_at=quote.created_at,
        executed_at=at,
    )  # fmt: skip
    session.add(row)
    return row


def _internal(session: Session, tenant: str, code: str, currency: str) -> int:
    return ledger.internal_account(session, tenant, code, currency).pk


@dataclass
class Reconciliation:
    """What :func:`reconcile` found: how much it checked and every break."""

    journals: int = 0
    nostros: int = 0
    conversions: int = 0
    breaks: list[str] = field(default_factory=list)


def reconcile(session: Session) -> Reconciliation:
    """Check every FX journal balances per currency and has its conversion, each conversion
    agrees with its journal and with its rate to the minor unit, and every nostro's (and
    vostro's) balance is the sum of its postings (all tenants)."""
    found = Reconciliation()
    sums: dict[tuple[int, str], int] = defaultdict(int)
    credits: dict[tuple[int, str], int] = defaultdict(int)
    rows = session.execute(
        select(m.Posting.journal_pk, m.Posting.currency, func.sum(m.Posting.amount),
               func.sum(case((m.Posting.amount > 0, m.Posting.amount), else_=0)))
        .join(m.Journal, m.Journal.pk == m.Posting.journal_pk)
        .where(m.Journal.kind.in_(KINDS))
        .group_by(m.Posting.journal_pk, m.Posting.currency)
    )  # fmt: skip
    for journal_pk, currency, total, credited in rows:
        sums[(journal_pk, currency)] = int(total)
        credits[(journal_pk, currency)] = int(credited)
    journals = {pk for pk, _ccy in sums}
    found.journals = len(journals)
    found.breaks += [f"journal {pk} is off by {total} in {ccy}"
                     for (pk, ccy), total in sorted(sums.items()) if total]  # fmt: skip
    found.breaks += _conversion_breaks(session, journals, credits, found)
    nostros = session.execute(
        select(m.Account.public_id, m.Account.booked_balance,
               func.coalesce(func.sum(m.Posting.amount), 0))
        .outerjoin(m.Posting, m.Posting.account_pk == m.Account.pk)
        .where(m.Account.internal_code.in_(
            [f"{code}:{c}" for code in (NOSTRO, VOSTRO) for c in EXPONENTS]))
        .group_by(m.Account.pk, m.Account.public_id, m.Account.booked_balance)
    ).all()  # fmt: skip
    found.nostros = len(nostros)
    found.breaks += [f"nostro {public_id} holds {balance}, its postings sum to {posted}"
                     for public_id, balance, posted in nostros if balance != posted]  # fmt: skip
    return found


def _conversion_breaks(
    session: Session, journals: set[int], credits: dict[tuple[int, str], int],
    found: Reconciliation,
) -> list[str]:  # fmt: skip
    """Each FX journal's conversion: what the journal credits in each currency (the amount
    bought, the amount sold with the fee) and the amount the rate gives."""
    breaks = []
    seen = set()
    for row in session.scalars(select(FxExecution)):
        found.conversions += 1
        seen.add(row.journal_pk)
        name = f"conversion {row.contract_id} (journal {row.journal_pk})"
        if credits.get((row.journal_pk, row.buy_currency)) != row.buy_amount:
            breaks.append(
                f"{name}: the journal does not credit {row.buy_amount} {row.buy_currency}"
            )
        if credits.get((row.journal_pk, row.sell_currency)) != row.sell_amount + row.fee:
            breaks.append(f"{name}: the journal does not take {row.sell_amount + row.fee} "
                          f"{row.sell_currency}")  # fmt: skip
        if not _rate_gives(row):
            breaks.append(f"{name}: {row.sell_amount} {row.sell_currency} at {row.rate} does "
                          f"not give {row.buy_amount} {row.buy_currency}")  # fmt: skip
    breaks += [f"journal {pk} has no conversion" for pk in sorted(journals - seen)]
    return breaks


def _rate_gives(row: FxExecution) -> bool:
    """Whether the sell amount at the rate gives the buy amount, rounded down (the sell amount
    fixed), or is the least sell amount that gives it (the buy amount fixed)."""
    rate = Decimal(row.rate)
    sell = from_minor(row.sell_amount, row.sell_currency)
    bought = fx.converted(sell, rate, row.buy_currency)
    if to_minor(bought.amount, row.buy_currency) == row.buy_amount:
        return True
    less = from_minor(row.sell_amount - 1, row.sell_currency)
    short = to_minor(fx.converted(less, rate, row.buy_currency).amount, row.buy_currency)
    return to_minor(bought.amount, row.buy_currency) > row.buy_amount > short


def position(session: Session, tenant: str) -> tuple[dict[str, int], dict[str, int]]:
    """The tenant's FX position and fee income per currency: sums of their postings, in minor
    units (positive: a credit)."""
    found: tuple[dict[str, int], dict[str, int]] = ({}, {})
    codes = [f"{kind}:{currency}" for kind in (POSITION, FEES) for currency in EXPONENTS]
    rows = session.execute(
        select(m.Account.internal_code, func.coalesce(func.sum(m.Posting.amount), 0))
        .join(m.Posting, m.Posting.account_pk == m.Account.pk)
        .where(m.Account.tenant_id == tenant, m.Account.internal_code.in_(codes))
        .group_by(m.Account.internal_code)
    )  # fmt: skip
    for code, total in rows:
        kind, currency = str(code).split(":")
        found[0 if kind == POSITION else 1][currency] = int(total)
    return found
