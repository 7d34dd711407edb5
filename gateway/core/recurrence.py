"""The dates a payment frequency (:mod:`gateway.core.frequency`) falls due on, and the working
days they are paid on.

A schedule is anchored on its first payment date and every date is computed from that anchor,
never from the date before, so that it cannot drift:

* The due dates are the rule's dates on or after the first payment date; occurrence 0 is the first
  of them. For a rule without a day of its own (``DAIL``, ``WEEK``, ``MNTH``, ``IntrvlDay:10``,
  ...) that is the first payment date itself; for one with a day (``IntrvlWkDay:02:03``: every
  other Wednesday; ``IntrvlMnthDay:01:15``; ``QtrDay:ENGLISH``) it is the first such day on or
  after it, and an interval counts from there.
* A day the month does not have (the 31st in April, the 30th in February) is the month's last day:
  ``MNTH`` from 31 January 2024 is due on 29 February, 31 March, 30 April, ... (each from the
  anchor's day, not from the month before).
* A negative day counts from the month's end: ``-01`` is the last day, ``-05`` the fifth from last.
* Week ``05`` of ``WkInMnthDay`` is the month's last such weekday: the fifth when the month has
  five, else the fourth, so that the order pays every month.
* ``EvryWorkgDay`` and ``WODL`` are due on every working day of the calendar.
* A payment due on a non-working day is paid on the next working day (:meth:`Schedule.paid_on`),
  even in the next month; due dates never move. Several due dates may so be paid on one day
  (``DAIL``: Saturday's, Sunday's and Monday's on the Monday): every due date is paid once.

The n-th payment of an order of ``NumberOfPayments`` n is ``due(n - 1)``: its final payment date.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.core.frequency import (
    EveryDays,
    EveryWorkingDay,
    Frequency,
    Monthly,
    QuarterDays,
    Rule,
    WeekInMonth,
    Weekly,
)
from gateway.core.working_days import WorkingDays, next_working_day


def month_index(day: dt.date) -> int:
    """Months since year 0: consecutive months have consecutive indexes."""
    return day.year * 12 + day.month - 1


def day_in_month(index: int, day: int) -> dt.date:
    """Day ``day`` of month ``index`` (:func:`month_index`): 1 to 31 clamped to the month's
    length, or counted from its end when negative (-1 is the last day)."""
    year, month = divmod(index, 12)
    last = cal.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day, last) if day > 0 else last + day + 1)


def weekday_in_month(index: int, week: int, weekday: int) -> dt.date:
    """The ``week``-th ``weekday`` (ISO, 1 is Monday) of month ``index``; week 5 is the last."""
    start = day_in_month(index, 1)
    found = start + dt.timedelta(days=(weekday - 1 - start.weekday()) % 7 + 7 * (week - 1))
    return found if found.month == start.month else found - dt.timedelta(weeks=1)


def quarter_day(index: int, days: tuple[tuple[int, int], ...]) -> dt.date:
    """Quarter day ``index``: the year's four days in order, year after year."""
    year, quarter = divmod(index, 4)
    month, day = days[quarter]
    return dt.date(year, month, day)


@dataclass(frozen=True, slots=True)
class Schedule:
    """The due dates of ``rule`` from the ``first`` payment date, paid on ``calendar``'s working
    days."""

    rule: Rule
    first: dt.date
    calendar: WorkingDays

    @classmethod
    def of(cls, frequency: Frequency, first: dt.date, calendar: WorkingDays) -> Schedule:
        """The schedule of ``frequency`` from ``first``."""
        return cls(frequency.rule, first, calendar)

    def due(self, n: int) -> dt.date:
        """The ``n``-th due date (0 is the first)."""
        if n < 0:
            raise ValueError("occurrences are counted from 0")
        rule = self.rule
        if isinstance(rule, EveryWorkingDay):
            day = next_working_day(self.first, self.calendar)
            for _ in range(n):
                day = next_working_day(day + dt.timedelta(days=1), self.calendar)
            return day
        if isinstance(rule, EveryDays):
            return self.first + dt.timedelta(days=n * rule.days)
        if isinstance(rule, Weekly):
            ahead = (rule.weekday - 1 - self.first.weekday()) % 7
            return self.first + dt.timedelta(days=ahead + 7 * rule.weeks * n)
        return self._at(self._start() + n * self._step())

    def next_on_or_after(self, day: dt.date) -> dt.date:
        """The first due date on or after ``day``."""
        first = self.due(0)
        if day <= first:
            return first
        if isinstance(self.rule, EveryWorkingDay):
            return next_working_day(day, self.calendar)
        # The due dates increase strictly: find the first at or past ``day`` by bisection.
        high = 1
        while self.due(high) < day:
            high *= 2
        low = high // 2
        while low < high:
            middle = (low + high) // 2
            if self.due(middle) < day:
                low = middle + 1
            else:
                high = middle
        return self.due(low)

    def next_after(self, day: dt.date) -> dt.date:
        """The first due date strictly after ``day``."""
        return self.next_on_or_after(day + dt.timedelta(days=1))

    def paid_on(self, due: dt.date) -> dt.date:
        """The day a payment due on ``due`` is made: ``due``, or the next working day."""
        return next_working_day(due, self.calendar)

    def due_dates(self, until: dt.date) -> Iterator[dt.date]:
        """The due dates up to ``until`` (inclusive), in order."""
        day = self.due(0)
        while day <= until:
            yield day
            day = self.next_after(day)

    # The rules by month or by quarter: an index of months (or quarters) and the day in each.

    def _step(self) -> int:
        rule = self.rule
        return rule.months if isinstance(rule, Monthly) else 1

    def _at(self, index: int) -> dt.date:
        rule = self.rule
        if isinstance(rule, Monthly):
            return day_in_month(index, rule.day or self.first.day)
        if isinstance(rule, WeekInMonth):
            return weekday_in_month(index, rule.week, rule.weekday)
        if isinstance(rule, QuarterDays):
            return quarter_day(index, rule.days)
        raise TypeError(f"{rule!r} is not counted in months or quarters")

    def _start(self) -> int:
        """The index of the first month (or quarter) whose day is on or after ``first``."""
        if isinstance(self.rule, QuarterDays):
            index = self.first.year * 4
        else:
            index = month_index(self.first)
        while self._at(index) < self.first:
            index += 1
        return index
