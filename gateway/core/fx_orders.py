"""The foreign-exchange contract of instructions the bank executes later, and of what each
conversion did.

An international scheduled payment or standing order (OBIE v4.0 Payment Initiation) is booked
with its conversion terms (:class:`Terms`): the currency the creditor receives, which side of the
conversion is fixed and by how much, and the rate type. On each execution, on the tenant's clock,
the bank prices it: ``Agreed`` at exactly the locked rate of the quote it cites, refused once that
lock has ended; ``Actual`` (and ``Indicative``) at the rate of the moment, which the execution
reports. Every conversion the bank makes, an immediate payment's too and money arriving from
abroad, is kept as a :class:`Conversion` beside its journal: the rate, the quote, the amounts in
both currencies and the fee.

An agreed quote serves one instruction: once a payment executes on it, it is used, and another
consent or order citing it is refused (:class:`QuoteUsed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from gateway.core.accounts import ScheduledPayment, StandingOrder
from gateway.core.errors import InvalidInstruction
from gateway.core.fx import FixedSide, FxCore
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder, StandingOrderInstruction

Direction = Literal["Outgoing", "Incoming"]


class QuoteUsed(InvalidInstruction):
    """An agreed quote a payment already executed on, cited by another instruction."""


@dataclass(frozen=True, slots=True)
class Terms:
    """How an instruction converts: into ``buy_currency``, the ``fixed_side`` fixed at
    ``fixed_amount`` (in the sell currency for ``Sell``, the buy currency for ``Buy``), at
    ``rate_type`` (``Agreed`` cites ``contract_id``)."""

    buy_currency: str
    fixed_side: FixedSide
    fixed_amount: Decimal
    rate_type: str
    contract_id: str | None = None
    destination_country: str | None = None


@dataclass(frozen=True, slots=True)
class Conversion:
    """One conversion the bank made: ``sell`` became ``buy`` at ``rate`` (1 sell = ``rate``
    buy) under quote ``contract_id``, quoted at ``quoted_at``, with ``fee`` (in the sell
    currency) on top for an outgoing payment. ``payment_id`` is the bank's payment (outgoing),
    ``instruction_id`` the scheduled payment or standing order it executed."""

    direction: Direction
    contract_id: str
    rate_type: str
    rate: Decimal
    sell: Money
    buy: Money
    fee: Money
    quoted_at: dt.datetime
    executed_at: dt.datetime
    account_id: str
    payment_id: str | None = None
    instruction_id: str | None = None

    @property
    def total_debited(self) -> Money:
        """What the customer paid: the amount converted and the fee (outgoing)."""
        return Money(self.sell.amount + self.fee.amount, self.sell.currency)


@dataclass(frozen=True, slots=True)
class Arrival:
    """Money a partner abroad pays into a customer's account: ``amount`` in a foreign currency,
    from ``debtor_name`` (and their account), with a ``reference``."""

    account_id: str
    amount: Money
    debtor_name: str
    reference: str
    debtor_identification: str | None = None


class FxOrdersCore(Protocol):
    """What the gateway asks of a bank that executes converted instructions later; errors are
    :class:`gateway.core.errors.BankCoreError` subclasses, nothing written on any of them."""

    def schedule_converted(
        self, tenant: str, order: PaymentOrder, execution_date: dt.date, terms: Terms
    ) -> ScheduledPayment:
        """Book ``order`` (its amount: the total the consent stated) for ``execution_date``,
        executed that day converted as ``terms`` say."""

    def standing_order_converted(
        self, tenant: str, instruction: StandingOrderInstruction, terms: Terms
    ) -> StandingOrder:
        """Set up a standing order whose every payment converts as ``terms`` say."""

    def conversions(self, tenant: str, reference_id: str) -> Sequence[Conversion]:
        """The conversions of a payment (its id) or of an instruction (every execution), oldest
        first; empty when there is none."""

    def receive_from_abroad(self, tenant: str, arrival: Arrival) -> Conversion:
        """Credit ``arrival`` to its account converted into the account's currency at the rate
        now (one journal through the vostro of the currency, balanced per currency).

        :class:`gateway.core.errors.UnknownResource` (account),
        :class:`gateway.core.fx.UnsupportedCurrency` (a currency the bank does not convert, or
        the account's own), :class:`InvalidInstruction` (not positive, too many decimals)."""


class FxDesk(FxCore, FxOrdersCore, Protocol):
    """A bank's FX desk: quotes and immediate conversions, and instructions executed later."""
