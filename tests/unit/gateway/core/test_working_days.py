"""Working days: England's bank holidays (from the ``holidays`` library), a fixed calendar, and
the move of a payment due on a non-working day to the next working day."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.core.working_days import Weekdays, england, next_working_day

D = dt.date


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2026, 4, 3), "Good Friday"),
        (D(2026, 4, 6), "Easter Monday"),
        (D(2026, 5, 4), "May Day"),
        (D(2026, 8, 31), "Late Summer Bank Holiday"),
        (D(2026, 12, 28), "Boxing Day (observed)"),
        (D(2027, 12, 27), "Christmas Day (observed)"),
    ],
)
def test_englands_bank_holidays_are_not_working_days(day: dt.date, name: str) -> None:
    calendar = england()
    assert not calendar.is_working_day(day)
    assert calendar.name(day) == name


def test_englands_working_days_are_the_other_weekdays() -> None:
    calendar = england()
    assert calendar.is_working_day(D(2026, 3, 4))  # a Wednesday
    assert not calendar.is_working_day(D(2026, 3, 7))  # a Saturday
    assert calendar.name(D(2026, 3, 4)) is None
    # Scotland's 2 January and St Andrew's Day are not England's.
    assert calendar.is_working_day(D(2026, 1, 2)) and calendar.is_working_day(D(2026, 11, 30))


def test_next_working_day_moves_forward_over_weekends_and_holidays() -> None:
    calendar = Weekdays(frozenset({D(2026, 12, 25), D(2026, 12, 28)}))
    assert next_working_day(D(2026, 12, 24), calendar) == D(2026, 12, 24)
    assert next_working_day(D(2026, 12, 25), calendar) == D(2026, 12, 29)
    # Into the next month: a Saturday 31 October.
    assert next_working_day(D(2026, 10, 31), Weekdays()) == D(2026, 11, 2)


def test_a_calendar_without_working_days_is_refused() -> None:
    class Never:
        def is_working_day(self, day: dt.date) -> bool:
            return False

    with pytest.raises(ValueError):
        next_working_day(D(2026, 1, 1), Never())
