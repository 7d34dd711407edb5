"""The foreign-exchange contract: mid rates, corridors, quotes and their locks.

A bank core that converts currencies keeps :class:`FxCore`: it publishes mid rates on its clock,
the corridors it pays through (:mod:`gateway.core.fx_corridors`), and quotes (:class:`Quote`)
identified by a contract id that an international payment cites. How a quote is priced is the
same everywhere, so it lives here as plain functions (:func:`price`), which the sandbox's rate
feed and the in-memory double both call.

Rounding (the same in the quote, the consent, the payment and the ledger):

* a rate is kept to :data:`RATE_DIGITS` significant digits; the mid rate rounds half-even, the
  customer's rate (the mid less the corridor's spread) rounds down;
* with the sell amount fixed, the amount received is the sell amount times the customer's rate,
  rounded down to the buy currency's minor unit;
* with the buy amount fixed, the sell amount is the buy amount divided by the rate, rounded up to
  the sell currency's minor unit (so that the sell amount converted gives at least the buy
  amount);
* the fee is a fixed amount of the sell currency; the total debited is the sell amount plus it.

Every amount is :class:`gateway.core.money.Money` in its currency's ISO 4217 exponent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Literal, Protocol

from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.fx_corridors import Corridor, find
from gateway.core.money import Money, exponent
from gateway.core.payments import Payment, PaymentOrder

Lock = Literal["None", "PT5M", "PT1H", "PT24H"]
# How long each lock holds the rate (ISO 8601 durations; "None" is an indicative quote).
LOCKS: dict[str, dt.timedelta | None] = {
    "None": None,
    "PT5M": dt.timedelta(minutes=5),
    "PT1H": dt.timedelta(hours=1),
    "PT24H": dt.timedelta(hours=24),
}
RATE_DIGITS = 8
RateType = Literal["Agreed", "Indicative"]
FixedSide = Literal["Sell", "Buy"]


class UnsupportedCurrency(InvalidInstruction):
    """A currency the bank does not convert (OBIE ``U023`` UK.OBIE.Unsupported.Currency)."""

    def __init__(self, currency: str) -> None:
        super().__init__(f"the bank does not convert {currency}")
        self.currency = currency


class UnsupportedCorridor(InvalidInstruction):
    """No corridor of the bank pays this pair to this country."""


class OutsideLimits(InvalidInstruction):
    """The amount is below the corridor's minimum or above its maximum."""


class QuoteExpired(InvalidInstruction):
    """The quote's lock ended (on the bank's clock), or it never locked (indicative)."""


@dataclass(frozen=True, slots=True)
class MidRate:
    """1 ``unit_currency`` = ``rate`` ``quoted_currency``, as of ``at`` on the bank's clock."""

    unit_currency: str
    quoted_currency: str
    rate: Decimal
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """What a partner asks to convert: exactly one of ``sell_amount`` and ``buy_amount``."""

    sell_currency: str
    buy_currency: str
    sell_amount: Decimal | None
    buy_amount: Decimal | None
    lock: str = "None"
    destination_country: str | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced conversion. ``rate`` is the customer's rate (1 sell = ``rate`` buy)."""

    contract_id: str
    corridor_id: str
    fixed_side: FixedSide
    mid_rate: Decimal
    rate: Decimal
    spread_bps: int
    fee: Money
    sell_amount: Money
    total_debited: Money
    buy_amount: Money
    lock: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    settlement_date: dt.date
    # The instruction or payment that executed on the quote (an agreed quote serves one).
    used_by: str | None = None

    @property
    def rate_type(self) -> RateType:
        """Agreed when the quote locks its rate, Indicative otherwise."""
        return "Indicative" if self.expires_at is None else "Agreed"

    def locked_at(self, now: dt.datetime) -> bool:
        """Whether the rate is still locked at ``now`` (the lock ends at ``expires_at``)."""
        return self.expires_at is not None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What a reconciliation checked (FX journals, nostro accounts) and every break it found."""

    journals: int
    nostros: int
    breaks: tuple[str, ...]
    # The conversions kept beside the journals, each checked against its journal and rate.
    conversions: int = 0


@dataclass(frozen=True, slots=True)
class Position:
    """A tenant's FX desk: its position per currency (positive: a credit, the currencies bought;
    negative: those sold), fee income, and the profit and loss in ``pnl.currency`` with the
    position valued at the mid rates now (half-even to the minor unit)."""

    positions: tuple[Money, ...]
    fees: tuple[Money, ...]
    pnl: Money


class FxCore(Protocol):
    """What the gateway asks of a bank that converts currencies; errors are
    :class:`gateway.core.errors.BankCoreError` subclasses."""

    def now(self, tenant: str) -> dt.datetime:
        """The bank's clock for ``tenant`` (quotes are made and expire on it)."""

    def mid_rates(self, tenant: str, unit_currency: str) -> Sequence[MidRate]:
        """The mid rate of every supported currency against ``unit_currency`` now.

        :class:`UnsupportedCurrency` for a currency the bank does not convert."""

    def corridors(self, tenant: str) -> Sequence[Corridor]:
        """The corridors the bank pays through."""

    def create_fx_quote(self, tenant: str, request: QuoteRequest) -> Quote:
        """Price ``request`` at the current mid rate and keep the quote.

        :class:`UnsupportedCurrency`, :class:`UnsupportedCorridor`, :class:`OutsideLimits`, or
        :class:`InvalidInstruction` (an unknown lock, both or neither amount, too many decimal
        places, a non-positive amount)."""

    def fx_quote(self, tenant: str, contract_id: str) -> Quote:
        """A quote kept by :meth:`create_fx_quote`; :class:`UnknownResource` otherwise."""

    def pay_converted(self, tenant: str, order: PaymentOrder, contract_id: str) -> Payment:
        """Book ``order`` (its amount: the quote's total debited, in the debtor account's
        currency) converted as quote ``contract_id`` states, as one journal balanced per
        currency; the caller has checked that the quote may be used now.

        :class:`UnknownResource` (quote, account), :class:`InvalidInstruction` (the amount is
        not the quote's total, the account is not in its sell currency),
        :class:`gateway.core.errors.InsufficientFunds`; nothing is booked on any of them."""

    def position(self, tenant: str) -> Position:
        """The tenant's FX position, fee income and profit and loss in pounds."""

    def reconcile(self) -> Reconciliation:
        """Prove the books (every tenant): each FX journal balances per currency, and each
        nostro account's balance is the sum of its postings."""


def significant(value: Decimal, rounding: str) -> Decimal:
    """``value`` to :data:`RATE_DIGITS` significant digits, rounded as ``rounding``."""
    if value <= 0:
        raise InvalidInstruction("a rate must be positive")
    return value.quantize(Decimal(1).scaleb(value.adjusted() - RATE_DIGITS + 1), rounding=rounding)


def customer_rate(mid: Decimal, spread_bps: int) -> Decimal:
    """The mid rate less ``spread_bps`` basis points, rounded down."""
    return significant(mid * (10_000 - spread_bps) / 10_000, ROUND_DOWN)


def quantum(currency: str) -> Decimal:
    """One minor unit of ``currency``."""
    return Decimal(1).scaleb(-exponent(currency))


def money(value: Decimal, currency: str) -> Money:
    """``value`` as :class:`Money`; :class:`InvalidInstruction` for more decimal places than the
    currency has (never rounded away silently)."""
    step = quantum(currency)
    if value != value.quantize(step, rounding=ROUND_DOWN):
        raise InvalidInstruction(
            f"{value} has more than {exponent(currency)} decimal places for {currency}"
        )
    return Money(value.quantize(step), currency)


def converted(sell: Money, rate: Decimal, buy_currency: str) -> Money:
    """What ``sell`` buys at ``rate``: rounded down to the buy currency's minor unit."""
    return Money((sell.amount * rate).quantize(quantum(buy_currency), ROUND_FLOOR), buy_currency)


def sell_needed(buy: Money, rate: Decimal, sell_currency: str) -> Money:
    """The least sell amount that buys ``buy`` at ``rate``: rounded up to its minor unit."""
    step = quantum(sell_currency)
    sell = Money((buy.amount / rate).quantize(step, ROUND_CEILING), sell_currency)
    while converted(sell, rate, buy.currency).amount < buy.amount:
        sell = Money(sell.amount + step, sell_currency)
    return sell


def check_request(request: QuoteRequest) -> None:
    """The rules of a quote request that need no corridor (:class:`InvalidInstruction`)."""
    if request.lock not in LOCKS:
        raise InvalidInstruction(f"the lock must be one of {', '.join(LOCKS)}")
    if (request.sell_amount is None) == (request.buy_amount is None):
        raise InvalidInstruction("exactly one of the sell amount and the buy amount is fixed")
    fixed = request.sell_amount if request.sell_amount is not None else request.buy_amount
    if fixed is not None and fixed <= 0:
        raise InvalidInstruction("the amount must be positive")
    if request.sell_currency == request.buy_currency:
        raise UnsupportedCorridor("the sell and buy currencies are the same")


def price(
    corridor: Corridor, mid: Decimal, request: QuoteRequest, now: dt.datetime, contract_id: str
) -> Quote:
    """Price ``request`` through ``corridor`` at ``mid`` (see the module's rounding rules).

    :class:`OutsideLimits` when the sell amount is outside the corridor's limits. The quote is
    made at ``now`` to the second (its lock ends on a whole second)."""
    check_request(request)
    now = now.replace(microsecond=0)
    rate = customer_rate(mid, corridor.spread_bps)
    if request.buy_amount is None:
        sell = money(request.sell_amount or Decimal(0), corridor.sell_currency)
        buy = converted(sell, rate, corridor.buy_currency)
        side: FixedSide = "Sell"
    else:
        buy = money(request.buy_amount, corridor.buy_currency)
        sell = sell_needed(buy, rate, corridor.sell_currency)
        side = "Buy"
    if not corridor.min_amount.amount <= sell.amount <= corridor.max_amount.amount:
        raise OutsideLimits(
            f"the sell amount must be between {corridor.min_amount.amount} and "
            f"{corridor.max_amount.amount} {corridor.sell_currency}"
        )
    if buy.amount <= 0:
        raise OutsideLimits(f"the amount converts to nothing in {corridor.buy_currency}")
    held = LOCKS[request.lock]
    fee = corridor.fee
    return Quote(
        contract_id=contract_id, corridor_id=corridor.id, fixed_side=side,
        mid_rate=mid, rate=rate, spread_bps=corridor.spread_bps, fee=fee, sell_amount=sell,
        total_debited=Money(sell.amount + fee.amount, sell.currency), buy_amount=buy,
        lock=request.lock, created_at=now, expires_at=None if held is None else now + held,
        settlement_date=corridor.settlement_date(now),
    )  # fmt: skip


def through_corridor(
    corridors: tuple[Corridor, ...], supported: Collection[str], request: QuoteRequest
) -> Corridor:
    """The corridor that carries ``request``: :class:`UnsupportedCurrency` for a currency the
    bank does not convert, :class:`UnsupportedCorridor` for a pair or country it does not pay."""
    check_request(request)
    for currency in (request.sell_currency, request.buy_currency):
        if currency not in supported:
            raise UnsupportedCurrency(currency)
    corridor = find(corridors, request.sell_currency, request.buy_currency,
                    request.destination_country)  # fmt: skip
    if corridor is None:
        where = f" to {request.destination_country}" if request.destination_country else ""
        raise UnsupportedCorridor(
            f"no corridor pays {request.sell_currency} to {request.buy_currency}{where}"
        )
    return corridor


def usable(quote: Quote, now: dt.datetime) -> Quote:
    """``quote`` if its rate is locked at ``now``; :class:`QuoteExpired` otherwise."""
    if quote.expires_at is None:
        raise QuoteExpired(f"quote {quote.contract_id} is indicative: it locks no rate")
    if not quote.locked_at(now):
        raise QuoteExpired(f"quote {quote.contract_id} expired at {quote.expires_at.isoformat()}")
    return quote


def mid_rate(usd_values: dict[str, Decimal], unit: str, quoted: str) -> Decimal:
    """1 ``unit`` in ``quoted``, from each currency's value in US dollars (half-even)."""
    for currency in (unit, quoted):
        if currency not in usd_values:
            raise UnsupportedCurrency(currency)
    return significant(usd_values[unit] / usd_values[quoted], ROUND_HALF_EVEN)


def check_order(order: PaymentOrder, quote: Quote) -> None:
    """:class:`InvalidInstruction` unless ``order`` debits exactly the quote's total."""
    if order.amount != quote.total_debited:
        raise InvalidInstruction(
            f"the order debits {order.amount.amount} {order.amount.currency}, the quote "
            f"{quote.total_debited.amount} {quote.total_debited.currency}"
        )


def valued(
    positions: dict[str, int], fees: dict[str, int], mids: dict[str, Decimal], home: str
) -> Position:
    """A position from minor-unit sums per currency, valued in ``home`` at ``mids`` (1 ``home``
    = ``mids[currency]`` of each other currency)."""
    step = quantum(home)
    total = Decimal(0)
    held = []
    for currency, minor in sorted(positions.items()):
        amount = Decimal(minor).scaleb(-exponent(currency))
        held.append(Money(amount.quantize(quantum(currency)), currency))
        total += amount if currency == home else amount / mids[currency]
    earned = []
    for currency, minor in sorted(fees.items()):
        amount = Decimal(minor).scaleb(-exponent(currency))
        earned.append(Money(amount.quantize(quantum(currency)), currency))
        total += amount if currency == home else amount / mids[currency]
    pnl = Money(total.quantize(step, ROUND_HALF_EVEN), home)
    return Position(tuple(held), tuple(earned), pnl)


def not_found(contract_id: str) -> UnknownResource:
    """The error for a contract id no quote has."""
    return UnknownResource(f"no quote {contract_id}")
