"""The double-entry ledger: balanced journals of immutable postings, holds, reversals.

Invariants (checked by the property tests in ``tests/unit/sandbox/test_ledger_properties.py``):

* every journal balances per currency: its postings' amounts sum to zero;
* postings are never updated; a correction is a new journal that reverses the old one;
* a customer account's ``booked_balance`` is the sum of its postings and ``held_amount`` the sum
  of its active holds;
* no debit or hold takes a customer account below its limit:
  ``booked_balance - held_amount + credit_limit >= 0``. The check and the update are one
  conditional ``UPDATE``, so two racing debits cannot both pass it.

Functions never commit, and a refused posting leaves the caller's transaction as it was: the
writes that a refusal could follow are made inside a SAVEPOINT.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gateway.core.errors import InsufficientFunds, InvalidInstruction, UnknownResource
from gateway.store.inserts import insert_row
from sandbox.ids import public_id
from sandbox.models import Account, Hold, Journal, Posting

_POSTINGS = cast(Table, Posting.__table__)
_ACCOUNTS = cast(Table, Account.__table__)


class UnbalancedJournal(InvalidInstruction):
    """The legs of a journal do not sum to zero in some currency."""


class AlreadyReversed(InvalidInstruction):
    """The journal has been reversed already."""


@dataclass(frozen=True, slots=True)
class Detail:
    """What the account holder sees of a posting (OBIE transaction fields)."""

    information: str
    reference: str | None = None
    btc: tuple[str, str] | None = None
    proprietary_code: str | None = None
    merchant_name: str | None = None
    merchant_mcc: str | None = None
    counterparty_name: str | None = None
    counterparty_scheme: str | None = None
    counterparty_id: str | None = None


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a journal: a signed amount in minor units on an account (by primary key)."""

    account_pk: int
    amount: int
    currency: str
    detail: Detail


def check_balanced(legs: Sequence[Leg]) -> None:
    """Refuse legs that are empty, zero, or do not sum to zero per currency."""
    if len(legs) < 2:
        raise UnbalancedJournal("a journal needs at least two legs")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool) or leg.amount == 0:
            raise InvalidInstruction(f"leg amount must be a non-zero integer, got {leg.amount!r}")
        totals[leg.currency] += leg.amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedJournal(f"journal does not balance: {unbalanced}")


def post(
    session: Session,
    *,
    tenant_id: str,
    kind: str,
    legs: Sequence[Leg],
    booked_at: dt.datetime,
    value_at: dt.datetime | None = None,
    memo: str | None = None,
    reverses_pk: int | None = None,
) -> Journal:
    """Book a balanced journal atomically and return it.

    Raises :class:`UnbalancedJournal`, :class:`UnknownResource` (an account outside the tenant),
    :class:`InvalidInstruction` (currency mismatch, disabled account) or
    :class:`InsufficientFunds`; in every case nothing is written.
    """
    check_balanced(legs)
    accounts = _usable_accounts(session, tenant_id, legs)
    net: dict[int, int] = defaultdict(int)
    for leg in legs:
        if accounts[leg.account_pk].internal_code is None:
            net[leg.account_pk] += leg.amount

    # Customer accounts are locked in primary-key order so that concurrent journals cannot
    # deadlock. A refused debit writes nothing (its UPDATE is conditional): with one customer
    # account it is the journal's first write, and nothing needs undoing; with more, a refusal
    # after an update undoes it with the savepoint.
    customers = sorted(net)
    with session.begin_nested() if len(customers) > 1 else contextlib.nullcontext():
        try:
            closing = {pk: _apply(session, accounts[pk], net[pk]) for pk in customers}
        except InsufficientFunds:
            # The balances given to the objects before the refusal are undone with the rest.
            for pk in customers:
                session.expire(accounts[pk], ["booked_balance"])
            raise
        journal = insert_row(session, Journal(
            tenant_id=tenant_id, kind=kind, booked_at=booked_at, memo=memo, reverses_pk=reverses_pk
        ))  # fmt: skip
        # balance_after of each leg: walk the account's legs backwards from its closing balance.
        after: dict[int, int] = dict(closing)
        rows: list[dict[str, object]] = []
        for leg in reversed(legs):
            balance = after.get(leg.account_pk)
            if balance is not None:
                after[leg.account_pk] = balance - leg.amount
            rows.append(_posting_row(journal.pk, leg, booked_at, value_at or booked_at, balance))
        rows.reverse()
        # One multi-row INSERT of the table (the ORM's bulk insert would split the rows by
        # which of their values are null).
        session.execute(insert(_POSTINGS), rows)
    return journal


def _usable_accounts(session: Session, tenant_id: str, legs: Sequence[Leg]) -> dict[int, Account]:
    """The accounts of ``legs``, by primary key: the tenant's, enabled, in each leg's currency."""
    accounts = _load_accounts(session, tenant_id, {leg.account_pk for leg in legs})
    for leg in legs:
        account = accounts[leg.account_pk]
        if account.currency != leg.currency:
            raise InvalidInstruction(
                f"account {account.public_id} is in {account.currency}, not {leg.currency}"
            )
        if account.status != "Enabled":
            raise InvalidInstruction(f"account {account.public_id} is {account.status}")
    return accounts


def _apply(session: Session, account: Account, amount: int) -> int:
    """Add ``amount`` to a customer account's booked balance unless it breaks the limit; the
    account object the unit of work holds is given the new balance."""
    columns = _ACCOUNTS.c
    stmt = update(_ACCOUNTS).where(columns.pk == account.pk)
    if amount < 0:
        stmt = stmt.where(
            columns.booked_balance - columns.held_amount + columns.credit_limit + amount >= 0
        )
    stmt = stmt.values(booked_balance=columns.booked_balance + amount).returning(
        columns.booked_balance
    )
    new_balance = session.execute(stmt).scalar_one_or_none()
    if new_balance is None:
        raise InsufficientFunds(f"insufficient funds in account {account.public_id}")
    set_committed_value(account, "booked_balance", int(new_balance))
    return int(new_balance)


def _posting_row(
    journal_pk: int, leg: Leg, booked_at: dt.datetime, value_at: dt.datetime, balance: int | None
) -> dict[str, object]:
    d = leg.detail
    return {
        "journal_pk": journal_pk,
        "account_pk": leg.account_pk,
        "currency": leg.currency,
        "amount": leg.amount,
        "booking_datetime": booked_at,
        "value_datetime": value_at,
        "balance_after": balance,
        "reference": d.reference,
        "information": d.information,
        "btc_code": d.btc[0] if d.btc else None,
        "btc_subcode": d.btc[1] if d.btc else None,
        "proprietary_code": d.proprietary_code,
        "merchant_name": d.merchant_name,
        "merchant_mcc": d.merchant_mcc,
        "counterparty_name": d.counterparty_name,
        "counterparty_scheme": d.counterparty_scheme,
        "counterparty_id": d.counterparty_id,
    }


def _load_accounts(session: Session, tenant_id: str, pks: set[int]) -> dict[int, Account]:
    # Those the unit of work has loaded already (a payment's debtor and its clearing account,
    # say) are taken from its identity map; the others are read in one statement.
    accounts: dict[int, Account] = {}
    for pk in pks:
        known = session.identity_map.get(session.identity_key(Account, pk))
        if isinstance(known, Account) and known.tenant_id == tenant_id:
            accounts[pk] = known
    unknown = pks - accounts.keys()
    if unknown:
        found = session.scalars(
            select(Account).where(Account.pk.in_(unknown), Account.tenant_id == tenant_id)
        ).all()
        accounts |= {account.pk: account for account in found}
    missing = pks - accounts.keys()
    if missing:
        raise UnknownResource(f"no account {sorted(missing)} in tenant {tenant_id}")
    return accounts


def reverse(
    session: Session, *, tenant_id: str, journal_pk: int, booked_at: dt.datetime, memo: str
) -> Journal:
    """Book a new journal that undoes ``journal_pk``; the original stays as it was.

    A reversal is a debit like any other: if the money has been spent since, it is refused with
    :class:`InsufficientFunds` rather than taking the account below its limit.
    """
    original = session.get(Journal, journal_pk, with_for_update=True)  # racing reversals queue here
    if original is None or original.tenant_id != tenant_id:
        raise UnknownResource(f"no journal {journal_pk}")
    if session.scalar(select(Journal.pk).where(Journal.reverses_pk == journal_pk)) is not None:
        raise AlreadyReversed(f"journal {journal_pk} is already reversed")
    postings = session.scalars(
        select(Posting).where(Posting.journal_pk == journal_pk).order_by(Posting.pk)
    ).all()
    legs = [
        Leg(
            p.account_pk,
            -p.amount,
            p.currency,
            Detail(
                information=f"Reversal: {p.information}"[:140],
                reference=p.reference,
                btc=("ReversedTransaction", "Reversal"),
                counterparty_name=p.counterparty_name,
                counterparty_scheme=p.counterparty_scheme,
                counterparty_id=p.counterparty_id,
            ),
        )
        for p in postings
    ]
    return post(
        session,
        tenant_id=tenant_id,
        kind="reversal",
        legs=legs,
        booked_at=booked_at,
        memo=memo,
        reverses_pk=journal_pk,
    )


def place_hold(
    session: Session,
    account: Account,
    amount: int,
    *,
    created_at: dt.datetime,
    expires_at: dt.datetime,
    information: str,
    merchant_name: str | None = None,
    merchant_mcc: str | None = None,
) -> Hold:
    """Reserve ``amount`` (positive, minor units) on a customer account, checked against its
    limit like a debit."""
    if amount <= 0:
        raise InvalidInstruction("a hold amount must be positive")
    if account.internal_code is not None:
        raise InvalidInstruction("holds are placed on customer accounts only")
    if account.status != "Enabled":
        raise InvalidInstruction(f"account {account.public_id} is {account.status}")
    with session.begin_nested():
        stmt = (
            update(Account)
            .where(
                Account.pk == account.pk,
                Account.booked_balance - Account.held_amount + Account.credit_limit - amount >= 0,
            )
            .values(held_amount=Account.held_amount + amount)
            .returning(Account.held_amount)
        )
        result = session.execute(stmt, execution_options={"synchronize_session": "fetch"})
        if result.scalar_one_or_none() is None:
            raise InsufficientFunds(f"insufficient funds in account {account.public_id}")
        hold = Hold(
            account_pk=account.pk,
            currency=account.currency,
            amount=amount,
            status="Active",
            created_at=created_at,
            expires_at=expires_at,
            information=information,
            merchant_name=merchant_name,
            merchant_mcc=merchant_mcc,
        )
        session.add(hold)
        session.flush()
    return hold


def release_hold(session: Session, hold: Hold, *, status: str = "Released") -> None:
    """End an active hold without booking anything (expired or cancelled authorisation)."""
    with session.begin_nested():
        _end_hold(session, hold, status)


def settle_hold(
    session: Session,
    hold: Hold,
    *,
    tenant_id: str,
    counter_account_pk: int,
    booked_at: dt.datetime,
    detail: Detail,
    amount: int | None = None,
) -> Journal:
    """Book the debit a hold reserved (``amount`` may differ, e.g. a tip) and end the hold, in one
    atomic step."""
    minor = hold.amount if amount is None else amount
    if minor <= 0:
        raise InvalidInstruction("a settlement amount must be positive")
    with session.begin_nested():
        _end_hold(session, hold, "Settled")
        journal = post(
            session,
            tenant_id=tenant_id,
            kind="card",
            legs=[
                Leg(hold.account_pk, -minor, hold.currency, detail),
                Leg(counter_account_pk, minor, hold.currency, detail),
            ],
            booked_at=booked_at,
        )
        hold.settled_journal_pk = journal.pk
        session.flush()
    return journal


def _end_hold(session: Session, hold: Hold, status: str) -> None:
    # Only an Active hold can end; the status guard makes a second release a no-op rejection.
    ended = session.execute(
        update(Hold)
        .where(Hold.pk == hold.pk, Hold.status == "Active")
        .values(status=status)
        .returning(Hold.pk),
        execution_options={"synchronize_session": "fetch"},
    ).scalar_one_or_none()
    if ended is None:
        raise InvalidInstruction(f"hold {hold.pk} is not active")
    session.execute(
        update(Account)
        .where(Account.pk == hold.account_pk)
        .values(held_amount=Account.held_amount - hold.amount),
        execution_options={"synchronize_session": "fetch"},
    )


def internal_account(session: Session, tenant_id: str, code: str, currency: str) -> Account:
    """Return the bank's internal account ``code`` in ``currency`` (e.g. clearing), creating it."""
    internal_code = f"{code}:{currency}"
    account = session.scalar(
        select(Account).where(
            Account.tenant_id == tenant_id, Account.internal_code == internal_code
        )
    )
    if account is None:
        account = Account(
            tenant_id=tenant_id,
            public_id=public_id("int-", tenant_id, internal_code),
            internal_code=internal_code,
            currency=currency,
            account_type="Business",
            account_subtype="CurrentAccount",
            product_code="INTERNAL",
            nickname=f"Internal {internal_code}",
            opening_date=dt.date(2000, 1, 1),
            status="Enabled",
            credit_limit=0,
            booked_balance=0,
            held_amount=0,
        )
        session.add(account)
        session.flush()
    return account
