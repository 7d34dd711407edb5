"""Every frequency across a simulated year, through the real sandbox: one standing order per code
and pattern, the tenant's clock moved on a year in uneven steps, and the days each order was paid
on compared with days worked out here independently: day by day, from what each pattern says
(the days it matches, every k-th of them), then moved to the next working day of a fixed
calendar; and, for the quarter days and a few others, written out by hand."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from gateway.core.accounts import Account
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder, StandingOrderInstruction
from gateway.core.values import Counterparty
from gateway.core.working_days import Weekdays
from sandbox.core import SandboxCore
from tests.common.clock import SANDBOX_START
from tests.common.sandbox import sandbox_core

D = dt.date
START = dt.datetime.fromisoformat(SANDBOX_START)  # Wednesday 4 March 2026, 10:00 UTC
FIRST = D(2026, 3, 5)
# The steps the clock moves by: a year, 365 days, so the last day is 4 March 2027.
STEPS = (1, 6, 24, 45, 60, 89, 140)
LAST = START.date() + dt.timedelta(days=sum(STEPS))
# England's bank holidays from March 2026 to March 2027, written out.
HOLIDAYS = frozenset(
    {D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25), D(2026, 8, 31),
     D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 1)}
)  # fmt: skip
CALENDAR = Weekdays(HOLIDAYS)
QUARTERS = {
    "ENGLISH": {(3, 25), (6, 24), (9, 29), (12, 25)},
    "SCOTTISH": {(2, 2), (5, 15), (8, 1), (11, 11)},
    "RECEIVED": {(3, 20), (6, 19), (9, 24), (12, 20)},
}
CODES = ["DAIL", "WEEK", "FRTN", "FOWK", "WODL", "MNTH", "ALMH", "TWMH", "QURT", "FOMH", "FIMH",
         "MIAN", "YEAR"]  # fmt: skip
PATTERNS = [
    "EvryDay", "EvryWorkgDay", "IntrvlDay:02", "IntrvlDay:31", "IntrvlWkDay:01:01",
    "IntrvlWkDay:02:03", "IntrvlWkDay:09:07", "WkInMnthDay:01:05", "WkInMnthDay:03:06",
    "WkInMnthDay:05:01", "WkInMnthDay:05:07", "IntrvlMnthDay:01:31", "IntrvlMnthDay:01:-01",
    "IntrvlMnthDay:01:-05", "IntrvlMnthDay:02:29", "IntrvlMnthDay:03:15", "IntrvlMnthDay:06:01",
    "IntrvlMnthDay:12:25", "IntrvlMnthDay:24:05", "QtrDay:ENGLISH", "QtrDay:SCOTTISH",
    "QtrDay:RECEIVED",
]  # fmt: skip
# Written out by hand: (due) -> paid, where the two differ.
BY_HAND = {
    "QtrDay:ENGLISH": [D(2026, 3, 25), D(2026, 6, 24), D(2026, 9, 29),
                       D(2026, 12, 29)],  # 25 Dec: Christmas, weekend, Boxing Day (observed)
    "QtrDay:SCOTTISH": [D(2026, 5, 15), D(2026, 8, 3),  # 1 August is a Saturday
                        D(2026, 11, 11), D(2027, 2, 2)],
    "QtrDay:RECEIVED": [D(2026, 3, 20), D(2026, 6, 19), D(2026, 9, 24),
                        D(2026, 12, 21)],  # 20 December is a Sunday
    # The last Monday of each month; May's and August's are bank holidays, December's is
    # Boxing Day (observed).
    "WkInMnthDay:05:01": [D(2026, 3, 30), D(2026, 4, 27), D(2026, 5, 26), D(2026, 6, 29),
                          D(2026, 7, 27), D(2026, 9, 1), D(2026, 9, 28), D(2026, 10, 26),
                          D(2026, 11, 30), D(2026, 12, 29), D(2027, 1, 25), D(2027, 2, 22)],
    "IntrvlMnthDay:12:25": [D(2026, 3, 25)],  # the next is 25 March 2027
    "IntrvlMnthDay:01:-05": [D(2026, 3, 27), D(2026, 4, 27), D(2026, 5, 27), D(2026, 6, 26),
                             D(2026, 7, 27), D(2026, 8, 27), D(2026, 9, 28),  # 26th: Saturday
                             D(2026, 10, 27), D(2026, 11, 26), D(2026, 12, 29),
                             D(2027, 1, 27), D(2027, 2, 24)],
    "YEAR": [D(2026, 3, 5)],
    "IntrvlMnthDay:24:05": [D(2026, 3, 5)],  # the next is 5 March 2028
    # Every 31 days: 5 April is Easter Sunday (then Easter Monday), 6 June, 8 November and
    # 9 January are weekend days.
    "IntrvlDay:31": [D(2026, 3, 5), D(2026, 4, 7), D(2026, 5, 6), D(2026, 6, 8), D(2026, 7, 7),
                     D(2026, 8, 7), D(2026, 9, 7), D(2026, 10, 8), D(2026, 11, 9),
                     D(2026, 12, 9), D(2027, 1, 11), D(2027, 2, 9)],
}  # fmt: skip


def _working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def _paid_on(day: dt.date) -> dt.date:
    while not _working(day):
        day += dt.timedelta(days=1)
    return day


def _length(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _matches(frequency: str, day: dt.date) -> tuple[bool, int]:
    """Whether ``day`` is one of the days ``frequency`` names, and every how many of those days
    it pays on (counted from the first on or after the first payment date)."""
    elapsed = (day - FIRST).days
    name, _, rest = frequency.partition(":")
    values = [int(v) for v in rest.split(":")] if rest and name != "QtrDay" else []
    months = {"MNTH": 1, "ALMH": 2, "TWMH": 2, "QURT": 3, "FOMH": 4, "FIMH": 5, "MIAN": 6,
              "YEAR": 12}  # fmt: skip
    weeks = {"WEEK": 1, "FRTN": 2, "FOWK": 4}
    if name in ("DAIL", "EvryDay"):
        return True, 1
    if name in ("WODL", "EvryWorkgDay"):
        return _working(day), 1
    if name in weeks:
        return elapsed % (7 * weeks[name]) == 0, 1
    if name in months:
        return day.day == min(FIRST.day, _length(day)), months[name]
    if name == "IntrvlDay":
        return elapsed % values[0] == 0, 1
    if name == "IntrvlWkDay":
        return day.isoweekday() == values[1], values[0]
    if name == "WkInMnthDay":
        week, weekday = values
        in_week = (day + dt.timedelta(weeks=1)).month != day.month if week == 5 else (
            (day.day - 1) // 7 == week - 1
        )  # fmt: skip
        return day.isoweekday() == weekday and in_week, 1
    if name == "IntrvlMnthDay":
        interval, wanted = values
        target = min(wanted, _length(day)) if wanted > 0 else _length(day) + wanted + 1
        return day.day == target, interval
    return (day.month, day.day) in QUARTERS[rest], 1


def _expected(frequency: str) -> list[dt.date]:
    """The days ``frequency``'s order is paid on, first payment date ``FIRST``, by ``LAST``."""
    matching, every = [], 1
    day = FIRST
    while day <= LAST:
        matches, every = _matches(frequency, day)
        if matches:
            matching.append(day)
        day += dt.timedelta(days=1)
    return [paid for due in matching[::every] if (paid := _paid_on(due)) <= LAST]


def _current_account(core: SandboxCore, tenant: str) -> Account:
    """The tenant's GBP current account with the most money (the tenant's seed decides who is
    overdrawn), with every instruction it had cancelled (so that only the orders made here pay
    from it)."""
    account = max(
        (a for c in core.customers(tenant) for a in core.accounts(tenant, c.id)
         if a.account_subtype == "CurrentAccount" and a.currency == "GBP"),
        key=lambda a: core.balances(tenant, a.id).booked.amount,
    )  # fmt: skip
    for order in core.standing_orders(tenant, account.id):
        if order.status == "Active":
            core.cancel_standing_order(tenant, order.id)
    for scheduled in core.scheduled_payments(tenant, account.id):
        if scheduled.status == "Scheduled":
            core.cancel_scheduled_payment(tenant, scheduled.id)
    return account


@pytest.mark.slow
def test_every_frequency_across_a_year_on_the_tenant_clock(session: Session, tenant: str) -> None:
    core = sandbox_core(session, real_time=lambda: START, working_days=CALENDAR)
    account = _current_account(core, tenant)
    assert core.balances(tenant, account.id).booked.amount > Decimal("25")
    payee = Counterparty("Acme Ltd", "UK.OBIE.SortCodeAccountNumber", "12345612345678")
    orders = {}
    for frequency in CODES + PATTERNS:
        order = PaymentOrder(account.id, Money(Decimal("0.01"), "GBP"), payee, frequency[:18])
        made = core.create_standing_order(tenant, StandingOrderInstruction(order, frequency, FIRST))
        assert (made.frequency, made.first_payment_date) == (frequency, FIRST)
        orders[made.id] = frequency

    for days in STEPS:
        core.advance_clock(tenant, dt.timedelta(days=days))
    assert core.now(tenant).date() == LAST

    paid: dict[str, list[dt.date]] = defaultdict(list)
    for payment in core.payments(tenant, account.id):
        if payment.instruction_id in orders:
            assert payment.status == "Booked" and payment.booked_at is not None
            paid[orders[payment.instruction_id]].append(payment.booked_at.date())
    for frequency in CODES + PATTERNS:
        expected = _expected(frequency)
        assert sorted(paid[frequency]) == expected, frequency
        assert expected == BY_HAND.get(frequency, expected), frequency
    assert len(paid["EvryDay"]) == 365 and len(paid["DAIL"]) == 365
    # 261 weekdays from 5 March 2026 to 4 March 2027, less 8 bank holidays.
    assert len(paid["EvryWorkgDay"]) == len(paid["WODL"]) == 253
