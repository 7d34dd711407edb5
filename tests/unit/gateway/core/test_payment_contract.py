"""The payment contract (:mod:`gateway.core.payments`), case by case, against every bank that
keeps it: the sandbox and the in-memory double the service tests use. A case that passes on one
and fails on the other means the double no longer stands for the bank."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from flask import Flask

from gateway.core.accounts import Account
from gateway.core.bank import BankCore
from gateway.core.errors import InsufficientFunds, InvalidInstruction, UnknownResource
from gateway.core.memory import MemoryBank
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder, StandingOrderInstruction
from gateway.core.values import Counterparty
from gateway.store.database import Database

ACME = Counterparty("Acme Ltd", "UK.OBIE.SortCodeAccountNumber", "12345612345678")


@dataclass
class World:
    """A bank, its tenant, a GBP account to pay from, and a way to move the bank's clock."""

    bank: BankCore
    tenant: str
    debtor: Account
    advance: Callable[[dt.timedelta], None]

    def gbp(self, amount: str) -> Money:
        return Money(Decimal(amount), "GBP")

    def order(self, amount: str, reference: str = "REF") -> PaymentOrder:
        return PaymentOrder(self.debtor.id, self.gbp(amount), ACME, reference)

    def today(self) -> dt.date:
        return self.bank.now(self.tenant).date()

    def made_for(self, instruction_id: str) -> list[str]:
        return [
            p.status
            for p in self.bank.payments(self.tenant, self.debtor.id)
            if p.instruction_id == instruction_id
        ]


def _memory() -> Iterator[World]:
    bank = MemoryBank()
    customer = bank.add_customer("Ada Lovelace", "ada", "pw")
    debtor = bank.open_account(customer, "1000.00", credit_limit="100.00")
    yield World(bank, "t", debtor, bank.advance)


def _sandbox(app: Flask, tenant: str) -> Iterator[World]:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        bank = app.extensions["sandbox"](session)
        debtor = next(
            a for c in bank.customers(tenant) for a in bank.accounts(tenant, c.id)
            if a.account_subtype == "CurrentAccount" and a.currency == "GBP"
        )  # fmt: skip
        yield World(bank, tenant, debtor, lambda delta: bank.advance_clock(tenant, delta))
        session.rollback()


@pytest.fixture(params=["memory", "sandbox"])
def world(request: pytest.FixtureRequest, tenant: str) -> Iterator[World]:
    if request.param == "memory":
        yield from _memory()
    else:
        yield from _sandbox(request.getfixturevalue("app"), tenant)


def test_a_payment_is_booked_debited_and_found_again(world: World) -> None:
    bank, tenant, debtor = world.bank, world.tenant, world.debtor
    before = bank.balances(tenant, debtor.id).booked.amount
    paid = bank.pay(tenant, world.order("12.34", "INV-1"))
    assert (paid.status, paid.origin, paid.amount, paid.reference, paid.creditor) == (
        "Booked", "order", world.gbp("12.34"), "INV-1", ACME
    )  # fmt: skip
    assert paid.booked_at is not None and paid.status_reason is None
    assert bank.balances(tenant, debtor.id).booked.amount == before - Decimal("12.34")
    assert bank.payment(tenant, paid.id) == paid
    assert bank.payments(tenant, debtor.id)[0] == paid


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        ("0.00", "GBP", InvalidInstruction),
        ("-5.00", "GBP", InvalidInstruction),
        ("1.001", "GBP", InvalidInstruction),
        ("1.00", "EUR", InvalidInstruction),
        ("1.00", "XXX", InvalidInstruction),
        ("99999999.00", "GBP", InsufficientFunds),
    ],
)
def test_a_refused_payment_changes_nothing(
    world: World, amount: str, currency: str, error: type[Exception]
) -> None:
    bank, tenant, debtor = world.bank, world.tenant, world.debtor
    before = bank.balances(tenant, debtor.id).booked
    order = PaymentOrder(debtor.id, Money(Decimal(amount), currency), ACME, "X")
    with pytest.raises(error):
        bank.pay(tenant, order)
    assert bank.balances(tenant, debtor.id).booked == before
    assert bank.payments(tenant, debtor.id) == []


def test_paying_the_debtor_account_itself_is_refused(world: World) -> None:
    own = world.debtor.identifiers[0]
    creditor = Counterparty("Me", own.scheme, own.identification)
    with pytest.raises(InvalidInstruction):
        world.bank.pay(
            world.tenant, PaymentOrder(world.debtor.id, world.gbp("1.00"), creditor, "X")
        )


def test_unknown_accounts_payments_and_instructions_are_unknown(world: World) -> None:
    bank, tenant = world.bank, world.tenant
    calls: list[Callable[[], object]] = [
        lambda: bank.pay(tenant, PaymentOrder("nosuch", world.gbp("1.00"), ACME, "X")),
        lambda: bank.payment(tenant, "nosuch"),
        lambda: bank.funds_available(tenant, "nosuch", world.gbp("1.00")),
        lambda: bank.cancel_scheduled_payment(tenant, "nosuch"),
        lambda: bank.cancel_standing_order(tenant, "nosuch"),
        lambda: bank.scheduled_payment(tenant, "nosuch"),
        lambda: bank.executions(tenant, "nosuch"),
    ]
    for call in calls:
        with pytest.raises(UnknownResource):
            call()


def test_funds_available_counts_the_credit_line_and_reserves_nothing(world: World) -> None:
    bank, tenant, debtor = world.bank, world.tenant, world.debtor
    balances = bank.balances(tenant, debtor.id)
    limit = balances.available.amount + balances.credit_line.amount
    assert bank.funds_available(tenant, debtor.id, world.gbp(f"{limit:f}"))
    assert not bank.funds_available(tenant, debtor.id, world.gbp(f"{limit + Decimal('0.01'):f}"))
    assert bank.balances(tenant, debtor.id).booked == balances.booked


def test_a_scheduled_payment_runs_on_its_day_and_a_cancelled_one_never(world: World) -> None:
    bank, tenant = world.bank, world.tenant
    day = world.today() + dt.timedelta(days=3)
    kept = bank.schedule_payment(tenant, world.order("2.50", "KEPT"), day)
    dropped = bank.schedule_payment(tenant, world.order("3.00", "DROPPED"), day)
    assert (kept.status, kept.execution_date) == ("Scheduled", day)
    assert bank.cancel_scheduled_payment(tenant, dropped.id).status == "Cancelled"
    world.advance(dt.timedelta(days=2))
    assert world.made_for(kept.id) == []
    world.advance(dt.timedelta(days=2))
    assert world.made_for(kept.id) == ["Booked"]
    assert world.made_for(dropped.id) == []
    statuses = {s.id: s.status for s in bank.scheduled_payments(tenant, world.debtor.id)}
    assert (statuses[kept.id], statuses[dropped.id]) == ("Executed", "Cancelled")
    assert bank.scheduled_payment(tenant, kept.id).status == "Executed"
    assert bank.scheduled_payment(tenant, dropped.id).status == "Cancelled"
    (made,) = bank.executions(tenant, kept.id)
    assert (made.status, made.reference, made.amount) == ("Booked", "KEPT", world.gbp("2.50"))
    assert made.settles_at is not None and made.booked_at is not None
    assert made.settles_at > made.booked_at
    assert bank.executions(tenant, dropped.id) == []
    with pytest.raises(InvalidInstruction):
        bank.cancel_scheduled_payment(tenant, kept.id)


@pytest.mark.parametrize("days", [0, -1])
def test_a_payment_is_scheduled_only_after_today(world: World, days: int) -> None:
    day = world.today() + dt.timedelta(days=days)
    with pytest.raises(InvalidInstruction):
        world.bank.schedule_payment(world.tenant, world.order("1.00"), day)


def test_a_weekly_standing_order_pays_until_cancelled(world: World) -> None:
    bank, tenant = world.bank, world.tenant
    first = world.today() + dt.timedelta(days=1)
    order = bank.create_standing_order(
        tenant, StandingOrderInstruction(world.order("5.00", "WEEKLY"), "WEEK", first)
    )
    assert (order.status, order.next_payment_date) == ("Active", first)
    world.advance(dt.timedelta(days=16))
    assert world.made_for(order.id) == ["Booked"] * 3
    stopped = bank.cancel_standing_order(tenant, order.id)
    assert (stopped.status, stopped.next_payment_date) == ("Inactive", None)
    world.advance(dt.timedelta(days=14))
    assert len(world.made_for(order.id)) == 3
    with pytest.raises(InvalidInstruction):
        bank.cancel_standing_order(tenant, order.id)


@pytest.mark.parametrize(
    ("frequency", "first_days", "final_days"),
    [("ADHO", 1, None), ("WEEK", -1, None), ("WEEK", 5, 2)],
)
def test_a_standing_order_the_bank_cannot_run_is_refused(
    world: World, frequency: str, first_days: int, final_days: int | None
) -> None:
    today = world.today()
    final = today + dt.timedelta(days=final_days) if final_days is not None else None
    instruction = StandingOrderInstruction(
        world.order("1.00"), frequency, today + dt.timedelta(days=first_days), final
    )
    with pytest.raises(InvalidInstruction):
        world.bank.create_standing_order(world.tenant, instruction)
