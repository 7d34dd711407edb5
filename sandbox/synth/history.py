"""Synthetic account history: salaries, rent, groceries, subscriptions, SME card takings,
supplier payments, payroll, loans and foreign-currency trade, booked day by day.

Each day's events of a tenant become one balanced journal (a settlement batch): the customer
postings of the day, and one net posting per internal account (clearing, card settlement,
interest, fees, FX position) that balances them per currency. Transfers between two of the
tenant's accounts balance within the batch. Events that would break an account's limit are
dropped, as a bank would refuse them, so history never shows an account below its limit.

Rows are written in bulk (:mod:`sandbox.synth.bulk`); the per-row work is kept to tuple building so
that a million-row history generates at a good fraction of the database's raw insert rate.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from sandbox.synth import bulk
from sandbox.synth.vocabulary import Event, Plan

# Rows of history after which PostgreSQL's planner statistics are refreshed.
ANALYZE_THRESHOLD = 50_000


@dataclass
class Result:
    """What generation booked: rows written and each account's closing balance and months."""

    postings: int = 0
    journals: int = 0
    balances: dict[int, int] = field(default_factory=dict)
    # account index -> month (first day) -> [opening, credits, debits]
    months: dict[int, dict[dt.date, list[int]]] = field(default_factory=dict)
    last_payments: dict[tuple[int, str], tuple[dt.date, int]] = field(default_factory=dict)


def generate(
    session: Session,
    *,
    tenant_id: str,
    rng: random.Random,
    plans: list[Plan],
    internal_pks: dict[str, int],
    start: dt.date,
    end: dt.date,
    chunk: int = 50_000,
) -> Result:
    """Book history for ``plans`` on the days from ``start`` up to (not including) ``end``."""
    days = (end - start).days
    journal_pks = iter(bulk.reserve_journal_pks(session, days))
    book = _Day(tenant_id, bulk.timestamp_suffix(session), plans, internal_pks)
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        events: list[Event] = []
        for plan in plans:
            if day >= plan.opening_date:
                events.extend(plan.behaviour(rng, day, plan))
        if not events:
            continue
        events.sort(key=lambda e: e[0])
        book(day, events, next(journal_pks))
        if len(book.rows) >= chunk:
            _flush(session, book.journals, book.rows, book.result)
    _flush(session, book.journals, book.rows, book.result)
    result = book.result
    if result.postings >= ANALYZE_THRESHOLD and session.get_bind().dialect.name == "postgresql":
        # A large bulk load changes the tables' statistics: without fresh ones PostgreSQL plans
        # a history page as a scan and sort of every older posting instead of an index seek.
        session.execute(text("ANALYZE sbx_posting"))
        session.execute(text("ANALYZE sbx_journal"))
    return result


class _Day:
    """Books one day's events as a settlement batch into rows waiting to be written."""

    def __init__(
        self, tenant_id: str, suffix: str, plans: list[Plan], internal_pks: dict[str, int]
    ) -> None:
        self.tenant_id, self.suffix, self.internal_pks = tenant_id, suffix, internal_pks
        self.result = Result(
            balances={p.index: 0 for p in plans}, months={p.index: {} for p in plans}
        )
        self.limit = {p.index: p.credit_limit for p in plans}
        self.pk_of = {p.index: p.pk for p in plans}
        self.currency_of = {p.index: p.currency for p in plans}
        self.rows: list[tuple[object, ...]] = []
        self.journals: list[tuple[object, ...]] = []

    def __call__(self, day: dt.date, events: list[Event], journal_pk: int) -> None:
        result, rows, suffix = self.result, self.rows, self.suffix
        balance, limit, pk_of, currency_of = (
            result.balances,
            self.limit,
            self.pk_of,
            self.currency_of,
        )
        month, day_text = day.replace(day=1), day.isoformat()
        counters: dict[str, int] = defaultdict(int)
        booked = len(rows)
        for event in events:
            second, legs = event[0], event[1]
            if len(event) == 3:
                sized = event[2](legs, balance)
                if sized is None:
                    continue
                legs = sized
            if any(balance[i] + amt + limit[i] < 0 for i, amt, _d, _c in legs if amt < 0):
                continue  # refused, as the bank would refuse it
            stamp = (
                f"{day_text} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
                f".000000{suffix}"
            )
            for i, amt, detail, counter in legs:
                new = balance[i] + amt
                balance[i] = new
                rows.append((journal_pk, pk_of[i], currency_of[i], amt, stamp, stamp, new, *detail))
                stats = result.months[i].get(month)
                if stats is None:
                    stats = result.months[i][month] = [new - amt, 0, 0]
                stats[1 if amt > 0 else 2] += amt
                if counter is not None:
                    counters[counter] -= amt
                if detail[4] in ("DirectDebit", "StandingOrder"):
                    result.last_payments[(i, detail[1])] = (day, -amt)
        if len(rows) > booked:
            self._settle(day_text, journal_pk, counters)

    def _settle(self, day_text: str, journal_pk: int, counters: dict[str, int]) -> None:
        """One posting per internal account that balances the day, and the day's journal."""
        stamp = f"{day_text} 23:59:59.000000{self.suffix}"
        for code, amt in counters.items():
            if amt:
                ccy = code.rsplit(":", 1)[1]
                self.rows.append(
                    (journal_pk, self.internal_pks[code], ccy, amt, stamp, stamp, None, None,
                     f"Settlement batch {day_text}", None, None, None, None, None, None, None, None)
                )  # fmt: skip
        self.journals.append(
            (journal_pk, self.tenant_id, "batch", stamp, f"History batch {day_text}")
        )


def _flush(
    session: Session,
    journals: list[tuple[object, ...]],
    rows: list[tuple[object, ...]],
    result: Result,
) -> None:
    if journals:
        result.journals += bulk.write_rows(session, "sbx_journal", bulk.JOURNAL_COLUMNS, journals)
        journals.clear()
    if rows:
        result.postings += bulk.write_rows(session, "sbx_posting", bulk.POSTING_COLUMNS, rows)
        rows.clear()
