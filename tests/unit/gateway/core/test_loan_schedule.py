"""Instalment schedules: Apache Fineract's published vectors, and the properties every schedule
keeps whatever its inputs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import loan_schedule
from gateway.core.lending import Amortisation, DayCount

D = Decimal


def test_fineract_emi_vector_100_at_9_4822_percent_over_six_months_30_360() -> None:
    """Apache Fineract, fineract-progressive-loan/src/test/java/org/apache/fineract/portfolio/
    loanproduct/calc/ProgressiveEMICalculatorTest.java,
    ``testEMICalculation_disbursedAmt100_dayInYears360_daysInMonth30_repayEvery1Month``: 100
    disbursed on 2024-01-01 at 9.4822% a year, six monthly repayments from 2024-02-01, days in
    year 360 and in month 30. Its expected periods (EMI, interest, principal, balance):"""
    expected = [
        ("17.13", "0.79", "16.34", "83.66"),
        ("17.13", "0.66", "16.47", "67.19"),
        ("17.13", "0.53", "16.60", "50.59"),
        ("17.13", "0.40", "16.73", "33.86"),
        ("17.13", "0.27", "16.86", "17.00"),
        ("17.13", "0.13", "17.00", "0.00"),
    ]
    start = dt.date(2024, 1, 1)
    dates = loan_schedule.due_dates(dt.date(2024, 2, 1), 6, 1)
    rates = loan_schedule.periodic_rates(D("9.4822"), start, dates, DayCount.THIRTY_360)
    # Fineract's periodic rate for each of these periods: 0.007901833333.
    assert all(round(rate, 12) == D("0.007901833333") for rate in rates)
    schedule = loan_schedule.build(D("100.00"), rates, dates, Amortisation.EQUAL_INSTALMENTS, 2)
    got = [(f"{i.amount}", f"{i.interest}", f"{i.principal}", f"{i.balance}") for i in schedule]
    assert got == expected
    assert [i.due_date for i in schedule] == [dt.date(2024, m, 1) for m in range(2, 8)]


def test_equal_principal_repays_the_same_principal_each_period() -> None:
    dates = loan_schedule.due_dates(dt.date(2026, 2, 1), 4, 1)
    rates = loan_schedule.periodic_rates(D(12), dt.date(2026, 1, 1), dates, DayCount.THIRTY_360)
    schedule = loan_schedule.build(D("1000.00"), rates, dates, Amortisation.EQUAL_PRINCIPAL, 2)
    assert [i.principal for i in schedule] == [D("250.00")] * 4
    assert [i.interest for i in schedule] == [D("10.00"), D("7.50"), D("5.00"), D("2.50")]
    assert [i.amount for i in schedule] == [D("260.00"), D("257.50"), D("255.00"), D("252.50")]


def test_day_counts() -> None:
    """30E/360 counts 31 January to 28 February as 28 days, 1 to 31 March as 29; Actual/365
    counts calendar days."""
    fraction = loan_schedule.year_fraction
    assert fraction(dt.date(2026, 1, 31), dt.date(2026, 2, 28), DayCount.THIRTY_360) == D(28) / 360
    assert fraction(dt.date(2026, 3, 1), dt.date(2026, 3, 31), DayCount.THIRTY_360) == D(29) / 360
    assert fraction(dt.date(2026, 1, 1), dt.date(2026, 2, 1), DayCount.THIRTY_360) == D(30) / 360
    assert fraction(dt.date(2026, 1, 1), dt.date(2026, 2, 1), DayCount.ACTUAL_365) == D(31) / 365


def test_due_dates_keep_their_day_through_short_months() -> None:
    dates = loan_schedule.due_dates(dt.date(2026, 1, 31), 4, 1)
    assert dates == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31),
                     dt.date(2026, 4, 30)]  # fmt: skip


def test_a_schedule_needs_a_rate_for_each_date() -> None:
    import pytest

    with pytest.raises(ValueError, match="one rate per due date"):
        loan_schedule.build(D(1), [], [], Amortisation.EQUAL_INSTALMENTS, 2)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Decimal, list[Decimal], list[dt.date], Amortisation, int]:
    exponent = draw(st.sampled_from([0, 2, 3]))
    months = draw(st.sampled_from([1, 3]))
    count = draw(st.integers(min_value=1, max_value=72 // months))  # up to six years
    # At least 1000 minor units an instalment (every product's minimum is above it), so that
    # the roundings, compounded, cannot repay the loan before its last instalment.
    minor = draw(st.integers(min_value=1000 * count, max_value=10**9))
    principal = D(minor).scaleb(-exponent)
    rate = D(draw(st.integers(min_value=0, max_value=4000))) / 100  # 0% to 40% a year
    start = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 1, 1)))
    first = start + dt.timedelta(days=draw(st.integers(min_value=1, max_value=120)))
    dates = loan_schedule.due_dates(first, count, months)
    day_count = draw(st.sampled_from(list(DayCount)))
    rates = loan_schedule.periodic_rates(rate, start, dates, day_count)
    return principal, rates, dates, draw(st.sampled_from(list(Amortisation))), exponent


@settings(max_examples=300, deadline=None)
@given(schedules())
def test_schedule_properties(
    case: tuple[Decimal, list[Decimal], list[dt.date], Amortisation, int],
) -> None:
    """Principal parts sum to the principal, the balance reaches zero, each period's interest is
    the opening balance at the periodic rate (to the minor unit), every amount is its parts."""
    principal, rates, dates, amortisation, exponent = case
    schedule = loan_schedule.build(principal, rates, dates, amortisation, exponent)
    assert sum(i.principal for i in schedule) == principal
    assert schedule[-1].balance == 0
    opening = principal
    for instalment, rate in zip(schedule, rates, strict=True):
        with localcontext() as context:
            context.prec = 40
            expected = loan_schedule.round_minor(opening * rate, exponent)
        assert instalment.interest == expected
        assert instalment.periodic_rate == rate
        assert instalment.amount == instalment.principal + instalment.interest + instalment.fees
        assert instalment.principal >= 0
        assert instalment.balance == opening - instalment.principal >= 0
        assert instalment.amount.as_tuple().exponent == -exponent
        opening = instalment.balance
    if amortisation is Amortisation.EQUAL_INSTALMENTS:
        # Every instalment but the last is the same; the last absorbs the rounding. A first one
        # whose interest alone passes it (a long first period at a high rate) pays that interest.
        level = {i.amount for i in schedule[:-1] if i.principal > 0}
        assert len(level) <= 1
        assert all(i.amount == i.interest >= max(level, default=0) for i in schedule[:-1]
                   if i.principal == 0)  # fmt: skip
        assert all(i.principal > 0 for i in schedule[1:])
        if level and len(schedule) > 1:
            # The last is the level one give or take the roundings: at most a minor unit a
            # period, each grown by the interest charged on it since.
            growth = D(1)
            for rate in rates:
                growth *= 1 + rate
            bound = D(len(schedule)).scaleb(-exponent) * growth
            assert abs(schedule[-1].amount - max(level)) <= bound
    else:
        assert len({i.principal for i in schedule[:-1]}) <= 1
