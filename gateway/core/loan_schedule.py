"""Instalment schedules in exact Decimal arithmetic.

A schedule repays ``principal`` at a fixed nominal annual rate over dated periods. Each
period's interest is the opening balance times the periodic rate (the nominal rate times the
period's day-count fraction), rounded to the currency's minor unit half to even (Decimal's
default, and Apache Fineract's); the principal part is what
the instalment leaves after interest. The last instalment repays whatever balance remains, so
it absorbs every rounding of the others and the balance ends at exactly zero.

* Equal instalments: the one instalment ``A`` that repays the principal over the actual
  periods, ``A = P * prod(1 + i_k) / sum_k prod_{j > k}(1 + i_j)`` (the annuity formula
  ``P * i / (1 - (1 + i)^-n)`` when every period is alike), rounded to the minor unit. Interest
  is never added to the balance: when a long first period's interest alone passes ``A``, the
  first instalment pays that interest only, and ``A`` repays the principal over the others.
* Equal principal: the principal divided evenly (rounded to the minor unit), interest on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

from gateway.core.lending import Amortisation, DayCount, Instalment
from gateway.core.recurrence import day_in_month, month_index

# Enough digits that no intermediate product loses a penny: rates and balances are exact to
# far fewer places than this.
PRECISION = 40
_ZERO = Decimal(0)


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` moved by whole calendar months, keeping its day of the month (clamped to the
    month's length: 31 January plus one month is 28 or 29 February)."""
    return day_in_month(month_index(start) + months, start.day)


def due_dates(first: dt.date, count: int, months: int) -> list[dt.date]:
    """``count`` due dates, ``months`` apart, the first on ``first`` (each counted from
    ``first``, so that a short month does not pull the later dates earlier)."""
    return [add_months(first, n * months) for n in range(count)]


def year_fraction(start: dt.date, end: dt.date, day_count: DayCount) -> Decimal:
    """The fraction of a year from ``start`` to ``end`` under ``day_count``.

    30E/360 (ISDA 2006 §4.16(g), "30E/360"): days are 360 * years + 30 * months + days, each date
    past the 30th counted as the 30th. Actual/365 Fixed (§4.16(d)): calendar days over 365.
    """
    if day_count is DayCount.THIRTY_360:
        d1, d2 = min(start.day, 30), min(end.day, 30)
        days = 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
        return Decimal(days) / Decimal(360)
    return Decimal((end - start).days) / Decimal(365)


def periodic_rates(
    rate: Decimal, start: dt.date, dates: Sequence[dt.date], day_count: DayCount
) -> list[Decimal]:
    """Each period's rate: the nominal annual ``rate`` (percent) times the day-count fraction of
    the period that ends on that date (the first starts on ``start``)."""
    with localcontext() as context:
        context.prec = PRECISION
        starts = [start, *dates[:-1]]
        periods = zip(starts, dates, strict=True)
        return [rate / 100 * year_fraction(a, b, day_count) for a, b in periods]


def round_minor(value: Decimal, exponent: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``value`` rounded to ``exponent`` decimal places (banker's rounding unless told)."""
    return value.quantize(Decimal(1).scaleb(-exponent), rounding=rounding)


def level_instalment(principal: Decimal, rates: Sequence[Decimal], exponent: int) -> Decimal:
    """The equal instalment that repays ``principal`` over periods at ``rates``, to the minor
    unit (half up)."""
    with localcontext() as context:
        context.prec = PRECISION
        growth = Decimal(1)
        annuity = _ZERO
        # Walk backwards: annuity = sum over k of prod_{j > k}(1 + i_j).
        for rate in reversed(rates):
            annuity += growth
            growth *= 1 + rate
        if annuity == 0:
            raise ValueError("a schedule needs at least one period")
        return round_minor(principal * growth / annuity, exponent, ROUND_HALF_UP)


def build(
    principal: Decimal,
    rates: Sequence[Decimal],
    dates: Sequence[dt.date],
    amortisation: Amortisation,
    exponent: int,
) -> tuple[Instalment, ...]:
    """The instalments repaying ``principal`` on ``dates`` at the periodic ``rates``."""
    count = len(dates)
    if count == 0 or count != len(rates):
        raise ValueError("one rate per due date, at least one")
    if amortisation is Amortisation.EQUAL_INSTALMENTS:
        level = level_instalment(principal, rates, exponent)
        with localcontext() as context:
            context.prec = PRECISION
            first_interest = round_minor(principal * rates[0], exponent)
        if count > 1 and first_interest >= level:
            # A first period so long that its interest alone passes the instalment: it pays
            # that interest only, and the level instalment repays the principal over the rest.
            level = level_instalment(principal, rates[1:], exponent)
    else:
        part = round_minor(principal / count, exponent, ROUND_HALF_UP)
    balance = principal
    instalments: list[Instalment] = []
    for number, (due, rate) in enumerate(zip(dates, rates, strict=True), start=1):
        with localcontext() as context:
            context.prec = PRECISION
            interest = round_minor(balance * rate, exponent)
        if number == count:
            repaid = balance  # the last instalment absorbs every rounding before it
        elif amortisation is Amortisation.EQUAL_INSTALMENTS:
            repaid = min(max(level - interest, _ZERO), balance)
        else:
            repaid = min(part, balance)
        balance -= repaid
        instalments.append(
            Instalment(
                number=number,
                due_date=due,
                amount=repaid + interest,
                principal=repaid,
                interest=interest,
                fees=round_minor(_ZERO, exponent),
                balance=balance,
                periodic_rate=rate,
            )
        )
    return tuple(instalments)
