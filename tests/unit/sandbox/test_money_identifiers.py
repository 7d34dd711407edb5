"""Amounts in minor units and bank identifiers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.errors import InvalidInstruction
from gateway.core.money import EXPONENTS, Money, format_amount, from_minor, to_minor
from sandbox.identifiers import iban_is_valid, luhn_check_digit, mask_pan, uk_iban


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(sorted(EXPONENTS)))
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    money = from_minor(minor, currency)
    assert money.currency == currency
    assert -money.amount.as_tuple().exponent == EXPONENTS[currency] or minor == 0
    assert to_minor(money.amount, currency) == minor


def test_amounts_carry_the_currency_exponent() -> None:
    assert from_minor(12345, "GBP") == Money(Decimal("123.45"), "GBP")
    assert str(from_minor(5, "GBP").amount) == "0.05"
    assert str(from_minor(500, "JPY").amount) == "500"
    assert format_amount(from_minor(-1000, "EUR")) == "10.00"


def test_more_precision_than_the_currency_has_is_refused_not_rounded() -> None:
    with pytest.raises(InvalidInstruction, match="decimal places"):
        to_minor(Decimal("1.005"), "GBP")
    with pytest.raises(InvalidInstruction):
        to_minor(Decimal("1.5"), "JPY")
    assert to_minor(Decimal("1.50"), "GBP") == 150


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidInstruction, match="XXX"):
        from_minor(1, "XXX")


def test_uk_iban_passes_mod97_and_embeds_sort_code_and_number() -> None:
    iban = uk_iban("601234", "12345678")
    assert iban.startswith("GB") and iban.endswith("60123412345678")
    assert iban_is_valid(iban)
    # One changed digit breaks the check.
    broken = iban[:-1] + str((int(iban[-1]) + 1) % 10)
    assert not iban_is_valid(broken)


def test_published_iban_examples() -> None:
    assert iban_is_valid("GB82 WEST 1234 5698 7654 32")
    assert iban_is_valid("DE89370400440532013000")
    assert not iban_is_valid("GB82WEST12345698765433")
    assert not iban_is_valid("nonsense")


def test_luhn_and_masking() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("400000000000000") == "2"
    assert mask_pan("4000001234567899") == "400000******7899"
