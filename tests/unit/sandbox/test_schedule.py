"""Payment schedules in OBIE frequency codes."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.schedule import (
    SUPPORTED,
    UnsupportedFrequency,
    add_months,
    next_after,
    next_on_or_after,
    occurrence,
)

D = dt.date


def test_monthly_schedule_clamps_to_month_end_without_drifting() -> None:
    first = D(2024, 1, 31)
    assert [occurrence("MNTH", first, n) for n in range(5)] == [
        D(2024, 1, 31),
        D(2024, 2, 29),
        D(2024, 3, 31),
        D(2024, 4, 30),
        D(2024, 5, 31),
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("DAIL", D(2024, 3, 2)),
        ("WEEK", D(2024, 3, 8)),
        ("FRTN", D(2024, 3, 15)),
        ("FOWK", D(2024, 3, 29)),
        ("MNTH", D(2024, 4, 1)),
        ("ALMH", D(2024, 5, 1)),
        ("QURT", D(2024, 6, 1)),
        ("MIAN", D(2024, 9, 1)),
        ("YEAR", D(2025, 3, 1)),
    ],
)
def test_second_occurrence_of_each_interval(code: str, expected: dt.date) -> None:
    assert occurrence(code, D(2024, 3, 1), 1) == expected


def test_working_days_skip_weekends() -> None:
    friday = D(2024, 3, 1)
    assert next_after("WODL", friday, friday) == D(2024, 3, 4)
    assert next_on_or_after("WODL", friday, D(2024, 3, 2)) == D(2024, 3, 4)


@pytest.mark.parametrize("code", sorted(SUPPORTED - {"WODL"}))
def test_next_on_or_after_is_the_first_occurrence_not_before_the_day(code: str) -> None:
    first = D(2023, 11, 30)
    dates = [occurrence(code, first, n) for n in range(800)]
    for day in (D(2023, 11, 1), D(2023, 12, 31), D(2024, 2, 29), D(2024, 6, 15), dates[7]):
        expected = next(d for d in dates if d >= day)
        assert next_on_or_after(code, first, day) == expected
        assert next_after(code, first, day) == next(d for d in dates if d > day)


@pytest.mark.parametrize("code", ["ADHO", "INDA", "NONE", "EvryDay", ""])
def test_codes_without_a_schedule_are_refused(code: str) -> None:
    with pytest.raises(UnsupportedFrequency):
        next_after(code, D(2024, 1, 1), D(2024, 2, 1))


def test_add_months_crosses_years_both_ways() -> None:
    assert add_months(D(2024, 11, 30), 3) == D(2025, 2, 28)
    assert add_months(D(2024, 1, 15), -2) == D(2023, 11, 15)
