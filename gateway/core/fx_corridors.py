"""The corridors a bank pays through: a currency pair, the countries it reaches, its limits, the
cut-off in its own time zone, and its settlement days on both currencies' calendars.

The expected settlement date (:meth:`Corridor.settlement_date`): the trade date is the day the
instruction arrives, in the corridor's time zone, when that is a business day and the time is
before the cut-off; otherwise the next business day. Settlement is ``settlement_days`` business
days after the trade date. A business day is one that is neither a weekend day nor a holiday of
either currency's calendar (the ``holidays`` library: England and Wales for GBP, the TARGET2
calendar of the ECB for EUR, the Federal Reserve's for USD, the country's for the others; Kuwait
and Bahrain rest on Friday and Saturday).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays

from gateway.core.money import Money

# How far ahead a business day is searched for before a calendar is taken to have none.
_SEARCH_DAYS = 60


@functools.cache
def calendar(currency: str) -> holidays.HolidayBase:
    """The ``holidays`` calendar a currency settles on."""
    if currency == "GBP":
        return holidays.country_holidays("GB", subdiv="ENG")
    if currency == "EUR":
        return holidays.financial_holidays("ECB")
    if currency == "USD":
        return holidays.financial_holidays("XFED")
    return holidays.country_holidays(CURRENCY_COUNTRY[currency])


CURRENCY_COUNTRY = {
    "CNY": "CN", "JPY": "JP", "HKD": "HK", "SGD": "SG", "CHF": "CH", "KWD": "KW", "BHD": "BH",
}  # fmt: skip


def business_day(day: dt.date, currencies: tuple[str, ...]) -> bool:
    """Whether both markets settle on ``day``: no weekend day, no holiday of either calendar."""
    for currency in currencies:
        cal = calendar(currency)
        if day.weekday() in cal.weekend or day in cal:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Corridor:
    """One way the bank converts and pays: ``sell_currency`` out, ``buy_currency`` in."""

    id: str
    sell_currency: str
    buy_currency: str
    source_country: str
    destination_countries: tuple[str, ...]
    min_amount: Money
    max_amount: Money
    cutoff: dt.time
    zone: str
    settlement_days: int
    spread_bps: int
    fee: Money

    @property
    def currencies(self) -> tuple[str, str]:
        """The pair, sell first."""
        return self.sell_currency, self.buy_currency

    def trade_date(self, at: dt.datetime) -> dt.date:
        """The business day an instruction arriving at ``at`` (aware) is traded on."""
        local = at.astimezone(ZoneInfo(self.zone))
        day = local.date()
        if business_day(day, self.currencies) and local.time() < self.cutoff:
            return day
        return self._next_business_day(day)

    def settlement_date(self, at: dt.datetime) -> dt.date:
        """The expected settlement date of an instruction arriving at ``at`` (aware)."""
        day = self.trade_date(at)
        for _ in range(self.settlement_days):
            day = self._next_business_day(day)
        return day

    def _next_business_day(self, day: dt.date) -> dt.date:
        for offset in range(1, _SEARCH_DAYS):
            candidate = day + dt.timedelta(days=offset)
            if business_day(candidate, self.currencies):
                return candidate
        raise ValueError(f"no business day within {_SEARCH_DAYS} days of {day}")


def _gbp_to(
    buy: str, countries: tuple[str, ...], zone: str, cutoff: int, days: int, spread: int,
    max_amount: str = "50000.00",
) -> Corridor:  # fmt: skip
    return Corridor(
        id=f"GBP-{buy}", sell_currency="GBP", buy_currency=buy, source_country="GB",
        destination_countries=countries, min_amount=Money(Decimal("1.00"), "GBP"),
        max_amount=Money(Decimal(max_amount), "GBP"), cutoff=dt.time(cutoff), zone=zone,
        settlement_days=days, spread_bps=spread, fee=Money(Decimal("2.50"), "GBP"),
    )  # fmt: skip


EUROZONE = ("AT", "BE", "DE", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PT")
# The sandbox bank's corridors: from its customers' pound accounts to each currency it converts.
CORRIDORS: tuple[Corridor, ...] = (
    _gbp_to("EUR", EUROZONE, "Europe/Brussels", 16, 1, 40),
    _gbp_to("USD", ("US",), "America/New_York", 17, 1, 40),
    _gbp_to("CHF", ("CH", "LI"), "Europe/Zurich", 16, 1, 60),
    _gbp_to("CNY", ("CN",), "Asia/Shanghai", 16, 2, 120),
    _gbp_to("JPY", ("JP",), "Asia/Tokyo", 15, 2, 80),
    _gbp_to("HKD", ("HK",), "Asia/Hong_Kong", 16, 2, 80),
    _gbp_to("SGD", ("SG",), "Asia/Singapore", 16, 2, 80),
    _gbp_to("KWD", ("KW",), "Asia/Kuwait", 13, 2, 150, "20000.00"),
    _gbp_to("BHD", ("BH",), "Asia/Bahrain", 13, 2, 150, "20000.00"),
)
BY_ID = {corridor.id: corridor for corridor in CORRIDORS}


def find(
    corridors: tuple[Corridor, ...], sell: str, buy: str, country: str | None
) -> Corridor | None:
    """The corridor for the pair that reaches ``country`` (any country when ``None``)."""
    for corridor in corridors:
        if corridor.currencies == (sell, buy) and (
            country is None or country in corridor.destination_countries
        ):
            return corridor
    return None
