"""Working days: the days a bank makes payments on.

A calendar is a choice handed to whoever schedules payments (:class:`WorkingDays`), so that tests
pin one: :func:`england` is Monday to Friday less the bank holidays of England and Wales (the
``holidays`` library's ``GB`` calendar, subdivision ``ENG``, substitute days included: when
Christmas Day falls on a Saturday, the Monday and Tuesday after are bank holidays);
:class:`Weekdays` is Monday to Friday less a fixed set of days.

UK practice moves a payment that falls due on a non-working day to the next working day
(:func:`next_working_day`), even when that is in the next month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import holidays

# How far a calendar is searched for a working day before it is taken to have none.
SEARCH_DAYS = 366


class WorkingDays(Protocol):
    """A calendar of working days."""

    def is_working_day(self, day: dt.date) -> bool:
        """Tell whether payments are made on ``day``."""


@dataclass(frozen=True, slots=True)
class Weekdays:
    """Monday to Friday, less ``holidays``."""

    holidays: frozenset[dt.date] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not a holiday."""
        return day.weekday() < 5 and day not in self.holidays


class BankHolidays:
    """Monday to Friday, less the holidays of a ``holidays`` calendar (its years are filled in
    as they are asked for)."""

    def __init__(self, calendar: holidays.HolidayBase) -> None:
        self.calendar = calendar

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not a bank holiday."""
        return day.weekday() < 5 and day not in self.calendar

    def name(self, day: dt.date) -> str | None:
        """The holiday's name on ``day`` (``None`` on another day)."""
        found: str | None = self.calendar.get(day)
        return found


def england() -> BankHolidays:
    """Working days in England and Wales: Monday to Friday less the bank holidays."""
    return BankHolidays(holidays.country_holidays("GB", subdiv="ENG"))


def next_working_day(day: dt.date, calendar: WorkingDays) -> dt.date:
    """``day`` itself when it is a working day, else the first working day after it.

    :class:`ValueError` for a calendar with no working day in :data:`SEARCH_DAYS` days.
    """
    for offset in range(SEARCH_DAYS):
        candidate = day + dt.timedelta(days=offset)
        if calendar.is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {SEARCH_DAYS} days of {day}")
