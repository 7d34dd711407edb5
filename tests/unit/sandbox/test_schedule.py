"""Standing-order frequencies in the sandbox: every code and pattern it schedules, on the dates of
``gateway.core.recurrence`` (whose own tests cover the rules), on the working days it is given."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.core.errors import InvalidInstruction
from gateway.core.working_days import Weekdays
from sandbox.schedule import (
    SUPPORTED,
    WORKING_DAYS,
    next_after,
    next_on_or_after,
    occurrence,
    schedule,
    supported,
)

D = dt.date
WEEKDAYS = Weekdays()


def test_the_supported_codes() -> None:
    assert sorted(SUPPORTED) == sorted(
        ["YEAR", "DAIL", "FRTN", "MNTH", "QURT", "MIAN", "WEEK", "WODL", "FOWK", "TWMH", "FOMH",
         "FIMH", "ALMH"]
    )  # fmt: skip
    assert all(supported(code) for code in SUPPORTED)


@pytest.mark.parametrize(
    "pattern",
    ["EvryDay", "EvryWorkgDay", "IntrvlDay:15", "IntrvlWkDay:02:05", "WkInMnthDay:05:01",
     "IntrvlMnthDay:01:-01", "IntrvlMnthDay:24:31", "QtrDay:SCOTTISH"],
)  # fmt: skip
def test_every_pattern_is_supported(pattern: str) -> None:
    assert supported(pattern)
    assert schedule(pattern, D(2026, 3, 4), WEEKDAYS).due(0) >= D(2026, 3, 4)


def test_monthly_schedule_clamps_to_month_end_without_drifting() -> None:
    first = D(2024, 1, 31)
    assert [occurrence("MNTH", first, n) for n in range(5)] == [
        D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30), D(2024, 5, 31),
    ]  # fmt: skip


@pytest.mark.parametrize("code", sorted(SUPPORTED - {"WODL"}))
def test_next_on_or_after_is_the_first_occurrence_not_before_the_day(code: str) -> None:
    first = D(2023, 11, 30)
    dates = [occurrence(code, first, n) for n in range(800)]
    for day in (D(2023, 11, 1), D(2023, 12, 31), D(2024, 2, 29), D(2024, 6, 15), dates[7]):
        expected = next(d for d in dates if d >= day)
        assert next_on_or_after(code, first, day) == expected
        assert next_after(code, first, day) == next(d for d in dates if d > day)


def test_working_days_follow_the_calendar_given() -> None:
    thursday = D(2026, 4, 2)  # before Good Friday and Easter Monday
    assert next_after("WODL", thursday, thursday, WEEKDAYS) == D(2026, 4, 3)
    assert next_after("WODL", thursday, thursday, WORKING_DAYS) == D(2026, 4, 7)  # England's
    assert next_after("WODL", thursday, thursday) == D(2026, 4, 7)  # the sandbox's by default


@pytest.mark.parametrize("code", ["ADHO", "INDA", "NONE", "NotKnown", "", "evryday", "MNTH "])
def test_frequencies_without_a_schedule_are_refused(code: str) -> None:
    assert not supported(code)
    with pytest.raises(InvalidInstruction):
        next_after(code, D(2024, 1, 1), D(2024, 2, 1))
