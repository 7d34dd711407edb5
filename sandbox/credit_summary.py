"""The credit decision's summarising read: the applicant's year summed in the database.

Reading a year of a busy till through the account-information contract means hundreds of
thousands of transactions, each built, paged and classified. The decision needs far less: each
flow's monthly sums, the returned payments and the days that closed overdrawn
(:class:`~sandbox.lending.measures.Summary`). On SQLite and PostgreSQL alike:

- each month's postings grouped by everything :func:`~sandbox.lending.measures.classify` looks
  at (a month of card sales is one group), each group classified once as the full read
  classifies one of its transactions; a closed month's groups are kept the first time and read
  back after (:mod:`sandbox.credit_months`), so a busy year is summed once;
- for each day of the window, the balance after the account's last posting booked before the
  day ended (the closing balance, held over days without postings), one seek of the history
  index a day.

The result is the same summary, so the same decision, as the full read
(:func:`sandbox.lending.measures.summarise`); the tests prove it for every persona and test
customer, summed and kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import ARRAY, String, bindparam, func, select
from sqlalchemy.orm import Session

from gateway.core.money import from_minor
from gateway.store.statements import Prepared
from sandbox import models as m
from sandbox import records
from sandbox.credit_months import month_groups
from sandbox.lending.measures import FLOWS, Flow, Summary, classify, months_measured, window

_P = m.Posting
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def read_summary(
    session: Session,
    accounts: Sequence[m.Account],
    currency: str,
    as_of: dt.date,
    now: dt.datetime,
) -> Summary:
    """Summarise ``accounts`` (rows; those the decision measures, see
    :func:`~sandbox.lending.measures.measured`) in ``currency`` as of ``as_of``; ``now`` is
    the tenant's time, which says which months are closed."""
    start, end = window(as_of)
    starts = months_measured(min((a.opening_date for a in accounts), default=None), as_of)
    index = {month: n for n, month in enumerate(starts)}
    sums = [[Decimal(0)] * len(starts) for _ in FLOWS]
    returned = 0
    for account in accounts if starts else ():
        business = account.account_type == "Business"
        for group in month_groups(session, account.pk, starts, now):
            flow = _classify(list(group.looks), group.credit, business, currency)
            sums[FLOWS.index(flow)][index[group.month]] += from_minor(group.total, currency).amount
            if flow is Flow.RETURNED:
                returned += group.postings
    overdrawn: set[int] = set()
    for account in accounts:
        overdrawn.update(_overdrawn_days(session, account.pk, start, end))
    return Summary(currency, tuple(map(tuple, sums)), returned, len(overdrawn))


def _classify(looks: list[str | None], credit: bool, business: bool, currency: str) -> Flow:
    """Classify a group as the full read classifies each of its transactions: through the
    transaction the account-information contract would make of one of them."""
    info, reference, code, subcode, proprietary, merchant, mcc, counterparty = looks
    row = records.PostingColumns(
        0, currency, 1 if credit else -1, _EPOCH, None, None, reference, info or "", code,
        subcode, proprietary, merchant, mcc, counterparty, None, None,
    )  # fmt: skip
    return classify(records.posting(row, ""), business)


# A window holds 365 or 366 days: the closing balance of each is the balance after the account's
# last posting booked before the day ended, one seek of the history index a day. The days are
# one parameter, one subquery run for each: PostgreSQL takes them as an array; SQLite as a JSON
# array of timestamps as it keeps them, read with its json_each (one statement of a subquery a
# day took longer to compile, once a process, than the decision takes to run).
_LAST_BEFORE = (
    select(_P.balance_after)
    .where(_P.account_pk == bindparam("account_pk"))
    .order_by(_P.booking_datetime.desc(), _P.pk.desc())
    .limit(1)
)
_ENDS = (
    func.unnest(bindparam("ends", type_=ARRAY(m.Timestamp)))
    .table_valued("closes")
    .render_derived(name="days")
)
_CLOSING_PG = Prepared(
    select(
        _LAST_BEFORE.where(_P.booking_datetime < _ENDS.c.closes).scalar_subquery().label("closing")
    )
    .select_from(_ENDS)
    .order_by(_ENDS.c.closes)  # the ends ascend: their order, stated rather than assumed
)
_ENDS_JSON = func.json_each(bindparam("ends", type_=String)).table_valued("key", "value")
_CLOSING_SQLITE = Prepared(
    select(
        _LAST_BEFORE.where(_P.booking_datetime < _ENDS_JSON.c.value)
        .scalar_subquery()
        .label("closing")
    )
    .select_from(_ENDS_JSON)
    .order_by(_ENDS_JSON.c.key)
)


def _overdrawn_days(session: Session, account_pk: int, start: dt.date, end: dt.date) -> set[int]:
    """The days (ordinals) of [``start``, ``end``) whose closing balance was below zero."""
    days = range(start.toordinal(), end.toordinal())
    ends = [_midnight(dt.date.fromordinal(day + 1)) for day in days]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = _CLOSING_PG.run(connection, {"account_pk": account_pk, "ends": ends})
    else:
        dialect = connection.dialect
        stored = m.Timestamp.dialect_impl(dialect).bind_processor(dialect)  # as the column keeps
        kept = [stored(e) if stored else e for e in ends]
        rows = _CLOSING_SQLITE.run(connection, {"account_pk": account_pk, "ends": json.dumps(kept)})
    closing = zip(days, [row[0] for row in rows], strict=True)
    return {day for day, balance in closing if (balance or 0) < 0}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
