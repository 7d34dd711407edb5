"""Currencies and amounts: integers in minor units inside, ``Decimal`` at the edges.

Exponents follow ISO 4217. Conversions refuse amounts with more decimal places than the currency
has instead of rounding them away silently.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.core import InvalidInstruction, Money

# ISO 4217 minor-unit exponents of the currencies the sandbox bank keeps accounts in or pays in.
EXPONENTS: dict[str, int] = {
    "GBP": 2,
    "EUR": 2,
    "USD": 2,
    "CNY": 2,
    "HKD": 2,
    "CHF": 2,
    "JPY": 0,
}

_QUANTA = {code: Decimal(1).scaleb(-exp) for code, exp in EXPONENTS.items()}


def exponent(currency: str) -> int:
    """Return the ISO 4217 exponent of ``currency``; unknown currencies are refused."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise InvalidInstruction(f"unsupported currency {currency!r}") from None


def to_minor(amount: Decimal, currency: str) -> int:
    """Convert a decimal amount to minor units, refusing more precision than the currency has."""
    exp = exponent(currency)
    scaled = amount.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise InvalidInstruction(f"{amount} has more than {exp} decimal places for {currency}")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Money:
    """Return ``minor`` units of ``currency`` as :class:`Money` with the currency's exponent."""
    return Money(Decimal(minor).scaleb(-exponent(currency)).quantize(_QUANTA[currency]), currency)


def format_amount(money: Money) -> str:
    """Render an absolute amount the way OBIE's ``ActiveOrHistoricCurrencyAndAmount`` wants it."""
    return f"{abs(money.amount):f}"
