"""An in-memory bank that keeps the account and payment contracts, for service tests.

:class:`MemoryBank` is what Warehouse's ``DummyRateLimiter`` is to its rate limiter: the same
contract as the sandbox (:mod:`gateway.core.accounts`, :mod:`gateway.core.payments`) with none of
its machinery, so that consent and payment rules can be tested without a database. Tests build
its world by hand (:meth:`MemoryBank.add_customer`, :meth:`MemoryBank.open_account`) and move its
clock (:meth:`MemoryBank.advance`), which executes what falls due. The contract tests in
``tests/unit/gateway/core`` run the same cases against it and against the sandbox.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, TypeVar

from gateway.core import settlement
from gateway.core.accounts import (
    Account,
    Balances,
    Beneficiary,
    Customer,
    DirectDebit,
    Party,
    Product,
    ScheduledPayment,
    StandingOrder,
    Statement,
    Transaction,
    TransactionCursor,
    TransactionPage,
)
from gateway.core.errors import InsufficientFunds, InvalidInstruction, UnknownResource
from gateway.core.frequency import FrequencyError, parse
from gateway.core.money import Money, from_minor, to_minor
from gateway.core.payments import Payment, PaymentOrder, PaymentOrigin, StandingOrderInstruction
from gateway.core.recurrence import Schedule
from gateway.core.values import AccountIdentifier, CreditDebit
from gateway.core.working_days import WorkingDays, england

SCAN = "UK.OBIE.SortCodeAccountNumber"
_Kept = TypeVar("_Kept")


@dataclass
class _Ledger:
    """One account's balances, in minor units, and its history (newest last)."""

    account: Account
    booked: int
    credit_limit: int = 0
    history: list[Transaction] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)


@dataclass
class MemoryBank:
    """One bank's customers, accounts and payments, kept in dictionaries (one tenant: the
    ``tenant`` of each call is not looked at)."""

    clock: dt.datetime = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
    customers: dict[str, tuple[Customer, str]] = field(default_factory=dict)
    ledgers: dict[str, _Ledger] = field(default_factory=dict)
    scheduled: dict[str, tuple[ScheduledPayment, PaymentOrder]] = field(default_factory=dict)
    orders: dict[str, tuple[StandingOrder, PaymentOrder]] = field(default_factory=dict)
    # The days standing orders are paid on (as the sandbox: England's unless a test pins one).
    working_days: WorkingDays = field(default_factory=england)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # Building the world ----------------------------------------------------------------------

    def add_customer(self, name: str, username: str, password: str) -> Customer:
        """Add a personal customer who logs in with ``username`` and ``password``."""
        customer = Customer(self._id("cus"), username, name, "Personal")
        self.customers[customer.id] = (customer, password)
        return customer

    def open_account(
        self, customer: Customer, balance: str, currency: str = "GBP", credit_limit: str = "0"
    ) -> Account:
        """Open a current account for ``customer`` with an opening ``balance``."""
        number = f"{len(self.ledgers) + 1:08d}"
        account = Account(
            id=self._id("acc"), customer_id=customer.id, currency=currency,
            account_type="Personal", account_subtype="CurrentAccount", nickname="Everyday",
            opening_date=self.clock.date(), status="Enabled", product_id="PCA",
            product_name="Current Account",
            identifiers=(AccountIdentifier(SCAN, f"400000{number}", customer.name),),
        )  # fmt: skip
        self.ledgers[account.id] = _Ledger(
            account, to_minor(Decimal(balance), currency), to_minor(Decimal(credit_limit), currency)
        )
        return account

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward, executing what falls due on each day on the way."""
        end = self.clock + delta
        while self.clock.date() < end.date():
            self.clock += dt.timedelta(days=1)
            self._run_due(self.clock.date())
        self.clock = end

    # The account contract ----------------------------------------------------------------------

    def now(self, tenant: str) -> dt.datetime:
        """The bank's clock."""
        return self.clock

    def authenticate(self, tenant: str, username: str, password: str) -> Customer | None:
        """The customer with these credentials, or ``None``."""
        for customer, secret in self.customers.values():
            if customer.username == username and secret == password:
                return customer
        return None

    def accounts(self, tenant: str, customer_id: str) -> Sequence[Account]:
        """A customer's accounts."""
        if customer_id not in self.customers:
            raise UnknownResource(f"no customer {customer_id}")
        return [ledger.account for ledger in self.ledgers.values()
                if ledger.account.customer_id == customer_id]  # fmt: skip

    def account(self, tenant: str, account_id: str) -> Account:
        """One account."""
        return self._ledger(account_id).account

    def balances(self, tenant: str, account_id: str) -> Balances:
        """An account's balances (nothing is ever held here)."""
        ledger = self._ledger(account_id)
        ccy = ledger.account.currency
        booked = from_minor(ledger.booked, ccy)
        return Balances(account_id, self.clock, booked, from_minor(0, ccy), booked,
                        from_minor(ledger.credit_limit, ccy))  # fmt: skip

    def transactions(
        self, tenant: str, account_id: str, *, booked_from: dt.datetime | None = None,
        booked_to: dt.datetime | None = None, after: TransactionCursor | None = None,
        limit: int = 100, direction: CreditDebit | None = None,
    ) -> TransactionPage:  # fmt: skip
        """A page of history, newest first (the cursor's id is a position in the history)."""
        if limit < 1:
            raise InvalidInstruction("page size must be at least 1")
        history = list(reversed(self._ledger(account_id).history))
        start = after.id if after else 0
        items = [
            t for t in history[start:]
            if (booked_from is None or t.booking_datetime >= booked_from)
            and (booked_to is None or t.booking_datetime <= booked_to)
            and direction in (None, t.credit_debit)
        ]  # fmt: skip
        page = tuple(items[:limit])
        more = len(items) > limit
        cursor = TransactionCursor(page[-1].booking_datetime, start + limit) if more else None
        return TransactionPage(page, cursor)

    def parties(self, tenant: str, account_id: str) -> Sequence[Party]:
        """The account's owner."""
        return [self.customer_party(tenant, self._ledger(account_id).account.customer_id)]

    def customer_party(self, tenant: str, customer_id: str) -> Party:
        """A customer as a party."""
        customer, _ = self.customers.get(customer_id) or (None, "")
        if customer is None:
            raise UnknownResource(f"no customer {customer_id}")
        return Party(customer.id, customer.name, "Sole", customer.id[-8:], None, None, None)

    def product(self, tenant: str, account_id: str) -> Product:
        """The account's product."""
        account = self._ledger(account_id).account
        return Product(account.product_id, account.product_name, "PersonalCurrentAccount")

    def beneficiaries(self, tenant: str, account_id: str) -> Sequence[Beneficiary]:
        """None are kept here."""
        self._ledger(account_id)
        return []

    def standing_orders(self, tenant: str, account_id: str) -> Sequence[StandingOrder]:
        """The account's standing orders."""
        self._ledger(account_id)
        return [o for o, _ in self.orders.values() if o.account_id == account_id]

    def direct_debits(self, tenant: str, account_id: str) -> Sequence[DirectDebit]:
        """None are kept here."""
        self._ledger(account_id)
        return []

    def scheduled_payments(self, tenant: str, account_id: str) -> Sequence[ScheduledPayment]:
        """The account's scheduled payments."""
        self._ledger(account_id)
        return [s for s, _ in self.scheduled.values() if s.account_id == account_id]

    def statements(self, tenant: str, account_id: str) -> Sequence[Statement]:
        """None are kept here."""
        self._ledger(account_id)
        return []

    # The payment contract ----------------------------------------------------------------------

    def funds_available(self, tenant: str, account_id: str, amount: Money) -> bool:
        """Whether the balance and the credit line cover ``amount``."""
        ledger = self._ledger(account_id)
        return ledger.booked + ledger.credit_limit >= self._minor(ledger, amount)

    def pay(self, tenant: str, order: PaymentOrder) -> Payment:
        """Book ``order`` now."""
        return self._execute(order, "order", None)

    def payment(self, tenant: str, payment_id: str) -> Payment:
        """A payment made here."""
        for ledger in self.ledgers.values():
            for made in ledger.payments:
                if made.id == payment_id:
                    return made
        raise UnknownResource(f"no payment {payment_id}")

    def payments(self, tenant: str, account_id: str) -> Sequence[Payment]:
        """The payments made from an account, newest first."""
        return list(reversed(self._ledger(account_id).payments))

    def executions(self, tenant: str, instruction_id: str) -> Sequence[Payment]:
        """The payments made for a scheduled payment or standing order, oldest first."""
        if instruction_id not in self.scheduled and instruction_id not in self.orders:
            raise UnknownResource(f"no such instruction {instruction_id}")
        made = [p for ledger in self.ledgers.values() for p in ledger.payments]
        return [p for p in made if p.instruction_id == instruction_id]

    def scheduled_payment(self, tenant: str, scheduled_payment_id: str) -> ScheduledPayment:
        """A scheduled payment in its current status."""
        return self._found(self.scheduled, scheduled_payment_id)[0]

    def schedule_payment(
        self, tenant: str, order: PaymentOrder, execution_date: dt.date
    ) -> ScheduledPayment:
        """Keep ``order`` for ``execution_date``."""
        ledger = self._ledger(order.debtor_account_id)
        self._check(ledger, order)
        if execution_date <= self.clock.date():
            raise InvalidInstruction("a scheduled payment's date must be after today")
        row = ScheduledPayment(self._id("sp_"), ledger.account.id, execution_date, order.amount,
                               order.creditor, order.reference, "Scheduled")  # fmt: skip
        self.scheduled[row.id] = (row, order)
        return row

    def cancel_scheduled_payment(self, tenant: str, scheduled_payment_id: str) -> ScheduledPayment:
        """Cancel a payment still ``Scheduled``."""
        row, order = self._found(self.scheduled, scheduled_payment_id)
        if row.status != "Scheduled":
            raise InvalidInstruction(f"the scheduled payment is {row.status}")
        self.scheduled[row.id] = (replace(row, status="Cancelled"), order)
        return self.scheduled[row.id][0]

    def create_standing_order(
        self, tenant: str, instruction: StandingOrderInstruction
    ) -> StandingOrder:
        """Keep a standing order (any frequency the sandbox schedules, on the same dates)."""
        order = instruction.order
        ledger = self._ledger(order.debtor_account_id)
        self._check(ledger, order)
        first, final = instruction.first_payment_date, instruction.final_payment_date
        due = self._schedule(instruction.frequency, first).due(0)
        if first < self.clock.date():
            raise InvalidInstruction("the first payment date is in the past")
        if final is not None and (final < first or due > final):
            raise InvalidInstruction("no payment falls due by the final payment date")
        row = StandingOrder(self._id("sto_"), ledger.account.id, instruction.frequency,
                            order.reference, order.amount, order.creditor, first, due, None,
                            final, "Active")  # fmt: skip
        self.orders[row.id] = (row, order)
        return row

    def _schedule(self, frequency: str, first: dt.date) -> Schedule:
        try:
            return Schedule.of(parse(frequency), first, self.working_days)
        except FrequencyError as exc:
            raise InvalidInstruction(f"frequency {frequency!r} cannot be scheduled") from exc

    def cancel_standing_order(self, tenant: str, standing_order_id: str) -> StandingOrder:
        """Stop a standing order."""
        row, order = self._found(self.orders, standing_order_id)
        if row.status != "Active":
            raise InvalidInstruction(f"the standing order is {row.status}")
        self.orders[row.id] = (replace(row, status="Inactive", next_payment_date=None), order)
        return self.orders[row.id][0]

    # Machinery ---------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):024d}"

    def _ledger(self, account_id: str) -> _Ledger:
        ledger = self.ledgers.get(account_id)
        if ledger is None:
            raise UnknownResource(f"no account {account_id}")
        return ledger

    @staticmethod
    def _found(rows: dict[str, _Kept], key: str) -> _Kept:
        if key not in rows:
            raise UnknownResource(f"no such instruction {key}")
        return rows[key]

    @staticmethod
    def _minor(ledger: _Ledger, amount: Money) -> int:
        if amount.currency != ledger.account.currency:
            raise InvalidInstruction(
                f"account {ledger.account.id} is in {ledger.account.currency}, "
                f"not {amount.currency}"
            )
        minor = to_minor(amount.amount, amount.currency)
        if minor <= 0:
            raise InvalidInstruction("the amount must be positive")
        return minor

    def _check(self, ledger: _Ledger, order: PaymentOrder) -> int:
        minor = self._minor(ledger, order.amount)
        ident = order.creditor.identification
        if any(i.identification == ident for i in ledger.account.identifiers):
            raise InvalidInstruction("the creditor account is the debtor account")
        return minor

    def _execute(
        self, order: PaymentOrder, origin: PaymentOrigin, instruction_id: str | None
    ) -> Payment:
        ledger = self._ledger(order.debtor_account_id)
        minor = self._check(ledger, order)
        if ledger.booked + ledger.credit_limit < minor:
            raise InsufficientFunds(f"account {ledger.account.id} cannot pay {order.amount}")
        ledger.booked -= minor
        ccy = ledger.account.currency
        ledger.history.append(Transaction(
            str(len(ledger.history) + 1), ledger.account.id, order.amount, "Debit", "Booked",
            self.clock, self.clock, order.reference,
            order.information or f"Payment to {order.creditor.name}", None, "Transfer", None,
            order.creditor, from_minor(ledger.booked, ccy),
        ))  # fmt: skip
        made = Payment(self._id("pay"), ledger.account.id, order.amount, order.creditor,
                       order.reference, "Booked", self.clock, self.clock,
                       origin, None, instruction_id,
                       settlement.next_cycle(self.clock))  # fmt: skip
        ledger.payments.append(made)
        return made

    def _run_due(self, day: dt.date) -> None:
        for scheduled, order in list(self.scheduled.values()):
            if scheduled.status == "Scheduled" and scheduled.execution_date <= day:
                booked = self._attempt(order, "scheduled_payment", scheduled.id)
                status: Literal["Executed", "Rejected"] = "Executed" if booked else "Rejected"
                self.scheduled[scheduled.id] = (replace(scheduled, status=status), order)
        for standing, order in list(self.orders.values()):
            plan = self._schedule(standing.frequency, standing.first_payment_date)
            while (
                (due := standing.next_payment_date)
                and standing.status == "Active"
                and plan.paid_on(due) <= day
            ):
                self._attempt(order, "standing_order", standing.id)
                following: dt.date | None = plan.next_after(due)
                final = standing.final_payment_date
                if final and following and following > final:
                    following = None
                standing = replace(
                    standing, next_payment_date=following, last_payment_date=plan.paid_on(due)
                )
                self.orders[standing.id] = (standing, order)

    def _attempt(self, order: PaymentOrder, origin: PaymentOrigin, instruction_id: str) -> bool:
        """Execute an occurrence; a refusal is recorded as a rejected payment (``False``)."""
        try:
            self._execute(order, origin, instruction_id)
        except InsufficientFunds as exc:
            ledger = self._ledger(order.debtor_account_id)
            ledger.payments.append(Payment(
                self._id("pay"), ledger.account.id, order.amount, order.creditor,
                order.reference, "Rejected", self.clock, None, origin, str(exc), instruction_id,
            ))  # fmt: skip
            return False
        return True
