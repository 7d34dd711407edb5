"""The closed months the credit decision has summarised, kept so that it reads each month once.

A month is closed once the tenant's clock has passed its end: the bank books at its own now, and
the work that falls due runs before any read, so nothing is booked into a closed month again.
The summarising read (:mod:`sandbox.credit_summary`) keeps, for each closed month of an account
it has read, the database's grouped sums of that month's postings (by everything the
classification looks at, :data:`LOOKS`): a year of a busy till is a few hundred rows instead of
hundreds of thousands of postings. Only the database's sums are kept, never a classification, so
a change of the rules applies to every month at once. The rows go with their account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Row, String, case, func, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from sandbox.models import Base, BigId, Posting


class SummarisedMonth(Base):
    """An account's closed month whose sums are kept (:class:`MonthSum`): inserted first, once,
    so that two decisions at the same time keep the sums once."""

    __tablename__ = "sbx_summarised_month"

    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class MonthSum(Base):
    """The postings of one account's closed month that look alike (one credit or debit, and
    the same :data:`LOOKS`): their signed sum in minor units and their number."""

    __tablename__ = "sbx_month_sum"
    __table_args__ = (Index("ix_sbx_month_sum_account_month", "account_pk", "month"),)

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_pk: Mapped[int] = mapped_column(ForeignKey("sbx_account.pk", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    credit: Mapped[bool] = mapped_column(Boolean)
    information: Mapped[str] = mapped_column(String(140))
    reference: Mapped[str | None] = mapped_column(String(35))
    btc_code: Mapped[str | None] = mapped_column(String(35))
    btc_subcode: Mapped[str | None] = mapped_column(String(35))
    proprietary_code: Mapped[str | None] = mapped_column(String(35))
    merchant_name: Mapped[str | None] = mapped_column(String(350))
    merchant_mcc: Mapped[str | None] = mapped_column(String(4))
    counterparty_name: Mapped[str | None] = mapped_column(String(350))
    total: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(BigInteger)


# What the classification looks at, in the order a month's sums keep them.
LOOKS = ("information", "reference", "btc_code", "btc_subcode", "proprietary_code",
         "merchant_name", "merchant_mcc", "counterparty_name")  # fmt: skip


class Group(NamedTuple):
    """The postings of one month of an account that look alike: ``looks`` as :data:`LOOKS`,
    ``total`` their signed sum in minor units, ``postings`` how many."""

    month: dt.date
    credit: bool
    looks: tuple[str | None, ...]
    total: int
    postings: int


_P = Posting
_POSTING_LOOKS = tuple(getattr(_P, name) for name in LOOKS)
_KEPT_LOOKS = tuple(getattr(MonthSum, name) for name in LOOKS)


def month_groups(
    session: Session, account_pk: int, months: Sequence[dt.date], now: dt.datetime
) -> list[Group]:
    """The groups of the months ``months`` (first days, oldest first) of an account: those kept
    read back, the others summed from the postings, and those of them now closed kept."""
    kept = set(session.scalars(select(SummarisedMonth.month).where(
        SummarisedMonth.account_pk == account_pk, SummarisedMonth.month.in_(months))))  # fmt: skip
    groups: list[Group] = []
    if kept:
        query = select(MonthSum.month, MonthSum.credit, *_KEPT_LOOKS, MonthSum.total,
                       MonthSum.count).where(MonthSum.account_pk == account_pk,
                                             MonthSum.month.in_(sorted(kept)))  # fmt: skip
        groups.extend(_group(row) for row in session.execute(query))
    missing = [month for month in months if month not in kept]
    if missing:
        summed = _summed(session, account_pk, missing)
        groups.extend(summed)
        closed = [month for month in missing if _midnight(_next(month)) <= now]
        _keep(session, account_pk, closed, summed)
    return groups


def _summed(session: Session, account_pk: int, months: list[dt.date]) -> list[Group]:
    """The groups of ``months`` summed from the postings, in one grouped statement over every
    month from the first to the last (those between kept already are left out after)."""
    span = [months[0]]
    while span[-1] < months[-1]:
        span.append(_next(span[-1]))
    bounds = [_midnight(month) for month in span]
    month = case(*((_P.booking_datetime >= b, n) for n, b in reversed(list(enumerate(bounds)))),
                 else_=0)  # fmt: skip
    credit = case((_P.amount > 0, 1), else_=0)
    query = (
        select(month, credit, *_POSTING_LOOKS, func.sum(_P.amount), func.count())
        .where(_P.account_pk == account_pk, _P.booking_datetime >= bounds[0],
               _P.booking_datetime < _midnight(_next(months[-1])))
        .group_by(month, credit, *_POSTING_LOOKS)
    )  # fmt: skip
    found = [Group(span[n], bool(c), tuple(looks), int(total), int(count))
             for n, c, *looks, total, count in session.execute(query)]  # fmt: skip
    wanted = set(months)  # months between two missing ones may be kept already
    return [group for group in found if group.month in wanted]


def _keep(session: Session, account_pk: int, months: list[dt.date], groups: list[Group]) -> None:
    """Keep the groups of the closed ``months``: each month claimed first, its sums written by
    the one decision whose claim was new."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for month in months:
        claim = insert(SummarisedMonth).values(account_pk=account_pk, month=month)
        claimed = claim.on_conflict_do_nothing().returning(SummarisedMonth.month)
        if session.execute(claimed).first() is None:
            continue  # another decision claimed it: it keeps the sums
        rows = [dict(zip(LOOKS, g.looks, strict=True), account_pk=account_pk, month=month,
                     credit=g.credit, total=g.total, count=g.postings)
                for g in groups if g.month == month]  # fmt: skip
        if rows:
            session.execute(sa_insert(MonthSum), rows)


def _group(row: Row[Any]) -> Group:
    month, credit, *looks, total, count = tuple(row)
    return Group(month, bool(credit), tuple(looks), int(total), int(count))


def _next(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=31)).replace(day=1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
