"""A page of an account's history, newest first: active card holds (pending) lead the first
page, then booked postings by keyset on (booking time, id).

Everything here only reads, as plain statements through :class:`gateway.reads.Reads`: a page is
up to a hundred rows that nothing changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import bindparam, select, tuple_

from gateway.core.accounts import Transaction, TransactionCursor, TransactionPage
from gateway.core.values import CreditDebit
from gateway.store.reads import Reads
from sandbox import models as m
from sandbox import records
from sandbox.fx_models import FxExecution

# The cursor of a page after a first page made only of holds: the booked history starts here.
END_OF_TIME = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)

ACCOUNT_KEY = select(m.Account.pk).where(
    m.Account.tenant_id == bindparam("tenant_id"), m.Account.public_id == bindparam("account_id")
)
_HOLDS = select(*(m.Hold.__table__.c[name] for name in records.HoldColumns._fields))
_POSTINGS = select(*(m.Posting.__table__.c[name] for name in records.PostingColumns._fields))


def page(
    reads: Reads,
    account_pk: int,
    account_id: str,
    *,
    booked_from: dt.datetime | None,
    booked_to: dt.datetime | None,
    after: TransactionCursor | None,
    limit: int,
    direction: CreditDebit | None,
) -> TransactionPage:
    """One page of at most ``limit`` transactions of the account ``account_pk``."""
    items: list[Transaction] = []
    if after is None and direction != "Credit":
        holds = _HOLDS.where(m.Hold.account_pk == account_pk, m.Hold.status == "Active")
        if booked_from:
            holds = holds.where(m.Hold.created_at >= booked_from)
        if booked_to:
            holds = holds.where(m.Hold.created_at <= booked_to)
        holds = holds.order_by(m.Hold.created_at.desc(), m.Hold.pk.desc()).limit(limit)
        found = reads.execute(holds, {}).all()
        items.extend(records.hold(records.HoldColumns._make(h), account_id) for h in found)
    wanted = limit - len(items)
    if wanted == 0:
        return TransactionPage(tuple(items), TransactionCursor(END_OF_TIME, 2**62))
    posting = m.Posting
    query = _POSTINGS.where(posting.account_pk == account_pk)
    if booked_from:
        query = query.where(posting.booking_datetime >= booked_from)
    if booked_to:
        query = query.where(posting.booking_datetime <= booked_to)
    if direction is not None:
        query = query.where(posting.amount > 0 if direction == "Credit" else posting.amount < 0)
    if after is not None:
        # Keyset: strictly older than the cursor in (booking time, id) order. A row-value
        # comparison lets both SQLite and PostgreSQL seek in the history index.
        query = query.where(
            tuple_(posting.booking_datetime, posting.pk) < tuple_(after.booking_datetime, after.id)
        )
    order = (posting.booking_datetime.desc(), posting.pk.desc())
    # Fetched at once: the driver's fetchall, not a round of fetchone per row.
    found = reads.execute(query.order_by(*order).limit(wanted + 1), {}).all()
    rows = [records.PostingColumns._make(p) for p in found]
    items.extend(records.posting(p, account_id) for p in rows[:wanted])
    items = _with_exchanges(reads, items)
    cursor = None
    if len(rows) > wanted:
        last = rows[wanted - 1]
        cursor = TransactionCursor(last.booking_datetime, last.pk)
    return TransactionPage(tuple(items), cursor)


# The customer's side of a conversion (sandbox.fx_settlement, sandbox.fx_execution) reads so.
CONVERTED = "InternationalTransfer"


def _with_exchanges(reads: Reads, items: list[Transaction]) -> list[Transaction]:
    """``items`` with the conversion of each entry a payment abroad or from abroad booked (its
    ``CurrencyExchange``); one more read only when the page has such an entry."""
    converted = [int(t.id) for t in items
                 if t.proprietary_code == CONVERTED and t.status == "Booked"]  # fmt: skip
    if not converted:
        return items
    columns = [FxExecution.__table__.c[name] for name in records.ExchangeColumns._fields]
    found = reads.execute(
        select(m.Posting.pk, *columns)
        .join(FxExecution, (FxExecution.journal_pk == m.Posting.journal_pk)
              & (FxExecution.account_pk == m.Posting.account_pk))
        .where(m.Posting.pk.in_(converted)),
        {},
    ).all()  # fmt: skip
    exchanges = {str(row[0]): records.exchange(records.ExchangeColumns._make(row[1:]))
                 for row in found}  # fmt: skip
    return [replace(t, currency_exchange=exchanges[t.id]) if t.id in exchanges else t
            for t in items]  # fmt: skip
