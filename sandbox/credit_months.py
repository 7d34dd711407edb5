"""The closed months the credit decision has summarised, kept so that it reads each month once.

A month is closed once the tenant's clock has passed its end: the bank books at its own now, and
the work that falls due runs before any read, so nothing is booked into a closed month again.
The summarising read (:mod:`sandbox.credit_summary`) keeps, for each closed month of an account
it has read, the database's grouped sums of that month's postings (by everything the
classification looks at, :data:`LOOKS`): a year of a busy till is a few hundred rows instead of
hundreds of thousands of postings. Only the database's sums are kept, never a classification, so
a change of the rules applies to every month at once. The rows go with their account.

A real applicant applies once, so the first decision is the one that counts: the months of the
credit window of every current account are summed and kept as the tenant's history is made
(:func:`sandbox.tenants.ensure`) and as the tenant's clock closes a month
(:func:`sandbox.clock.run_due`, after the due work it books), by :func:`keep_closed_months`.
A decision sums months itself only where they are missing (a tenant made before they were
kept, an account opened since the last month closed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Row,
    String,
    Table,
    case,
    func,
    select,
)
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from sandbox.lending.measures import months_measured, window
from sandbox.models import Account, Base, BigId, Posting


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
_MONTH_SUMS = cast(Table, MonthSum.__table__)  # Core, not the ORM's bulk insert


def month_groups(
    session: Session, account_pk: int, months: Sequence[dt.date], now: dt.datetime
) -> list[Group]:
    """The groups of the months ``months`` (first days, oldest first) of an account: those kept
    read back, the others summed from the postings, and those of them now closed kept."""
    kept = _kept(session, [account_pk], months).get(account_pk, set())
    groups: list[Group] = []
    if kept:
        query = select(MonthSum.month, MonthSum.credit, *_KEPT_LOOKS, MonthSum.total,
                       MonthSum.count).where(MonthSum.account_pk == account_pk,
                                             MonthSum.month.in_(sorted(kept)))  # fmt: skip
        groups.extend(_group(row) for row in session.execute(query))
    missing = [month for month in months if month not in kept]
    if missing:
        groups.extend(_sum_and_keep(session, account_pk, missing, now))
    return groups


def keep_closed_months(session: Session, tenant_id: str, now: dt.datetime) -> None:
    """Sum and keep the months of the credit window at ``now`` (:func:`window`, all closed) of
    each of the tenant's current accounts, those not kept yet: done as a tenant's history is
    made and as its clock closes a month, so that no decision meets a busy account cold."""
    start, _ = window(now.date())
    months = months_measured(start, now.date())
    accounts = session.scalars(select(Account.pk).where(
        Account.tenant_id == tenant_id, Account.account_subtype == "CurrentAccount",
        Account.customer_pk.is_not(None))).all()  # fmt: skip
    kept = _kept(session, accounts, months)
    for account_pk in accounts:
        missing = [month for month in months if month not in kept.get(account_pk, ())]
        if missing:
            _sum_and_keep(session, account_pk, missing, now)


def _kept(
    session: Session, account_pks: Sequence[int], months: Sequence[dt.date]
) -> dict[int, set[dt.date]]:
    """The months among ``months`` kept for each of the accounts."""
    query = select(SummarisedMonth.account_pk, SummarisedMonth.month).where(
        SummarisedMonth.account_pk.in_(account_pks), SummarisedMonth.month.in_(months)
    )
    kept: dict[int, set[dt.date]] = {}
    for account_pk, month in session.execute(query):
        kept.setdefault(account_pk, set()).add(month)
    return kept


def _sum_and_keep(
    session: Session, account_pk: int, missing: list[dt.date], now: dt.datetime
) -> list[Group]:
    """The groups of the ``missing`` months summed from the postings, those now closed kept."""
    summed = _summed(session, account_pk, missing)
    closed = [month for month in missing if _midnight(_next(month)) <= now]
    if closed:
        _keep(session, account_pk, closed, summed)
    return summed


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
    """Keep the groups of the closed ``months``: the months claimed first, in one statement,
    their sums written by the one decision whose claim was new."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    claims = [{"account_pk": account_pk, "month": month} for month in months]
    claim = insert(SummarisedMonth).values(claims).on_conflict_do_nothing()
    # another decision that claimed a month keeps its sums
    claimed = set(session.scalars(claim.returning(SummarisedMonth.month)))
    rows = [dict(zip(LOOKS, g.looks, strict=True), account_pk=account_pk, month=g.month,
                 credit=g.credit, total=g.total, count=g.postings)
            for g in groups if g.month in claimed]  # fmt: skip
    if rows:
        session.connection().execute(sa_insert(_MONTH_SUMS), rows)  # one executemany


def _group(row: Row[Any]) -> Group:
    month, credit, *looks, total, count = tuple(row)
    return Group(month, bool(credit), tuple(looks), int(total), int(count))


def _next(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=31)).replace(day=1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
