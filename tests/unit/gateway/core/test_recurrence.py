"""The dates of a payment frequency: anchored on the first payment date, never drifting, paid on
the next working day; examples for every rule and the edge cases, then properties."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.frequency import parse
from gateway.core.recurrence import Schedule, day_in_month, month_index, weekday_in_month
from gateway.core.working_days import Weekdays

D = dt.date
# A fixed calendar: weekends and England's bank holidays of 2024, so no test depends on the
# holidays library's data.
HOLIDAYS_2024 = frozenset(
    {D(2024, 1, 1), D(2024, 3, 29), D(2024, 4, 1), D(2024, 5, 6), D(2024, 5, 27),
     D(2024, 8, 26), D(2024, 12, 25), D(2024, 12, 26)}
)  # fmt: skip
WORKING = Weekdays(HOLIDAYS_2024)


def schedule(type_: str, first: dt.date, point_in_time: str | None = None) -> Schedule:
    return Schedule.of(parse(type_, None, point_in_time), first, WORKING)


def dues(type_: str, first: dt.date, count: int, point: str | None = None) -> list[dt.date]:
    plan = schedule(type_, first, point)
    return [plan.due(n) for n in range(count)]


def test_monthly_from_the_31st_clamps_each_month_without_drifting() -> None:
    assert dues("MNTH", D(2024, 1, 31), 5) == [
        D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30), D(2024, 5, 31),
    ]  # fmt: skip
    assert dues("IntrvlMnthDay:01:31", D(2023, 1, 31), 3) == [
        D(2023, 1, 31), D(2023, 2, 28), D(2023, 3, 31),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("DAIL", D(2024, 3, 2)),
        ("EvryDay", D(2024, 3, 2)),
        ("IntrvlDay:10", D(2024, 3, 11)),
        ("WEEK", D(2024, 3, 8)),
        ("FRTN", D(2024, 3, 15)),
        ("FOWK", D(2024, 3, 29)),
        ("MNTH", D(2024, 4, 1)),
        ("ALMH", D(2024, 5, 1)),
        ("TWMH", D(2024, 5, 1)),
        ("QURT", D(2024, 6, 1)),
        ("FOMH", D(2024, 7, 1)),
        ("FIMH", D(2024, 8, 1)),
        ("MIAN", D(2024, 9, 1)),
        ("YEAR", D(2025, 3, 1)),
        ("IntrvlMnthDay:24:01", D(2026, 3, 1)),
    ],
)
def test_second_due_date_of_each_interval_from_the_first(type_: str, expected: dt.date) -> None:
    assert schedule(type_, D(2024, 3, 1)).due(1) == expected


def test_negative_days_count_from_the_months_end() -> None:
    first = D(2024, 1, 1)
    assert dues("IntrvlMnthDay:01:-01", first, 3) == [D(2024, 1, 31), D(2024, 2, 29),
                                                      D(2024, 3, 31)]  # fmt: skip
    assert dues("IntrvlMnthDay:01:-05", first, 3) == [D(2024, 1, 27), D(2024, 2, 25),
                                                      D(2024, 3, 27)]  # fmt: skip


def test_a_day_of_its_own_starts_on_or_after_the_first_payment_date() -> None:
    # Every other Wednesday, asked for from Friday 1 March 2024.
    assert dues("IntrvlWkDay:02:03", D(2024, 3, 1), 3) == [D(2024, 3, 6), D(2024, 3, 20),
                                                           D(2024, 4, 3)]  # fmt: skip
    # The 15th every third month, from the 20th: the next 15th starts the interval.
    assert dues("IntrvlMnthDay:03:15", D(2024, 1, 20), 3) == [D(2024, 2, 15), D(2024, 5, 15),
                                                              D(2024, 8, 15)]  # fmt: skip
    # A first payment date on the pattern is the first due date.
    assert schedule("IntrvlWkDay:01:05", D(2024, 3, 1)).due(0) == D(2024, 3, 1)


def test_week_five_is_the_last_such_weekday_of_every_month() -> None:
    # Mondays of 2024: five in January, April, July, September, December; four in the others.
    assert dues("WkInMnthDay:05:01", D(2024, 1, 1), 6) == [
        D(2024, 1, 29), D(2024, 2, 26), D(2024, 3, 25), D(2024, 4, 29), D(2024, 5, 27),
        D(2024, 6, 24),
    ]  # fmt: skip
    assert dues("WkInMnthDay:04:01", D(2024, 1, 1), 2) == [D(2024, 1, 22), D(2024, 2, 26)]
    assert dues("WkInMnthDay:01:07", D(2024, 1, 1), 2) == [D(2024, 1, 7), D(2024, 2, 4)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ENGLISH", [D(2024, 3, 25), D(2024, 6, 24), D(2024, 9, 29), D(2024, 12, 25),
                     D(2025, 3, 25)]),
        ("SCOTTISH", [D(2024, 5, 15), D(2024, 8, 1), D(2024, 11, 11), D(2025, 2, 2),
                      D(2025, 5, 15)]),
        ("RECEIVED", [D(2024, 3, 20), D(2024, 6, 19), D(2024, 9, 24), D(2024, 12, 20),
                      D(2025, 3, 20)]),
    ],
)  # fmt: skip
def test_quarter_days(name: str, expected: list[dt.date]) -> None:
    assert dues(f"QtrDay:{name}", D(2024, 3, 1), 5) == expected


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    # Thursday 28 March 2024, then Good Friday and Easter Monday.
    assert dues("EvryWorkgDay", D(2024, 3, 28), 3) == [D(2024, 3, 28), D(2024, 4, 2),
                                                      D(2024, 4, 3)]  # fmt: skip
    assert dues("WODL", D(2024, 3, 30), 1) == [D(2024, 4, 2)]


def test_a_payment_due_on_a_non_working_day_is_paid_on_the_next_working_day() -> None:
    plan = schedule("MNTH", D(2024, 3, 29))  # Good Friday
    assert plan.paid_on(plan.due(0)) == D(2024, 4, 2)  # after Easter Monday
    assert plan.paid_on(plan.due(1)) == D(2024, 4, 29)  # a Monday: no move
    # The move crosses a month's end; the next due date does not move with it.
    quarter = schedule("QtrDay:ENGLISH", D(2024, 9, 1))
    assert (quarter.due(0), quarter.paid_on(quarter.due(0))) == (D(2024, 9, 29), D(2024, 9, 30))
    assert quarter.paid_on(quarter.due(1)) == D(2024, 12, 27)  # Christmas, Boxing Day
    assert quarter.due(2) == D(2025, 3, 25)


def test_every_day_pays_the_weekend_on_monday() -> None:
    plan = schedule("DAIL", D(2024, 6, 7))  # a Friday
    paid = [plan.paid_on(due) for due in plan.due_dates(D(2024, 6, 10))]
    assert paid == [D(2024, 6, 7), D(2024, 6, 10), D(2024, 6, 10), D(2024, 6, 10)]


def test_next_on_or_after_and_next_after() -> None:
    plan = schedule("MNTH", D(2024, 1, 31))
    assert plan.next_on_or_after(D(2023, 1, 1)) == D(2024, 1, 31)
    assert plan.next_on_or_after(D(2024, 2, 29)) == D(2024, 2, 29)
    assert plan.next_after(D(2024, 2, 29)) == D(2024, 3, 31)
    assert plan.next_on_or_after(D(2034, 7, 1)) == D(2034, 7, 31)
    assert list(plan.due_dates(D(2024, 3, 30))) == [D(2024, 1, 31), D(2024, 2, 29)]
    with pytest.raises(ValueError):
        plan.due(-1)


def test_the_month_helpers() -> None:
    assert month_index(D(2024, 1, 5)) + 1 == month_index(D(2024, 2, 5))
    assert day_in_month(month_index(D(2023, 2, 1)), 30) == D(2023, 2, 28)
    assert day_in_month(month_index(D(2023, 2, 1)), -1) == D(2023, 2, 28)
    assert weekday_in_month(month_index(D(2024, 2, 1)), 5, 4) == D(2024, 2, 29)  # a fifth one


# Properties, over every schedulable kind of rule.

TYPES = st.sampled_from(
    ["DAIL", "WEEK", "FRTN", "FOWK", "WODL", "MNTH", "ALMH", "QURT", "FIMH", "MIAN", "YEAR",
     "EvryDay", "EvryWorkgDay"]
) | st.builds("IntrvlDay:{:02d}".format, st.integers(2, 31)) | st.builds(
    "IntrvlWkDay:{:02d}:{:02d}".format, st.integers(1, 9), st.integers(1, 7)
) | st.builds("WkInMnthDay:{:02d}:{:02d}".format, st.integers(1, 5), st.integers(1, 7)) | st.builds(
    "IntrvlMnthDay:{}:{}".format,
    st.sampled_from(["01", "02", "03", "04", "05", "06", "12", "24"]),
    st.sampled_from([f"{d:02d}" for d in range(1, 32)] + [f"-{d:02d}" for d in range(1, 6)]),
) | st.sampled_from(["QtrDay:ENGLISH", "QtrDay:SCOTTISH", "QtrDay:RECEIVED"])  # fmt: skip
FIRSTS = st.dates(D(2000, 1, 1), D(2090, 12, 31))
CALENDARS = st.builds(
    Weekdays, st.frozensets(st.dates(D(2000, 1, 1), D(2100, 12, 31)), max_size=300)
)


@given(TYPES, FIRSTS, CALENDARS)
def test_due_dates_increase_strictly_and_follow_each_other(
    type_: str, first: dt.date, working: Weekdays
) -> None:
    plan = Schedule.of(parse(type_), first, working)
    dates = [plan.due(n) for n in range(40)]
    assert dates[0] >= first
    assert all(a < b for a, b in itertools.pairwise(dates))
    # The n-th occurrence is the one reached by stepping with next_after n times.
    stepped = [dates[0]]
    for _ in range(39):
        stepped.append(plan.next_after(stepped[-1]))
    assert stepped == dates


@given(TYPES, FIRSTS, st.integers(0, 500), CALENDARS)
def test_next_on_or_after_is_the_first_due_date_not_before_the_day(
    type_: str, first: dt.date, days: int, working: Weekdays
) -> None:
    plan = Schedule.of(parse(type_), first, working)
    day = first + dt.timedelta(days=days)
    found = plan.next_on_or_after(day)
    assert found >= day
    earlier = [d for d in plan.due_dates(found) if d < found]
    assert not earlier or earlier[-1] < day


@given(st.sampled_from(["MNTH", "QURT", "MIAN", "YEAR"]), FIRSTS, st.integers(0, 300))
def test_monthly_codes_never_drift_from_the_first_payments_day(
    type_: str, first: dt.date, n: int
) -> None:
    months = {"MNTH": 1, "QURT": 3, "MIAN": 6, "YEAR": 12}[type_]
    due = schedule(type_, first).due(n)
    year, month = divmod(first.year * 12 + first.month - 1 + n * months, 12)
    assert (due.year, due.month) == (year, month + 1)
    assert due.day == min(first.day, calendar.monthrange(year, month + 1)[1])


@given(TYPES, FIRSTS, CALENDARS, st.integers(0, 60))
def test_a_due_date_is_paid_on_the_first_working_day_from_it(
    type_: str, first: dt.date, working: Weekdays, n: int
) -> None:
    plan = Schedule.of(parse(type_), first, working)
    due = plan.due(n)
    paid = plan.paid_on(due)
    assert paid >= due and working.is_working_day(paid)
    assert not any(
        working.is_working_day(due + dt.timedelta(days=k)) for k in range((paid - due).days)
    )
