"""The sandbox's converted instructions and conversions
(:class:`gateway.core.fx_orders.FxOrdersCore`): international scheduled payments and standing
orders booked with their conversion terms and executed by the clock
(:mod:`sandbox.fx_execution`), the conversions the bank made, and money arriving from abroad."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import or_, select

from gateway.core.accounts import ScheduledPayment, StandingOrder
from gateway.core.fx_orders import Arrival, Conversion, Terms
from gateway.core.money import EXPONENTS, from_minor, to_minor
from gateway.core.payments import PaymentOrder, StandingOrderInstruction
from sandbox import fx_execution
from sandbox import models as m
from sandbox.fx_models import FxExecution, FxInstruction
from sandbox.payments import SandboxPayments


class SandboxFxOrders(SandboxPayments):
    """What international scheduled payments, standing orders and arrivals ask of the bank."""

    def schedule_converted(
        self, tenant: str, order: PaymentOrder, execution_date: dt.date, terms: Terms
    ) -> ScheduledPayment:
        """Book ``order`` for its day with the terms it converts by."""
        booked = self.schedule_payment(tenant, order, execution_date,
                                       prefix=fx_execution.SCHEDULED)  # fmt: skip
        self._keep_terms(tenant, booked.id, order, terms)
        return booked

    def standing_order_converted(
        self, tenant: str, instruction: StandingOrderInstruction, terms: Terms
    ) -> StandingOrder:
        """Set up a standing order whose every payment converts as ``terms`` say."""
        made = self.create_standing_order(tenant, instruction, prefix=fx_execution.STANDING)
        self._keep_terms(tenant, made.id, instruction.order, terms)
        return made

    def _keep_terms(self, tenant: str, instruction_id: str, order: PaymentOrder,
                    terms: Terms) -> None:  # fmt: skip
        currency = order.amount.currency if terms.fixed_side == "Sell" else terms.buy_currency
        if currency not in EXPONENTS:
            raise ValueError(f"no exponent for {currency}")
        self.session.add(FxInstruction(
            tenant_id=tenant, instruction_id=instruction_id, buy_currency=terms.buy_currency,
            fixed_side=terms.fixed_side, fixed_amount=to_minor(terms.fixed_amount, currency),
            rate_type=terms.rate_type, contract_id=terms.contract_id,
            destination_country=terms.destination_country,
        ))  # fmt: skip
        self.session.flush()

    def conversions(self, tenant: str, reference_id: str) -> Sequence[Conversion]:
        """The conversions of a payment or of every execution of an instruction, oldest first."""
        self._offset(tenant)
        rows = self.session.execute(
            select(FxExecution, m.Account.public_id)
            .join(m.Account, m.Account.pk == FxExecution.account_pk)
            .where(FxExecution.tenant_id == tenant,
                   or_(FxExecution.payment_id == reference_id,
                       FxExecution.instruction_id == reference_id))
            .order_by(FxExecution.executed_at, FxExecution.pk)
        ).all()  # fmt: skip
        return [conversion(row, account) for row, account in rows]

    def receive_from_abroad(self, tenant: str, arrival: Arrival) -> Conversion:
        """Credit money from abroad, converted at the rate now (:func:`fx_execution.receive`)."""
        account, _owner = self._account_row(tenant, arrival.account_id)
        row = fx_execution.receive(self.session, account, arrival, self.now(tenant))
        return conversion(row, account.public_id)


def conversion(row: FxExecution, account_id: str) -> Conversion:
    """A kept conversion as the contract states it."""
    return Conversion(
        direction="Incoming" if row.direction == "Incoming" else "Outgoing",
        contract_id=row.contract_id, rate_type=row.rate_type, rate=Decimal(row.rate),
        sell=from_minor(row.sell_amount, row.sell_currency),
        buy=from_minor(row.buy_amount, row.buy_currency),
        fee=from_minor(row.fee, row.sell_currency), quoted_at=row.quoted_at,
        executed_at=row.executed_at, account_id=account_id, payment_id=row.payment_id,
        instruction_id=row.instruction_id,
    )  # fmt: skip
