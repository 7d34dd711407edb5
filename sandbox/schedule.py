"""Payment frequencies (OBIE ``OBFrequency6Code``) and the dates they fall on.

A schedule is anchored on its first payment date: a monthly order first paid on 31 January falls
on 28/29 February, 31 March, 30 April, and so on (the day is clamped to the month's end, never
drifting). Working days are Monday to Friday; the sandbox keeps no bank-holiday calendar.
"""

from __future__ import annotations

import calendar
import datetime as dt

# Months between payments for the monthly family of OBFrequency6Code values.
_MONTHS = {"MNTH": 1, "TWMH": 2, "ALMH": 2, "QURT": 3, "FOMH": 4, "FIMH": 5, "MIAN": 6, "YEAR": 12}
# Days between payments for the fixed-interval codes.
_DAYS = {"DAIL": 1, "WEEK": 7, "FRTN": 14, "FOWK": 28}

SUPPORTED = frozenset(_MONTHS) | frozenset(_DAYS) | {"WODL"}


class UnsupportedFrequency(ValueError):
    """The frequency code is not one the sandbox can schedule (``ADHO``, ``INDA``, ``NONE``)."""


def add_months(day: dt.date, months: int, *, anchor_day: int | None = None) -> dt.date:
    """Return ``day`` moved by ``months``, on ``anchor_day`` (default: ``day.day``) clamped to
    the length of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(anchor_day or day.day, last))


def occurrence(code: str, first: dt.date, n: int) -> dt.date:
    """Return the ``n``-th payment date (0 is ``first``) of a schedule."""
    if code in _MONTHS:
        return add_months(first, n * _MONTHS[code], anchor_day=first.day)
    if code in _DAYS:
        return first + dt.timedelta(days=n * _DAYS[code])
    if code == "WODL":
        weeks, rest = divmod(n, 5)
        day = first + dt.timedelta(weeks=weeks)
        while rest:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                rest -= 1
        return day
    raise UnsupportedFrequency(code)


def next_on_or_after(code: str, first: dt.date, day: dt.date) -> dt.date:
    """Return the first payment date of the schedule that is on or after ``day``."""
    if code not in SUPPORTED:
        raise UnsupportedFrequency(code)
    if day <= first:
        return first
    if code in _DAYS:
        step = _DAYS[code]
        n = -(-(day - first).days // step)
        return occurrence(code, first, n)
    if code in _MONTHS:
        step = _MONTHS[code]
        months = (day.year - first.year) * 12 + day.month - first.month
        n = max(0, months // step - 1)
        while (candidate := occurrence(code, first, n)) < day:
            n += 1
        return candidate
    candidate = day
    while candidate.weekday() >= 5:
        candidate += dt.timedelta(days=1)
    return candidate


def next_after(code: str, first: dt.date, day: dt.date) -> dt.date:
    """Return the first payment date strictly after ``day``."""
    return next_on_or_after(code, first, day + dt.timedelta(days=1))
