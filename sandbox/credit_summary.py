"""The credit decision's summarising read: the applicant's year summed in the database.

Reading a year of a busy till through the account-information contract means tens of thousands
of transactions, each built, paged and classified. The decision needs far less: each flow's
monthly sums, the returned payments and the days that closed overdrawn
(:class:`~sandbox.lending.measures.Summary`). Two statements give them, on SQLite and
PostgreSQL alike:

- the postings of the months measured, grouped by account, month and everything
  :func:`~sandbox.lending.measures.classify` looks at (a year of card sales is a few groups a
  month), each group classified once as the full read classifies a transaction;
- for each day of the window, the balance after the account's last posting booked before the
  day ended (the closing balance, held over days without postings), one seek of the history
  index a day.

The result is the same summary, so the same decision, as the full read
(:func:`sandbox.lending.measures.summarise`); the tests prove it for every persona.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from gateway.core.money import from_minor
from gateway.store.statements import Prepared
from sandbox import models as m
from sandbox import records
from sandbox.lending.measures import FLOWS, Flow, Summary, classify, months_measured, window

_P = m.Posting
# What classify reads of a posting, the columns a group is made by.
_LOOKS = (_P.information, _P.reference, _P.btc_code, _P.btc_subcode, _P.proprietary_code,
          _P.merchant_name, _P.merchant_mcc, _P.counterparty_name)  # fmt: skip
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def read_summary(
    session: Session, accounts: Sequence[m.Account], currency: str, as_of: dt.date
) -> Summary:
    """Summarise ``accounts`` (rows; those the decision measures, see
    :func:`~sandbox.lending.measures.measured`) in ``currency`` as of ``as_of``."""
    start, end = window(as_of)
    starts = months_measured(min((a.opening_date for a in accounts), default=None), as_of)
    sums = [[Decimal(0)] * len(starts) for _ in FLOWS]
    returned = 0
    if starts and accounts:
        returned = _flows(session, accounts, currency, starts, end, sums)
    overdrawn: set[int] = set()
    for account in accounts:
        overdrawn.update(_overdrawn_days(session, account.pk, start, end))
    return Summary(currency, tuple(map(tuple, sums)), returned, len(overdrawn))


def _flows(
    session: Session,
    accounts: Sequence[m.Account],
    currency: str,
    starts: list[dt.date],
    end: dt.date,
    sums: list[list[Decimal]],
) -> int:
    """Add the postings of the months ``starts`` to ``sums`` by flow and month; return how many
    payments were returned in them."""
    bounds = [_midnight(d) for d in starts]
    month = case(
        *((_P.booking_datetime >= b, n) for n, b in reversed(list(enumerate(bounds)))),
        else_=0,
    )
    credit = case((_P.amount > 0, 1), else_=0)
    query = (
        select(_P.account_pk, month, credit, *_LOOKS, func.sum(_P.amount), func.count())
        .where(
            _P.account_pk.in_([a.pk for a in accounts]),
            _P.booking_datetime >= bounds[0],
            _P.booking_datetime < _midnight(end),
        )
        .group_by(_P.account_pk, month, credit, *_LOOKS)
    )
    business = {a.pk: a.account_type == "Business" for a in accounts}
    returned = 0
    for row in session.execute(query):
        pk, n, is_credit, *looks, total, count = row
        flow = FLOWS.index(_classify(looks, bool(is_credit), business[pk], currency))
        sums[flow][n] += from_minor(int(total), currency).amount
        if FLOWS[flow] is Flow.RETURNED:
            returned += int(count)
    return returned


def _classify(looks: list[str | None], credit: bool, business: bool, currency: str) -> Flow:
    """Classify a group as the full read classifies each of its transactions: through the
    transaction the account-information contract would make of one of them."""
    info, reference, code, subcode, proprietary, merchant, mcc, counterparty = looks
    row = records.PostingColumns(
        0, currency, 1 if credit else -1, _EPOCH, None, None, reference, info or "", code,
        subcode, proprietary, merchant, mcc, counterparty, None, None,
    )  # fmt: skip
    return classify(records.posting(row, ""), business)


# A window holds 365 or 366 days: the closing balance of each, one seek of the history index a
# day (a 365-day window repeats its last day). Compiled once: a statement of 366 subqueries is
# costly to build and to find in SQLAlchemy's cache.
_DAYS = 366
_CLOSING = Prepared(
    select(*(
        select(_P.balance_after)
        .where(_P.account_pk == bindparam("account_pk"),
               _P.booking_datetime < bindparam(f"end{n}", type_=m.Timestamp))
        .order_by(_P.booking_datetime.desc(), _P.pk.desc())
        .limit(1)
        .scalar_subquery()
        .label(f"day{n}")
        for n in range(_DAYS)
    ))
)  # fmt: skip


def _overdrawn_days(session: Session, account_pk: int, start: dt.date, end: dt.date) -> set[int]:
    """The days (ordinals) of [``start``, ``end``) whose closing balance was below zero."""
    days = range(start.toordinal(), end.toordinal())
    ends = [_midnight(dt.date.fromordinal(days[min(n, len(days) - 1)] + 1)) for n in range(_DAYS)]
    params: dict[str, object] = {f"end{n}": e for n, e in enumerate(ends)}
    (balances,) = _CLOSING.run(session.connection(), params | {"account_pk": account_pk})
    return {day for day, balance in zip(days, balances) if (balance or 0) < 0}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
