"""The annual percentage rate of charge, as Directive 2008/48/EC Annex I and FCA CONC App 1.1
define it.

Annex I, I: "The basic equation ... equates, on an annual basis, the total present value of
drawdowns on the one hand and the total present value of repayments and payments of charges on
the other hand": sum C_k (1 + X)^-t_k = sum D_l (1 + X)^-s_l, t and s in years from the first
drawdown. Remark (c): "A year is presumed to have 365 days (or 366 days for leap years), 52
weeks or 12 equal months"; so an interval is counted in whole months (twelfths of a year) and
the days left over (over 365). Remark (d): "The result of the calculation shall be expressed
with an accuracy of at least one decimal place. If the figure at the following decimal place is
greater than or equal to 5, the figure at that particular decimal place shall be increased by
one" (CONC App 1.1.6R(1) in the same words).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

from gateway.core.loan_schedule import add_months

PRECISION = 40
_ONE_DP = Decimal("0.1")
_HALF_STEP = Decimal("0.05")


def years_between(start: dt.date, end: dt.date) -> Decimal:
    """The interval from ``start`` to ``end`` in years (Annex I, I, remark (c)): its whole
    months as twelfths of a year, and the days left over as 365ths."""
    if end < start:
        raise ValueError("a cash flow before the first drawdown")
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and add_months(start, months) > end:
        months -= 1
    days = (end - add_months(start, months)).days
    with localcontext() as context:
        context.prec = PRECISION
        return Decimal(months) / 12 + Decimal(days) / 365


def net_present_value(
    rate: Decimal, drawdowns: Sequence[tuple[Decimal, Decimal]],
    repayments: Sequence[tuple[Decimal, Decimal]],
) -> Decimal:  # fmt: skip
    """sum D (1 + X)^-s - sum C (1 + X)^-t at ``rate`` X, for (amount, years) pairs."""
    with localcontext() as context:
        context.prec = PRECISION
        base = 1 + rate
        paid = sum((amount * base ** (-years) for amount, years in repayments), Decimal(0))
        lent = sum((amount * base ** (-years) for amount, years in drawdowns), Decimal(0))
        return paid - lent


def _npv_float(rate: float, drawdowns: Sequence[tuple[float, float]],
               repayments: Sequence[tuple[float, float]]) -> float:  # fmt: skip
    base = 1.0 + rate
    paid = sum(a * float(base**-t) for a, t in repayments)
    return paid - sum(a * float(base**-t) for a, t in drawdowns)


def root(
    drawdowns: Sequence[tuple[Decimal, Decimal]], repayments: Sequence[tuple[Decimal, Decimal]]
) -> float:
    """X of the basic equation as a fraction (not rounded), bracketed and bisected."""
    if not drawdowns or not repayments:
        raise ValueError("the APR needs a drawdown and a repayment")
    lent = [(float(a), float(t)) for a, t in drawdowns]
    paid = [(float(a), float(t)) for a, t in repayments]
    low, high = -0.99, 1.0
    while _npv_float(high, lent, paid) > 0:
        high *= 2
        if high > 1e9:
            raise ValueError("no APR below 1e11 %")
    for _ in range(200):
        middle = (low + high) / 2
        if _npv_float(middle, lent, paid) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def solve(
    drawdowns: Sequence[tuple[Decimal, Decimal]], repayments: Sequence[tuple[Decimal, Decimal]]
) -> Decimal:
    """The APR in percent, to one decimal place (half up), of credit ``drawdowns`` repaid by
    ``repayments``, each an (amount, years after the first drawdown) pair.

    The root is bracketed and bisected in floating point, then its rounding is confirmed in
    Decimal: X rounds to r exactly when the present value changes sign between r - 0.05% and
    r + 0.05% (it falls as the rate rises, the drawdown coming first)."""
    percent = Decimal(repr(root(drawdowns, repayments) * 100))
    percent = percent.quantize(_ONE_DP, rounding=ROUND_HALF_UP)
    # Confirm the rounding exactly: npv(r - 0.05%) >= 0 > npv(r + 0.05%).
    for _ in range(3):
        if net_present_value((percent - _HALF_STEP) / 100, drawdowns, repayments) < 0:
            percent -= _ONE_DP
        elif net_present_value((percent + _HALF_STEP) / 100, drawdowns, repayments) >= 0:
            percent += _ONE_DP
        else:
            break
    return percent
