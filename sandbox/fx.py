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
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from gateway.core import fx
from gateway.core.errors import InvalidInstruction
from gateway.core.fx_corridors import CORRIDORS, Corridor
from gateway.core.payments import Payment, PaymentOrder
from sandbox import fx_execution, fx_settlement, records
from sandbox import models as m
from sandbox.binding import Binding
from sandbox.fx_execution import quote_of
from sandbox.fx_feed import usd_values


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
        return fx_execution.keep(self.session, tenant, request, self.now(tenant))

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
        return quote_of(row)

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
        return fx.Reconciliation(
            found.journals, found.nostros, tuple(found.breaks), found.conversions
        )
