"""The periods a VRP consent's periodic limits are counted over (OBIE VRP v4.0,
``OBDomesticVRPControlParameters.PeriodicLimits``), in the tenant's time zone, Europe/London.

A period is a half-open interval of instants, ``[start, end)``: the last instant of one period
is just before the first of the next, and every instant is in exactly one period.

``Calendar`` alignment: the calendar's own periods, from local midnight: a ``Day``; a ``Week``,
ISO 8601's, Monday to Sunday; a ``Month``; a ``Half-year``, January to June or July to
December; a ``Year``. The schema allows no calendar ``Fortnight`` ("As the ISO calendar does not
support or provide any guidance on when a fortnight should start, a PeriodType of Fortnight the
PeriodAlignment must be Consent"), and :func:`period` refuses one.

``Consent`` alignment: periods start at the consent's start (its ``ValidFromDateTime``, else its
creation), to the second, and follow one another at the period's length in local wall time: a
day, 7 days, 14 days, a month, 6 months or 12 months. Months count from the start's day, clamped
to shorter months and never drifting: a monthly consent started on 31 January at 09:00 has
periods starting 28 (or 29) February, 31 March, 30 April, ... at 09:00.

Time zone: the boundaries are wall-clock times in Europe/London, so a calendar day is 23 hours
long on the day the clocks go forward and 25 on the day they go back, and a consent-aligned day
started at 09:00 always starts at 09:00. A consent boundary whose wall time does not exist (in
the hour the clocks skip) falls an hour later on the clock, at the same instant as the time
before the change would have been; one whose wall time happens twice is the first of the two.
Calendar boundaries are at midnight, which the UK's changes (at 01:00 UTC) never touch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gateway.core.recurrence import day_in_month, month_index

ZONE = ZoneInfo("Europe/London")
PERIOD_TYPES = ("Day", "Week", "Fortnight", "Month", "Half-year", "Year")
ALIGNMENTS = ("Consent", "Calendar")
# The length of each period type: (days, months).
_LENGTHS = {
    "Day": (1, 0),
    "Week": (7, 0),
    "Fortnight": (14, 0),
    "Month": (0, 1),
    "Half-year": (0, 6),
    "Year": (0, 12),
}


@dataclass(frozen=True, slots=True)
class Period:
    """The instants from ``start`` (included) to ``end`` (excluded), both aware, in UTC."""

    start: dt.datetime
    end: dt.datetime

    def __contains__(self, at: object) -> bool:
        if not isinstance(at, dt.datetime):
            return False
        # In UTC: an aware time in an hour the clocks repeat compares unequal across zones.
        instant = at.astimezone(dt.UTC) if at.tzinfo is not None else at
        return self.start <= instant < self.end

    def describe(self) -> str:
        """The period in the tenant's local time, for a message."""
        start, end = self.start.astimezone(ZONE), self.end.astimezone(ZONE)
        return f"{start.isoformat()} to {end.isoformat()}"


def period(period_type: str, alignment: str, anchor: dt.datetime, at: dt.datetime) -> Period:
    """The period of ``period_type`` and ``alignment`` that holds the instant ``at``; ``anchor``
    is the consent's start (used by ``Consent`` alignment only). Both instants are aware.

    :class:`ValueError` for an unknown type or alignment, a ``Calendar`` ``Fortnight``, or a
    naive datetime.
    """
    if period_type not in _LENGTHS or alignment not in ALIGNMENTS:
        raise ValueError(f"no {alignment!r} period of type {period_type!r}")
    for instant in (anchor, at):
        if instant.tzinfo is None:
            raise ValueError("periods are computed from aware instants only")
    if alignment == "Calendar":
        return _calendar(period_type, at)
    return _consent(period_type, anchor, at)


def _instant(wall: dt.datetime) -> dt.datetime:
    """A naive Europe/London wall time as an instant in UTC (see the module's note on the
    clock changes)."""
    return wall.replace(tzinfo=ZONE).astimezone(dt.UTC)


def _midnight(day: dt.date) -> dt.datetime:
    return _instant(dt.datetime.combine(day, dt.time()))


def _calendar(period_type: str, at: dt.datetime) -> Period:
    day = at.astimezone(ZONE).date()
    if period_type == "Day":
        start = day
        end = day + dt.timedelta(days=1)
    elif period_type == "Week":
        start = day - dt.timedelta(days=day.weekday())  # ISO 8601: weeks start on Monday
        end = start + dt.timedelta(weeks=1)
    elif period_type == "Fortnight":
        # "a PeriodType of Fortnight the PeriodAlignment must be Consent" (the schema).
        raise ValueError("a Fortnight period is aligned on the consent, never on the calendar")
    else:
        months = _LENGTHS[period_type][1]
        index = month_index(day)
        first = index - (index % 12) % months  # January, or July for half-years
        start, end = day_in_month(first, 1), day_in_month(first + months, 1)
    return Period(_midnight(start), _midnight(end))


def _consent(period_type: str, anchor: dt.datetime, at: dt.datetime) -> Period:
    days, months = _LENGTHS[period_type]
    wall = anchor.astimezone(ZONE).replace(tzinfo=None)
    local = at.astimezone(ZONE)

    def boundary(k: int) -> dt.datetime:
        """The start of the ``k``-th period (0 starts at the anchor; negative ones before it)."""
        if k == 0:
            return anchor.astimezone(dt.UTC)  # itself, even in an hour the clocks repeat
        if days:
            return _instant(wall + dt.timedelta(days=k * days))
        start = day_in_month(month_index(wall.date()) + k * months, wall.day)
        return _instant(dt.datetime.combine(start, wall.time()))

    if days:
        k = (local.date() - wall.date()).days // days
    else:
        k = (month_index(local.date()) - month_index(wall.date())) // months
    instant = at.astimezone(dt.UTC)
    while boundary(k) > instant:
        k -= 1
    while boundary(k + 1) <= instant:
        k += 1
    return Period(boundary(k), boundary(k + 1))
