"""The sandbox's payment contract (:class:`gateway.core.payments.PaymentsCore`): funds checks,
payments now, scheduled payments and standing orders. Every execution goes through the payment
engine (:mod:`sandbox.execution`), the same path the clock takes on an instruction's day."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select

from gateway.core.accounts import ScheduledPayment, StandingOrder
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.money import Money, to_minor
from gateway.core.payments import Payment, PaymentOrder, StandingOrderInstruction
from sandbox import clock, execution, records, schedule
from sandbox import models as m
from sandbox.binding import Binding

_Row = TypeVar("_Row", m.ScheduledPayment, m.StandingOrder)


class SandboxPayments(Binding):
    """What payment initiation and funds confirmation ask of the sandbox bank."""

    def funds_available(self, tenant: str, account_id: str, amount: Money) -> bool:
        """Tell whether a debit of ``amount`` would be accepted now (nothing is reserved)."""
        account, _owner = self._account_row(tenant, account_id)
        minor = self._amount(account, amount)
        return account.booked_balance - account.held_amount + account.credit_limit >= minor

    def pay(self, tenant: str, order: PaymentOrder) -> Payment:
        """Execute ``order`` now; a refusal books and records nothing."""
        debtor, _owner = self._account_row(tenant, order.debtor_account_id)
        instruction = execution.Instruction(
            debtor=debtor,
            amount=self._amount(debtor, order.amount),
            creditor=order.creditor,
            reference=order.reference,
            origin="order",
            information=order.information,
        )
        booked = execution.execute(self.session, instruction, self.now(tenant))
        return records.payment(booked, debtor.public_id)

    def payment(self, tenant: str, payment_id: str) -> Payment:
        """Return a payment the engine executed or refused."""
        self._offset(tenant)
        found = self.session.execute(
            select(m.Payment, m.Account.public_id)
            .join(m.Account, m.Account.pk == m.Payment.account_pk)
            .where(m.Payment.tenant_id == tenant, m.Payment.public_id == payment_id)
        ).one_or_none()
        if found is None:
            raise UnknownResource(f"no payment {payment_id}")
        return records.payment(found[0], found[1])

    def payments(self, tenant: str, account_id: str) -> Sequence[Payment]:
        """Return the payments the engine made from an account, newest first."""
        account, _owner = self._account_row(tenant, account_id)
        rows = self.session.scalars(
            select(m.Payment)
            .where(m.Payment.account_pk == account.pk)
            .order_by(m.Payment.created_at.desc(), m.Payment.pk.desc())
        )
        return [records.payment(p, account_id) for p in rows]

    def executions(self, tenant: str, instruction_id: str) -> Sequence[Payment]:
        """Return the payments made for a scheduled payment or standing order, oldest first."""
        for model in (m.ScheduledPayment, m.StandingOrder):
            found = self.session.execute(
                select(model.pk)
                .join(m.Account, m.Account.pk == model.account_pk)
                .where(m.Account.tenant_id == tenant, model.public_id == instruction_id)
            ).first()
            if found is not None:
                break
        else:
            self._offset(tenant)
            raise UnknownResource(f"no such instruction {instruction_id}")
        rows = self.session.execute(
            select(m.Payment, m.Account.public_id)
            .join(m.Account, m.Account.pk == m.Payment.account_pk)
            .where(m.Payment.tenant_id == tenant, m.Payment.instruction_id == instruction_id)
            .order_by(m.Payment.created_at, m.Payment.pk)
        ).all()
        return [records.payment(row, account) for row, account in rows]

    def scheduled_payment(self, tenant: str, scheduled_payment_id: str) -> ScheduledPayment:
        """Return a scheduled payment in its current status."""
        row, account = self._instruction(tenant, m.ScheduledPayment, scheduled_payment_id)
        return records.scheduled_payment(row, account.public_id)

    def schedule_payment(
        self, tenant: str, order: PaymentOrder, execution_date: dt.date, *, prefix: str = "sp_"
    ) -> ScheduledPayment:
        """Book ``order`` for ``execution_date``; the clock executes it on that day. ``prefix``
        starts its public id (a converted one's names it so: :mod:`sandbox.fx_execution`)."""
        debtor, _owner = self._account_row(tenant, order.debtor_account_id)
        if execution_date <= self.now(tenant).date():
            raise InvalidInstruction("a scheduled payment's date must be after today")
        row = m.ScheduledPayment(
            account_pk=debtor.pk,
            public_id=f"{prefix}{secrets.token_hex(12)}",
            execution_date=execution_date,
            amount=self._amount(debtor, order.amount),
            currency=debtor.currency,
            **self._creditor(order),
            reference=order.reference,
            status="Scheduled",
        )
        self.session.add(row)
        self.session.flush()
        return records.scheduled_payment(row, debtor.public_id)

    def cancel_scheduled_payment(self, tenant: str, scheduled_payment_id: str) -> ScheduledPayment:
        """Cancel a payment that is still ``Scheduled``."""
        row, account = self._instruction(tenant, m.ScheduledPayment, scheduled_payment_id)
        if row.status != "Scheduled":
            raise InvalidInstruction(f"the scheduled payment is {row.status}")
        row.status = "Cancelled"
        self.session.flush()
        return records.scheduled_payment(row, account.public_id)

    def create_standing_order(
        self, tenant: str, instruction: StandingOrderInstruction, *, prefix: str = "sto_"
    ) -> StandingOrder:
        """Set up a standing order whose payments fall due from ``first_payment_date`` at its
        frequency (any schedulable ``OBFrequency6Code`` or ``Frequency_1`` pattern)."""
        order = instruction.order
        debtor, _owner = self._account_row(tenant, order.debtor_account_id)
        first, final = instruction.first_payment_date, instruction.final_payment_date
        plan = schedule.schedule(instruction.frequency, first, clock.working_days(self.session))
        if first < self.now(tenant).date():
            raise InvalidInstruction("the first payment date is in the past")
        if final is not None and final < first:
            raise InvalidInstruction("the final payment date is before the first")
        due = plan.due(0)
        if final is not None and due > final:
            raise InvalidInstruction(
                f"no payment of {instruction.frequency} falls due by the final payment date"
            )
        row = m.StandingOrder(
            account_pk=debtor.pk,
            public_id=f"{prefix}{secrets.token_hex(12)}",
            frequency=instruction.frequency,
            reference=order.reference,
            amount=self._amount(debtor, order.amount),
            currency=debtor.currency,
            **self._creditor(order),
            first_payment_date=first,
            next_payment_date=due,
            final_payment_date=final,
            status="Active",
        )
        self.session.add(row)
        self.session.flush()
        return records.standing_order(row, debtor.public_id)

    def cancel_standing_order(self, tenant: str, standing_order_id: str) -> StandingOrder:
        """Stop a standing order: no further payments."""
        row, account = self._instruction(tenant, m.StandingOrder, standing_order_id)
        if row.status != "Active":
            raise InvalidInstruction(f"the standing order is {row.status}")
        row.status, row.next_payment_date = "Inactive", None
        self.session.flush()
        return records.standing_order(row, account.public_id)

    @staticmethod
    def _amount(account: m.Account, amount: Money) -> int:
        """``amount`` in the account's minor units; refused unless positive and in its
        currency."""
        if amount.currency != account.currency:
            raise InvalidInstruction(
                f"account {account.public_id} is in {account.currency}, not {amount.currency}"
            )
        minor = to_minor(amount.amount, amount.currency)
        if minor <= 0:
            raise InvalidInstruction("the amount must be positive")
        return minor

    @staticmethod
    def _creditor(order: PaymentOrder) -> dict[str, str]:
        creditor = order.creditor
        if not creditor.scheme or not creditor.identification:
            raise InvalidInstruction("an instruction needs the creditor's account identification")
        return {
            "creditor_name": creditor.name[:350],
            "creditor_scheme": creditor.scheme,
            "creditor_identification": creditor.identification,
        }

    def _instruction(self, tenant: str, model: type[_Row], public: str) -> tuple[_Row, m.Account]:
        self._offset(tenant)
        found = self.session.execute(
            select(model, m.Account)
            .join(m.Account, m.Account.pk == model.account_pk)
            .where(m.Account.tenant_id == tenant, model.public_id == public)
        ).one_or_none()
        if found is None:
            raise UnknownResource(f"no such instruction {public}")
        return found[0], found[1]
