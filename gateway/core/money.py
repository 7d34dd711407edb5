"""Amounts: :class:`Money` is a ``Decimal`` quantised to its currency's ISO 4217 exponent.

Every amount that crosses a bank-core contract is a :class:`Money`; conversions refuse more
decimal places than the currency has instead of rounding them away silently. Banks keep amounts in
integer minor units (:func:`to_minor`, :func:`from_minor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.core.errors import InvalidInstruction

# ISO 4217 minor-unit exponents of the currencies the gateway handles.
EXPONENTS: dict[str, int] = {
    "GBP": 2,
    "EUR": 2,
    "USD": 2,
    "CNY": 2,
    "HKD": 2,
    "SGD": 2,
    "CHF": 2,
    "JPY": 0,
    "KWD": 3,
    "BHD": 3,
}

_QUANTA = {code: Decimal(1).scaleb(-exp) for code, exp in EXPONENTS.items()}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency; ``amount`` is quantised to the currency's exponent."""

    amount: Decimal
    currency: str


def exponent(currency: str) -> int:
    """Return the ISO 4217 exponent of ``currency``; :class:`InvalidInstruction` if unknown."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise InvalidInstruction(f"unsupported currency {currency!r}") from None


def to_minor(amount: Decimal, currency: str) -> int:
    """Convert a decimal amount to minor units; :class:`InvalidInstruction` for more precision
    than the currency has."""
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
