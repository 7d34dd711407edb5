"""Standing-order frequencies in the sandbox: what it can schedule and the dates they fall on.

A standing order keeps its frequency as one string (``sbx_standing_order.frequency``, 35
characters): an ``OBFrequency6Code`` (``MNTH``, ``WEEK``, ...) or a ``Frequency_1`` pattern
(``IntrvlMnthDay:01:15``, ``QtrDay:ENGLISH``, ...), the
:attr:`gateway.core.frequency.Frequency.schedule` of what was asked. Its dates are those of
:mod:`gateway.core.recurrence`: anchored on the first payment date, never drifting (a monthly order
first due on 31 January falls due on 28/29 February, 31 March, 30 April, ...), and paid on the
next working day when due on a non-working day.

The sandbox's working days are England's (:func:`gateway.core.working_days.england`) unless it is
handed a calendar of its own (``SandboxCore(..., working_days=...)``; tests pin one).
"""

from __future__ import annotations

import datetime as dt

from gateway.core.errors import InvalidInstruction
from gateway.core.frequency import CODES, UNSCHEDULED, FrequencyError, parse
from gateway.core.recurrence import Schedule
from gateway.core.working_days import WorkingDays, england

# The OBFrequency6Code values the sandbox schedules (every Frequency_1 pattern but NotKnown is
# scheduled too: see :func:`supported`).
SUPPORTED = CODES - UNSCHEDULED
# The sandbox's working days, unless it is handed others.
WORKING_DAYS: WorkingDays = england()


def supported(frequency: str) -> bool:
    """Tell whether the sandbox can schedule ``frequency`` (a code or a pattern)."""
    try:
        parse(frequency)
    except FrequencyError:
        return False
    return True


def schedule(frequency: str, first: dt.date, calendar: WorkingDays = WORKING_DAYS) -> Schedule:
    """The schedule of a standing order first due on ``first``; :class:`InvalidInstruction`
    for a frequency the sandbox cannot schedule."""
    try:
        return Schedule.of(parse(frequency), first, calendar)
    except FrequencyError as exc:
        raise InvalidInstruction(f"frequency {frequency!r} cannot be scheduled: {exc}") from None


def occurrence(
    frequency: str, first: dt.date, n: int, calendar: WorkingDays = WORKING_DAYS
) -> dt.date:
    """Return the ``n``-th due date (0 is the first) of a schedule."""
    return schedule(frequency, first, calendar).due(n)


def next_on_or_after(
    frequency: str, first: dt.date, day: dt.date, calendar: WorkingDays = WORKING_DAYS
) -> dt.date:
    """Return the first due date of the schedule that is on or after ``day``."""
    return schedule(frequency, first, calendar).next_on_or_after(day)


def next_after(
    frequency: str, first: dt.date, day: dt.date, calendar: WorkingDays = WORKING_DAYS
) -> dt.date:
    """Return the first due date strictly after ``day``."""
    return schedule(frequency, first, calendar).next_after(day)
