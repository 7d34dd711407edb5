"""When a booked payment settles: the bank's settlement cycles.

A payment leaves the customer's account when it is booked; between the banks it settles at the
next settlement cycle. Payment initiation reports it as ``ACSP`` (AcceptedSettlementInProcess)
until then and ``ACSC`` (AcceptedSettlementCompleted) from that moment (ISO 20022
ExternalPaymentTransactionStatus1Code). The bank settles three times each weekday, at 07:00,
13:00 and 16:00 London time (the cycles of a sandbox, not a statement about any real scheme's
timetable); a payment booked on a Friday evening or at a weekend settles on Monday at 07:00.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
CYCLES = (dt.time(7, 0), dt.time(13, 0), dt.time(16, 0))


def next_cycle(booked_at: dt.datetime) -> dt.datetime:
    """Return the first settlement cycle strictly after ``booked_at`` (aware), in UTC."""
    local = booked_at.astimezone(LONDON)
    day = local.date()
    while True:
        if day.weekday() < 5:
            for cycle in CYCLES:
                moment = dt.datetime.combine(day, cycle, LONDON)
                if moment > local:
                    return moment.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
