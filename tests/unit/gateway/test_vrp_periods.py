"""The periods of VRP periodic limits: every type with each alignment, their first and last
instants, month-end consent starts and the clock changes of Europe/London."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.consents.vrp_periods import PERIOD_TYPES, ZONE, Period, period

UTC = dt.UTC
TICK = dt.timedelta(microseconds=1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def london(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZONE, fold=fold)  # type: ignore[misc]


ANCHOR = utc(2026, 3, 4, 14, 30)  # a Wednesday, in GMT
u = utc

# (type, alignment, an instant, the period that holds it); consent periods from ANCHOR.
CASES = [
    ("Day", "Calendar", u(2026, 3, 5, 10), (u(2026, 3, 5), u(2026, 3, 6))),
    # Summer: the London day starts at 23:00 UTC the day before.
    ("Day", "Calendar", u(2026, 7, 1, 23, 30), (u(2026, 7, 1, 23), u(2026, 7, 2, 23))),
    ("Week", "Calendar", u(2026, 3, 8, 23, 59), (u(2026, 3, 2), u(2026, 3, 9))),
    ("Month", "Calendar", u(2026, 3, 31, 22, 59), (u(2026, 3, 1), u(2026, 3, 31, 23))),
    ("Month", "Calendar", u(2026, 3, 31, 23), (u(2026, 3, 31, 23), u(2026, 4, 30, 23))),
    ("Half-year", "Calendar", u(2026, 6, 30, 22, 59), (u(2026, 1, 1), u(2026, 6, 30, 23))),
    ("Half-year", "Calendar", u(2026, 6, 30, 23), (u(2026, 6, 30, 23), u(2027, 1, 1))),
    ("Year", "Calendar", u(2026, 12, 31, 23, 59), (u(2026, 1, 1), u(2027, 1, 1))),
    ("Day", "Consent", u(2026, 3, 5, 14, 29), (ANCHOR, u(2026, 3, 5, 14, 30))),
    ("Day", "Consent", u(2026, 3, 3, 15), (u(2026, 3, 3, 14, 30), ANCHOR)),  # before the start
    ("Week", "Consent", u(2026, 3, 11, 14, 30), (u(2026, 3, 11, 14, 30), u(2026, 3, 18, 14, 30))),
    ("Fortnight", "Consent", u(2026, 3, 18, 14, 29), (ANCHOR, u(2026, 3, 18, 14, 30))),
    # The third fortnight starts at 14:30 in BST, 13:30 UTC.
    (
        "Fortnight",
        "Consent",
        u(2026, 4, 1, 13, 30),
        (u(2026, 4, 1, 13, 30), u(2026, 4, 15, 13, 30)),
    ),
    ("Month", "Consent", u(2026, 4, 4, 13, 29), (u(2026, 3, 4, 14, 30), u(2026, 4, 4, 13, 30))),
    ("Half-year", "Consent", u(2026, 9, 4, 13, 30), (u(2026, 9, 4, 13, 30), u(2027, 3, 4, 14, 30))),
    ("Year", "Consent", u(2027, 3, 4, 14, 29), (ANCHOR, u(2027, 3, 4, 14, 30))),
]


@pytest.mark.parametrize(("type_", "alignment", "at", "expected"), CASES)
def test_the_period_that_holds_an_instant(
    type_: str, alignment: str, at: dt.datetime, expected: tuple[dt.datetime, dt.datetime]
) -> None:
    anchor = ANCHOR
    found = period(type_, alignment, anchor, at)
    assert (found.start, found.end) == expected
    assert at in found
    # The last instant of the period is in it; the first of the next is not.
    assert found.end - TICK in found and found.end not in found
    assert period(type_, alignment, anchor, found.end).start == found.end
    assert period(type_, alignment, anchor, found.start - TICK).end == found.start


def test_a_consent_month_started_on_the_31st_clamps_without_drifting() -> None:
    anchor = london(2026, 1, 31, 9)
    starts = [london(2026, 1, 31, 9)]
    for _ in range(5):
        starts.append(period("Month", "Consent", anchor, starts[-1] + dt.timedelta(days=1)).end)
    assert [s.astimezone(ZONE).replace(tzinfo=None) for s in starts] == [
        dt.datetime(2026, 1, 31, 9), dt.datetime(2026, 2, 28, 9), dt.datetime(2026, 3, 31, 9),
        dt.datetime(2026, 4, 30, 9), dt.datetime(2026, 5, 31, 9), dt.datetime(2026, 6, 30, 9),
    ]  # fmt: skip
    # A leap year's February.
    leap = period("Month", "Consent", london(2024, 1, 31, 9), london(2024, 2, 15))
    assert leap.end == london(2024, 2, 29, 9)
    # A year from 29 February is 28 February, then 29 February again in the next leap year.
    year = period("Year", "Consent", london(2024, 2, 29, 9), london(2027, 6, 1))
    assert (year.start, year.end) == (london(2027, 2, 28, 9), london(2028, 2, 29, 9))


def test_calendar_days_are_23_and_25_hours_long_when_the_clocks_change() -> None:
    spring = period("Day", "Calendar", ANCHOR, utc(2026, 3, 29, 12))
    assert (spring.start, spring.end) == (utc(2026, 3, 29), utc(2026, 3, 29, 23))
    autumn = period("Day", "Calendar", ANCHOR, utc(2026, 10, 25, 12))
    assert (autumn.start, autumn.end) == (utc(2026, 10, 24, 23), utc(2026, 10, 26))
    # 00:30 UTC on 25 October is 01:30 BST, already that day in London.
    assert utc(2026, 10, 24, 23, 30) in autumn


def test_consent_boundaries_in_the_hours_the_clocks_skip_or_repeat() -> None:
    # 01:30 on 29 March 2026 does not exist in London: that day's period starts at 01:30 UTC
    # (02:30 BST), the instant 01:30 GMT would have been, and lasts 23 hours.
    skipped = period("Day", "Consent", london(2026, 3, 28, 1, 30), utc(2026, 3, 29, 12))
    assert (skipped.start, skipped.end) == (utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30))
    # 01:30 on 25 October 2026 happens twice: the period starts at the first and lasts 25 hours.
    repeated = period("Day", "Consent", london(2026, 10, 24, 1, 30), utc(2026, 10, 25, 12))
    assert (repeated.start, repeated.end) == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30))
    assert repeated.start == london(2026, 10, 25, 1, 30, fold=0).astimezone(UTC)
    assert london(2026, 10, 25, 1, 30, fold=1) in repeated  # the second 01:30
    # A consent that starts at the second 01:30 has its first period start then.
    second = london(2026, 10, 25, 1, 30, fold=1)
    first = period("Day", "Consent", second, second)
    assert (first.start, first.end) == (utc(2026, 10, 25, 1, 30), utc(2026, 10, 26, 1, 30))


def test_a_calendar_fortnight_and_unknown_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="Fortnight"):
        period("Fortnight", "Calendar", ANCHOR, ANCHOR)
    with pytest.raises(ValueError):
        period("Quarter", "Calendar", ANCHOR, ANCHOR)
    with pytest.raises(ValueError):
        period("Day", "Rolling", ANCHOR, ANCHOR)
    with pytest.raises(ValueError):
        period("Day", "Calendar", ANCHOR, dt.datetime(2026, 3, 4))


def test_a_period_describes_itself_in_london_time() -> None:
    found = Period(utc(2026, 3, 31, 23), utc(2026, 4, 30, 23))
    assert found.describe() == "2026-04-01T00:00:00+01:00 to 2026-05-01T00:00:00+01:00"
    assert "2026-04-01" not in found


KINDS = st.sampled_from(
    [(t, a) for t in PERIOD_TYPES for a in ("Consent", "Calendar")
     if (t, a) != ("Fortnight", "Calendar")]
)  # fmt: skip
INSTANTS = st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2035, 12, 31), timezones=st.just(UTC))
# The shortest and longest period of each type (a day may be 23 or 25 hours long).
HOUR = dt.timedelta(hours=1)
BOUNDS = {
    "Day": (dt.timedelta(days=1) - HOUR, dt.timedelta(days=1) + HOUR),
    "Week": (dt.timedelta(days=7) - HOUR, dt.timedelta(days=7) + HOUR),
    "Fortnight": (dt.timedelta(days=14) - HOUR, dt.timedelta(days=14) + HOUR),
    "Month": (dt.timedelta(days=28) - HOUR, dt.timedelta(days=31) + HOUR),
    "Half-year": (dt.timedelta(days=181) - HOUR, dt.timedelta(days=184) + HOUR),
    "Year": (dt.timedelta(days=365) - HOUR, dt.timedelta(days=366) + HOUR),
}


@given(KINDS, INSTANTS, INSTANTS)
def test_periods_hold_their_instant_and_follow_each_other(
    kind: tuple[str, str], anchor: dt.datetime, at: dt.datetime
) -> None:
    type_, alignment = kind
    found = period(type_, alignment, anchor, at)
    assert found.start <= at < found.end
    shortest, longest = BOUNDS[type_]
    assert shortest <= found.end - found.start <= longest
    assert period(type_, alignment, anchor, found.start) == found
    assert period(type_, alignment, anchor, found.end - TICK) == found
    assert period(type_, alignment, anchor, found.end).start == found.end
    if alignment == "Consent":
        assert period(type_, alignment, anchor, anchor).start == anchor
    else:
        assert found.start.astimezone(ZONE).time() == dt.time(0)
