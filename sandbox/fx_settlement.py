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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.core import fx
from gateway.core.money import EXPONENTS, to_minor
from gateway.core.values import Counterparty
from sandbox import catalogue as cat
from sandbox import ledger
from sandbox import models as m

KIND = "fx_payment"
NOSTRO = "nostro"
POSITION = "fx-desk"
FEES = "fx-fees"


def settle(
    session: Session, debtor: m.Account, quote: fx.Quote, creditor: Counterparty,
    reference: str, at: dt.datetime,
) -> m.Payment:  # fmt: skip
    """Book the converted payment of ``quote`` from ``debtor`` as one journal and record it.

    Raises what the ledger raises (``InsufficientFunds``, ``InvalidInstruction``) with nothing
    written."""
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
    # Internal accounts keep no running balance in the ledger; the nostro's is kept here, so that
    # reconciliation can compare it with its postings.
    session.execute(
        update(m.Account).where(m.Account.pk == nostro.pk)
        .values(booked_balance=m.Account.booked_balance + bought)
    )  # fmt: skip
    payment = m.Payment(
        tenant_id=tenant, public_id=f"pay{secrets.token_hex(12)}", account_pk=debtor.pk,
        amount=total, currency=sell.currency, creditor_name=creditor.name[:350],
        creditor_scheme=creditor.scheme, creditor_identification=creditor.identification,
        reference=reference, status="Booked", origin="order", created_at=at, booked_at=at,
        journal_pk=journal.pk,
    )  # fmt: skip
    session.add(payment)
    session.flush()
    return payment


def _internal(session: Session, tenant: str, code: str, currency: str) -> int:
    return ledger.internal_account(session, tenant, code, currency).pk


@dataclass
class Reconciliation:
    """What :func:`reconcile` found: how much it checked and every break."""

    journals: int = 0
    nostros: int = 0
    breaks: list[str] = field(default_factory=list)


def reconcile(session: Session) -> Reconciliation:
    """Check every FX journal balances per currency and every nostro's balance is the sum of its
    postings (all tenants)."""
    found = Reconciliation()
    sums: dict[tuple[int, str], int] = defaultdict(int)
    rows = session.execute(
        select(m.Posting.journal_pk, m.Posting.currency, func.sum(m.Posting.amount))
        .join(m.Journal, m.Journal.pk == m.Posting.journal_pk)
        .where(m.Journal.kind == KIND)
        .group_by(m.Posting.journal_pk, m.Posting.currency)
    )
    journals: set[int] = set()
    for journal_pk, currency, total in rows:
        journals.add(journal_pk)
        sums[(journal_pk, currency)] = int(total)
    found.journals = len(journals)
    found.breaks += [f"journal {pk} is off by {total} in {ccy}"
                     for (pk, ccy), total in sorted(sums.items()) if total]  # fmt: skip
    nostros = session.execute(
        select(m.Account.public_id, m.Account.booked_balance,
               func.coalesce(func.sum(m.Posting.amount), 0))
        .outerjoin(m.Posting, m.Posting.account_pk == m.Account.pk)
        .where(m.Account.internal_code.in_([f"{NOSTRO}:{c}" for c in EXPONENTS]))
        .group_by(m.Account.pk, m.Account.public_id, m.Account.booked_balance)
    ).all()  # fmt: skip
    found.nostros = len(nostros)
    found.breaks += [f"nostro {public_id} holds {balance}, its postings sum to {posted}"
                     for public_id, balance, posted in nostros if balance != posted]  # fmt: skip
    return found


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
