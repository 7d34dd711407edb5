"""An in-memory foreign-exchange desk keeping :class:`gateway.core.fx.FxCore`, for service tests.

Beside :class:`gateway.core.memory.MemoryBank`: it reads that bank's clock, prices quotes with the
same functions as the sandbox (:func:`gateway.core.fx.price`), and keeps them in a dictionary.
Its rates do not move unless a test sets them (:attr:`MemoryFx.usd_values`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.core import fx
from gateway.core.fx_corridors import CORRIDORS, Corridor
from gateway.core.memory import MemoryBank
from gateway.core.payments import Payment, PaymentOrder

# Each currency's value in US dollars (round numbers, so that tests can check them by hand).
USD_VALUES = {
    "GBP": Decimal("1.25"), "EUR": Decimal("1.10"), "USD": Decimal("1"), "CNY": Decimal("0.14"),
    "JPY": Decimal("0.0065"), "HKD": Decimal("0.128"), "SGD": Decimal("0.75"),
    "CHF": Decimal("1.15"), "KWD": Decimal("3.25"), "BHD": Decimal("2.65"),
}  # fmt: skip


@dataclass
class MemoryFx:
    """Quotes over ``bank``'s clock, at fixed rates (one tenant: ``tenant`` is not looked at)."""

    bank: MemoryBank
    usd_values: dict[str, Decimal] = field(default_factory=lambda: dict(USD_VALUES))
    corridor_list: tuple[Corridor, ...] = CORRIDORS
    quotes: dict[str, fx.Quote] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def now(self, tenant: str) -> dt.datetime:
        """The bank's clock."""
        return self.bank.clock

    def mid_rates(self, tenant: str, unit_currency: str) -> Sequence[fx.MidRate]:
        """Every other currency against ``unit_currency``, at the bank's clock."""
        now = self.bank.clock
        return [
            fx.MidRate(
                unit_currency, quoted, fx.mid_rate(self.usd_values, unit_currency, quoted), now
            )
            for quoted in sorted(self.usd_values)
            if quoted != unit_currency
        ]

    def corridors(self, tenant: str) -> Sequence[Corridor]:
        """The corridors (the sandbox's own, unless a test hands others)."""
        return self.corridor_list

    def create_fx_quote(self, tenant: str, request: fx.QuoteRequest) -> fx.Quote:
        """Price and keep a quote."""
        corridor = fx.through_corridor(self.corridor_list, self.usd_values, request)
        mid = fx.mid_rate(self.usd_values, corridor.sell_currency, corridor.buy_currency)
        contract_id = f"fxq_{next(self._ids):024d}"
        quote = fx.price(corridor, mid, request, self.bank.clock, contract_id)
        self.quotes[contract_id] = quote
        return quote

    def pay_converted(self, tenant: str, order: PaymentOrder, contract_id: str) -> Payment:
        """Debit the quote's total as the memory bank pays (no journal is kept here)."""
        fx.check_order(order, self.fx_quote(tenant, contract_id))
        return self.bank.pay(tenant, order)

    def position(self, tenant: str) -> fx.Position:
        """No position: the memory bank keeps no journals."""
        return fx.valued({}, {}, {}, "GBP")

    def reconcile(self) -> fx.Reconciliation:
        """Nothing to reconcile: the memory bank keeps no journals."""
        return fx.Reconciliation(0, 0, ())

    def fx_quote(self, tenant: str, contract_id: str) -> fx.Quote:
        """A kept quote."""
        found = self.quotes.get(contract_id)
        if found is None:
            raise fx.not_found(contract_id)
        return found
