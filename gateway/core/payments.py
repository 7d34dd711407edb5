"""The payment contract: instructions to move a customer's money, their lifecycle and execution.

A payment order says what the customer approved: the account to debit, the amount, who is paid
(a name and how their account is identified) and the reference they see. The bank decides how the
money moves: to another account of its own when the creditor's identification is one (an "on us"
payment), otherwise out through its clearing account. Every execution, whether asked for now
(:meth:`PaymentsCore.pay`), on a date (:meth:`PaymentsCore.schedule_payment`) or on a schedule
(:meth:`PaymentsCore.create_standing_order`), goes through the same path and is one balanced
journal in the bank's ledger: it lands whole or not at all.

Lifecycle of a :class:`Payment` (statuses the payment initiation API maps to ISO 20022 codes):
``Booked`` once the ledger holds it; ``Rejected`` when the bank refused an execution that it
started by itself (a scheduled payment or a standing order's occurrence, with the reason).
A scheduled payment is ``Scheduled`` until its day, then ``Executed`` or ``Rejected``, or
``Cancelled`` before it; a standing order is ``Active`` until its final payment or until it is
cancelled (``Inactive``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from gateway.core.accounts import ScheduledPayment, StandingOrder
from gateway.core.money import Money
from gateway.core.values import Counterparty

PaymentStatus = Literal["Booked", "Rejected"]
# The time of day (UTC) at which a payment that falls due on a day (a scheduled payment, a
# standing order's payment, a loan's instalment) is booked, when the bank's clock reaches it.
BOOKING_TIME = dt.time(6, 0)
PaymentOrigin = Literal["order", "scheduled_payment", "standing_order"]


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """Money to move out of a customer's account now, as the customer approved it.

    ``amount`` is positive and in the debtor account's currency; ``reference`` (at most 35
    characters) is what both sides see; ``information`` (at most 140) is the debtor's narrative.
    """

    debtor_account_id: str
    amount: Money
    creditor: Counterparty
    reference: str
    information: str | None = None


@dataclass(frozen=True, slots=True)
class StandingOrderInstruction:
    """A recurring payment: ``order`` repeated at ``frequency`` from ``first_payment_date``
    until ``final_payment_date`` (inclusive) or for ever.

    ``frequency`` is an OBIE v4.0 ``OBFrequency6Code`` (``WEEK``, ``MNTH``, ``QURT``, ...) or a
    ``Frequency_1`` pattern (``IntrvlMnthDay:01:15``, ``QtrDay:ENGLISH``, ...): the
    :attr:`gateway.core.frequency.Frequency.schedule` of what the customer approved; its dates
    are :mod:`gateway.core.recurrence`'s. ``InvalidInstruction`` for one the bank cannot
    schedule, or when no payment falls due by ``final_payment_date``."""

    order: PaymentOrder
    frequency: str
    first_payment_date: dt.date
    final_payment_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment the bank executed (or refused to), and where it came from."""

    id: str
    debtor_account_id: str
    amount: Money
    creditor: Counterparty
    reference: str
    status: PaymentStatus
    created_at: dt.datetime
    booked_at: dt.datetime | None
    origin: PaymentOrigin
    # Why a payment the bank started by itself was refused (``None`` when booked).
    status_reason: str | None = None
    # The standing order or scheduled payment an execution belongs to.
    instruction_id: str | None = None
    # When a booked payment settles between the banks (gateway.core.settlement); None when
    # rejected.
    settles_at: dt.datetime | None = None


class PaymentsCore(Protocol):
    """What the gateway asks of a bank to move money.

    Bound to one unit of work like every contract (it flushes, the caller commits, so a payment
    and the gateway's record of it are written together or not at all). Errors are
    :class:`gateway.core.errors.BankCoreError` subclasses: ``UnknownResource`` for an account or
    instruction the tenant does not have, ``InvalidInstruction`` for an order the bank cannot
    carry out (amount not positive or with more decimals than the currency has, a currency other
    than the account's, a disabled account, a date in the past), ``InsufficientFunds`` when the
    debit would take the account below its limit. In every error case nothing is written.
    """

    def funds_available(self, tenant: str, account_id: str, amount: Money) -> bool:
        """Tell whether a debit of ``amount`` would be accepted now: the available balance
        (booked, less pending card authorisations) plus any credit line covers it. Nothing is
        reserved: a later payment may still be refused."""

    def pay(self, tenant: str, order: PaymentOrder) -> Payment:
        """Execute ``order`` now and return the ``Booked`` payment; ``InsufficientFunds`` books
        nothing and records nothing."""

    def payment(self, tenant: str, payment_id: str) -> Payment:
        """Return a payment the bank executed or refused."""

    def payments(self, tenant: str, account_id: str) -> Sequence[Payment]:
        """Return the payments executed from an account by this contract (not the history the
        account had before), newest first."""

    def executions(self, tenant: str, instruction_id: str) -> Sequence[Payment]:
        """Return the payments the bank made (or refused) for a scheduled payment or a standing
        order, oldest first; empty before its first due day. ``UnknownResource`` when the tenant
        has no such instruction."""

    def scheduled_payment(self, tenant: str, scheduled_payment_id: str) -> ScheduledPayment:
        """Return a scheduled payment of the tenant, in its current status."""

    def schedule_payment(
        self, tenant: str, order: PaymentOrder, execution_date: dt.date
    ) -> ScheduledPayment:
        """Book ``order`` for ``execution_date`` (after the bank's today); the bank's clock
        executes it on that day through the same path as :meth:`pay`."""

    def cancel_scheduled_payment(self, tenant: str, scheduled_payment_id: str) -> ScheduledPayment:
        """Cancel a payment that is still ``Scheduled``; ``InvalidInstruction`` once it was
        executed, rejected or cancelled."""

    def create_standing_order(
        self, tenant: str, instruction: StandingOrderInstruction
    ) -> StandingOrder:
        """Set up a standing order; its first payment is due on ``first_payment_date`` (today or
        later on the bank's clock)."""

    def cancel_standing_order(self, tenant: str, standing_order_id: str) -> StandingOrder:
        """Stop a standing order (``Inactive``, no further payments); ``InvalidInstruction`` when
        it is inactive already."""
