"""Quotes priced by :func:`gateway.core.fx.price` (through the in-memory desk, whose rates are
fixed): each conversion recomputed by hand from the stated rate and the currencies' exponents,
the locks on the bank's clock, and a negative case for every rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gateway.core import fx
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.memory import MemoryBank
from gateway.core.memory_fx import MemoryFx
from gateway.core.money import Money


@pytest.fixture
def desk() -> MemoryFx:
    return MemoryFx(MemoryBank())


def ask(sell: str = "GBP", buy: str = "EUR", *, sell_amount: str | None = None,
        buy_amount: str | None = None, lock: str = "PT5M",
        country: str | None = None) -> fx.QuoteRequest:  # fmt: skip
    return fx.QuoteRequest(
        sell, buy, None if sell_amount is None else Decimal(sell_amount),
        None if buy_amount is None else Decimal(buy_amount), lock, country,
    )  # fmt: skip


def test_jpy_has_no_minor_unit_and_the_amount_received_rounds_down(desk: MemoryFx) -> None:
    quote = desk.create_fx_quote("t", ask("GBP", "JPY", sell_amount="100.00"))
    # 1.25 / 0.0065 = 192.307692307..., 8 significant digits half-even; less 80 bps, rounded down.
    assert quote.mid_rate == Decimal("192.30769")
    assert quote.rate == Decimal("190.76922")
    assert quote.buy_amount == Money(Decimal("19076"), "JPY")
    assert quote.fee == Money(Decimal("2.50"), "GBP")
    assert quote.total_debited == Money(Decimal("102.50"), "GBP")
    assert quote.spread_bps == 80 and quote.fixed_side == "Sell"


def test_kwd_has_three_decimal_places(desk: MemoryFx) -> None:
    quote = desk.create_fx_quote("t", ask("GBP", "KWD", sell_amount="100.00"))
    assert quote.mid_rate == Decimal("0.38461538")
    assert quote.rate == Decimal("0.37884614")
    assert quote.buy_amount == Money(Decimal("37.884"), "KWD")
    assert str(quote.buy_amount.amount) == "37.884"


def test_a_fixed_buy_amount_costs_the_least_sell_amount_that_buys_it(desk: MemoryFx) -> None:
    quote = desk.create_fx_quote("t", ask("GBP", "JPY", buy_amount="1000"))
    assert quote.fixed_side == "Buy"
    assert quote.buy_amount == Money(Decimal("1000"), "JPY")
    assert quote.sell_amount == Money(Decimal("5.25"), "GBP")
    assert fx.converted(quote.sell_amount, quote.rate, "JPY").amount >= Decimal("1000")
    one_less = Money(Decimal("5.24"), "GBP")
    assert fx.converted(one_less, quote.rate, "JPY").amount < Decimal("1000")


def test_every_lock_sets_the_expiry_on_the_bank_clock(desk: MemoryFx) -> None:
    now = desk.bank.clock
    for lock, held in (("PT5M", 5 * 60), ("PT1H", 3600), ("PT24H", 86400)):
        quote = desk.create_fx_quote("t", ask(sell_amount="10.00", lock=lock))
        assert quote.rate_type == "Agreed"
        assert quote.expires_at == now + dt.timedelta(seconds=held)
    indicative = desk.create_fx_quote("t", ask(sell_amount="10.00", lock="None"))
    assert indicative.expires_at is None and indicative.rate_type == "Indicative"


def test_a_locked_rate_holds_until_the_lock_ends_then_is_refused(desk: MemoryFx) -> None:
    quote = desk.create_fx_quote("t", ask(sell_amount="10.00", lock="PT5M"))
    assert fx.usable(quote, quote.created_at + dt.timedelta(minutes=4, seconds=59)) is quote
    desk.bank.advance(dt.timedelta(minutes=5))
    with pytest.raises(fx.QuoteExpired, match="expired"):
        fx.usable(desk.fx_quote("t", quote.contract_id), desk.bank.clock)


def test_an_indicative_quote_locks_nothing(desk: MemoryFx) -> None:
    quote = desk.create_fx_quote("t", ask(sell_amount="10.00", lock="None"))
    with pytest.raises(fx.QuoteExpired, match="indicative"):
        fx.usable(quote, quote.created_at)


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (ask("GBP", "XAU", sell_amount="10.00"), fx.UnsupportedCurrency),
        (ask("XXX", "EUR", sell_amount="10.00"), fx.UnsupportedCurrency),
        (ask("EUR", "USD", sell_amount="10.00"), fx.UnsupportedCorridor),
        (ask("GBP", "GBP", sell_amount="10.00"), fx.UnsupportedCorridor),
        (ask("GBP", "EUR", sell_amount="10.00", country="US"), fx.UnsupportedCorridor),
        (ask(sell_amount="0.99"), fx.OutsideLimits),
        (ask(sell_amount="50000.01"), fx.OutsideLimits),
        (ask("GBP", "JPY", buy_amount="1"), fx.OutsideLimits),
        (ask(sell_amount="1.234"), InvalidInstruction),
        (ask("GBP", "JPY", buy_amount="100.5"), InvalidInstruction),
        (ask("GBP", "KWD", buy_amount="1.0001"), InvalidInstruction),
        (ask(sell_amount="-5.00"), InvalidInstruction),
        (ask(sell_amount="10.00", buy_amount="10.00"), InvalidInstruction),
        (ask(), InvalidInstruction),
        (ask(sell_amount="10.00", lock="PT2H"), InvalidInstruction),
    ],
)
def test_requests_the_desk_refuses(
    desk: MemoryFx, request_: fx.QuoteRequest, error: type[Exception]
) -> None:
    with pytest.raises(error):
        desk.create_fx_quote("t", request_)
    assert desk.quotes == {}


def test_an_unknown_contract_id_is_unknown(desk: MemoryFx) -> None:
    with pytest.raises(UnknownResource):
        desk.fx_quote("t", "fxq_nope")


def test_mid_rates_are_against_the_unit_currency(desk: MemoryFx) -> None:
    rates = {r.quoted_currency: r.rate for r in desk.mid_rates("t", "GBP")}
    assert "GBP" not in rates
    assert rates["USD"] == Decimal("1.2500000")
    assert rates["JPY"] == Decimal("192.30769")
    with pytest.raises(fx.UnsupportedCurrency):
        desk.mid_rates("t", "XAU")
