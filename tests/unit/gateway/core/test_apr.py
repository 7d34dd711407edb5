"""The APR of Directive 2008/48/EC Annex I (CONC App 1.1), against the worked examples published
for the Annex's equation.

The examples are those of Annex III, "Examples of calculation", of Directive 98/7/EC (amending
Directive 87/102/EEC), part A, "calculation of the annual percentage rate of charge on a
calendar basis (1 year = 365 days (or 366 days for leap years))": the same basic equation that
Annex I of Directive 2008/48/EC and CONC App 1.1 carry forward.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gateway.core import apr

D = Decimal
_546_DAYS = D(546) / D(365)  # 1 January 1994 to 1 July 1995 (365 + 181 days)


def test_first_example_a_single_repayment() -> None:
    """ECU 1 000 lent on 1 January 1994, repaid by ECU 1 200 on 1 July 1995: "rounded to 13 %
    (or 12,96 % if an accuracy of two decimal places is preferred)"."""
    lent, paid = [(D(1000), D(0))], [(D(1200), _546_DAYS)]
    assert round(apr.root(lent, paid) * 100, 2) == 12.96
    assert apr.solve(lent, paid) == D("13.0")


def test_second_example_a_fee_retained_by_the_creditor() -> None:
    """The same loan, but the creditor retains ECU 50 for administrative expenses, so that the
    loan is in fact ECU 950: "rounded to 16,9 %". The fee counts: the APR rises."""
    assert apr.solve([(D(950), D(0))], [(D(1200), _546_DAYS)]) == D("16.9")


def test_third_example_two_annual_repayments() -> None:
    """ECU 1 000 repaid by ECU 600 after one year and after two: "i = 0,1306623 rounded to
    13,1 % (or 13,07 %...)"."""
    lent, paid = [(D(1000), D(0))], [(D(600), D(1)), (D(600), D(2))]
    assert apr.root(lent, paid) == pytest.approx(0.1306623, abs=1e-7)
    assert apr.solve(lent, paid) == D("13.1")


def test_a_loan_without_charges_has_the_effective_rate_of_its_nominal_rate() -> None:
    """100 repaid by 112 a year later: 12.0 exactly, the rounding confirmed at the boundary."""
    assert apr.solve([(D(100), D(0))], [(D(112), D(1))]) == D("12.0")


def test_rounding_goes_up_at_five() -> None:
    """Annex I, I(d): "If the figure at the following decimal place is greater than or equal to
    5, the figure at that particular decimal place shall be increased by one": 12.05% is 12.1."""
    assert apr.solve([(D(100), D(0))], [(D("112.05"), D(1))]) == D("12.1")
    assert apr.solve([(D(100), D(0))], [(D("112.0499"), D(1))]) == D("12.0")


def test_a_zero_cost_loan_has_a_zero_apr() -> None:
    assert apr.solve([(D(100), D(0))], [(D(50), D("0.5")), (D(50), D(1))]) == D("0.0")


def test_time_is_whole_months_as_twelfths_and_days_over_365() -> None:
    """Annex I, I(c): 12 equal months to the year, days left over out of 365."""
    start = dt.date(2026, 1, 31)

    def years(a: dt.date, b: dt.date, expected: Decimal) -> bool:
        return abs(apr.years_between(a, b) - expected) < D("1e-25")

    assert years(start, dt.date(2026, 2, 28), D(1) / 12)  # a whole (short) month
    assert years(start, dt.date(2027, 1, 31), D(1))
    assert years(dt.date(2026, 1, 1), dt.date(2026, 2, 11), D(1) / 12 + D(10) / 365)
    assert not years(dt.date(2026, 1, 1), dt.date(2026, 2, 11), D(41) / 365)
    with pytest.raises(ValueError, match="before the first drawdown"):
        apr.years_between(start, dt.date(2026, 1, 30))


def test_without_a_drawdown_or_a_repayment_there_is_no_apr() -> None:
    with pytest.raises(ValueError, match="needs a drawdown"):
        apr.solve([], [(D(1), D(1))])
    with pytest.raises(ValueError, match="needs a drawdown"):
        apr.solve([(D(1), D(0))], [])
