"""The sandbox's foreign-exchange desk (:class:`gateway.core.fx.FxCore`): its rate feed and the
quotes it keeps.

The feed is deterministic: each currency's value in US dollars is a base value moved, minute by
minute of the tenant's clock, by at most 0.2 % either way, the move drawn from a BLAKE2b digest of
the tenant's seed, the currency and the minute. The same seed and clock give the same rates; the
rates change as the clock moves. Quotes are priced by :func:`gateway.core.fx.price` through the
corridors of :mod:`gateway.core.fx_corridors`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from gateway.core import fx
from gateway.core.errors import InvalidInstruction
from gateway.core.fx_corridors import BY_ID, CORRIDORS, Corridor
from gateway.core.money import Money, from_minor, to_minor
from gateway.core.payments import Payment, PaymentOrder
from sandbox import fx_settlement, records
from sandbox import models as m
from sandbox.binding import Binding

# Each currency's value in US dollars before the feed moves it.
BASE_USD_VALUES = {
    "GBP": Decimal("1.27"), "EUR": Decimal("1.08"), "USD": Decimal("1"), "CNY": Decimal("0.138"),
    "JPY": Decimal("0.0066"), "HKD": Decimal("0.128"), "SGD": Decimal("0.745"),
    "CHF": Decimal("1.13"), "KWD": Decimal("3.25"), "BHD": Decimal("2.65"),
}  # fmt: skip
# The largest move of a currency's value, in millionths (0.2 %).
SWING_PPM = 2_000


def usd_values(seed: int, at: dt.datetime) -> dict[str, Decimal]:
    """Each currency's value in US dollars at ``at`` (aware) for a tenant of ``seed``."""
    minute = int(at.timestamp()) // 60
    values = {}
    for currency, base in BASE_USD_VALUES.items():
        if currency == "USD":
            values[currency] = base
            continue
        digest = hashlib.blake2b(f"{seed}:{currency}:{minute}".encode(), digest_size=8).digest()
        move = int.from_bytes(digest, "big") % (2 * SWING_PPM + 1) - SWING_PPM
        values[currency] = base * (1_000_000 + move) / 1_000_000
    return values


class SandboxFx(Binding):
    """What the FX quote API and international payments ask of the sandbox bank."""

    def _usd_values(self, tenant: str) -> tuple[dict[str, Decimal], dt.datetime]:
        now = self.now(tenant)
        return usd_values(self._tenant(tenant).seed, now), now

    def mid_rates(self, tenant: str, unit_currency: str) -> Sequence[fx.MidRate]:
        """Every other currency against ``unit_currency`` on the tenant's clock."""
        values, now = self._usd_values(tenant)
        return [
            fx.MidRate(unit_currency, quoted, fx.mid_rate(values, unit_currency, quoted), now)
            for quoted in sorted(values)
            if quoted != unit_currency
        ]

    def corridors(self, tenant: str) -> Sequence[Corridor]:
        """The sandbox bank's corridors."""
        return CORRIDORS

    def create_fx_quote(self, tenant: str, request: fx.QuoteRequest) -> fx.Quote:
        """Price ``request`` at the feed's mid rate now and keep the quote."""
        corridor = fx.through_corridor(CORRIDORS, BASE_USD_VALUES, request)
        values, now = self._usd_values(tenant)
        mid = fx.mid_rate(values, corridor.sell_currency, corridor.buy_currency)
        quote = fx.price(corridor, mid, request, now, f"fxq_{secrets.token_hex(12)}")
        sell, buy = quote.sell_amount, quote.buy_amount
        self.session.add(m.FxQuote(
            tenant_id=tenant, public_id=quote.contract_id, corridor_id=corridor.id,
            fixed_side=quote.fixed_side, mid_rate=str(quote.mid_rate), rate=str(quote.rate),
            spread_bps=quote.spread_bps, fee=to_minor(quote.fee.amount, quote.fee.currency),
            sell_amount=to_minor(sell.amount, sell.currency),
            buy_amount=to_minor(buy.amount, buy.currency), lock=quote.lock,
            created_at=quote.created_at,
            expires_at=quote.expires_at, settlement_date=quote.settlement_date,
        ))  # fmt: skip
        self.session.flush()
        return quote

    def fx_quote(self, tenant: str, contract_id: str) -> fx.Quote:
        """A quote this tenant was given; :class:`UnknownResource` otherwise."""
        self._offset(tenant)
        row = self.session.scalar(
            select(m.FxQuote).where(
                m.FxQuote.tenant_id == tenant, m.FxQuote.public_id == contract_id
            )
        )
        if row is None:
            raise fx.not_found(contract_id)
        return _quote(row)

    def pay_converted(self, tenant: str, order: PaymentOrder, contract_id: str) -> Payment:
        """Settle ``order`` as quote ``contract_id`` converts it (:mod:`sandbox.fx_settlement`)."""
        quote = self.fx_quote(tenant, contract_id)
        fx.check_order(order, quote)
        debtor, _owner = self._account_row(tenant, order.debtor_account_id)
        if debtor.currency != quote.sell_amount.currency:
            raise InvalidInstruction(f"the account is in {debtor.currency}, the quote sells "
                                     f"{quote.sell_amount.currency}")  # fmt: skip
        row = fx_settlement.settle(self.session, debtor, quote, order.creditor, order.reference,
                                   self.now(tenant))  # fmt: skip
        return records.payment(row, debtor.public_id)

    def position(self, tenant: str) -> fx.Position:
        """The tenant's position and fee income, valued at the feed's mid rates now."""
        self._offset(tenant)
        positions, fees = fx_settlement.position(self.session, tenant)
        mids = {r.quoted_currency: r.rate for r in self.mid_rates(tenant, "GBP")}
        return fx.valued(positions, fees, mids, "GBP")

    def reconcile(self) -> fx.Reconciliation:
        """Every tenant's FX journals and nostros (:func:`sandbox.fx_settlement.reconcile`)."""
        found = fx_settlement.reconcile(self.session)
        return fx.Reconciliation(found.journals, found.nostros, tuple(found.breaks))


def _quote(row: m.FxQuote) -> fx.Quote:
    corridor = BY_ID[row.corridor_id]
    sell = from_minor(row.sell_amount, corridor.sell_currency)
    fee = from_minor(row.fee, corridor.sell_currency)
    side: fx.FixedSide = "Buy" if row.fixed_side == "Buy" else "Sell"
    return fx.Quote(
        contract_id=row.public_id, corridor_id=row.corridor_id, fixed_side=side,
        mid_rate=Decimal(row.mid_rate), rate=Decimal(row.rate), spread_bps=row.spread_bps,
        fee=fee, sell_amount=sell,
        total_debited=Money(sell.amount + fee.amount, sell.currency),
        buy_amount=from_minor(row.buy_amount, corridor.buy_currency), lock=row.lock,
        created_at=row.created_at, expires_at=row.expires_at,
        settlement_date=row.settlement_date,
    )  # fmt: skip
