"""The sandbox bank through the gateway's SandboxBank interface."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.accounts import TransactionCursor
from gateway.core.administration import SandboxBank
from gateway.core.errors import InvalidInstruction, UnknownResource
from sandbox.models import Account, Customer, StandingOrder, Tenant
from tests.common.sandbox import sandbox_core


def _first_account(core: SandboxBank, tenant: str, subtype: str = "CurrentAccount") -> str:
    for customer in core.customers(tenant):
        for account in core.accounts(tenant, customer.id):
            if account.account_subtype == subtype:
                return account.id
    raise AssertionError(f"no {subtype}")


def test_tenant_is_created_lazily_on_first_use(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    assert session.get(Tenant, tenant) is None
    customers = core.customers(tenant)
    assert len(customers) == 13
    assert {c.kind for c in customers} == {"Personal", "Business"}
    info = core.ensure_tenant(tenant)
    assert (info.customers, info.accounts) == (13, 21)


def test_sandbox_login(core: SandboxBank, session: Session, tenant: str) -> None:
    customer = core.customers(tenant)[0]
    password = session.scalars(
        select(Customer.password).where(Customer.public_id == customer.id)
    ).one()
    assert core.authenticate(tenant, customer.username, password) == customer
    assert core.authenticate(tenant, customer.username, password + "x") is None
    assert core.authenticate(tenant, "nobody", password) is None
    assert core.authenticate(f"{tenant}-other", customer.username, password) is None


def test_tenants_are_isolated(core: SandboxBank, tenant: str) -> None:
    account_id = _first_account(core, tenant)
    other = f"{tenant}-other"
    with pytest.raises(UnknownResource):
        core.account(other, account_id)
    with pytest.raises(UnknownResource):
        core.transactions(other, account_id)
    with pytest.raises(UnknownResource):
        core.accounts(other, core.customers(tenant)[0].id)
    assert {c.id for c in core.customers(tenant)}.isdisjoint(c.id for c in core.customers(other))


def test_keyset_pages_walk_the_whole_history_once_newest_first(
    core: SandboxBank, tenant: str
) -> None:
    account_id = _first_account(core, tenant)
    seen: list[tuple[dt.datetime, str]] = []
    booked_ids: list[str] = []
    page = core.transactions(tenant, account_id, limit=50)
    pending = [t for t in page.items if t.status == "Pending"]
    held = core.balances(tenant, account_id).held.amount
    # The everyday account of the first customer has card holds unless it is at its limit.
    assert bool(pending) == (held > 0)
    assert sum(t.amount.amount for t in pending) == held
    while True:
        booked = [t for t in page.items if t.status == "Booked"]
        seen.extend((t.booking_datetime, t.id) for t in booked)
        booked_ids.extend(t.id for t in booked)
        if page.next_cursor is None:
            break
        assert len(page.items) == 50
        page = core.transactions(tenant, account_id, after=page.next_cursor, limit=50)
    assert len(booked_ids) == len(set(booked_ids)) > 500
    keys = [(when, int(i)) for when, i in seen]
    assert keys == sorted(keys, reverse=True)
    everything = core.transactions(tenant, account_id, limit=10_000)
    assert [t.id for t in everything.items if t.status == "Booked"] == booked_ids
    assert everything.next_cursor is None


def test_booking_window_bounds_the_history(core: SandboxBank, tenant: str) -> None:
    account_id = _first_account(core, tenant, "Savings")
    now = core.now(tenant)
    start, end = now - dt.timedelta(days=90), now - dt.timedelta(days=30)
    page = core.transactions(tenant, account_id, booked_from=start, booked_to=end, limit=1000)
    assert page.items
    assert all(start <= t.booking_datetime <= end for t in page.items)


def test_transactions_carry_what_account_information_needs(core: SandboxBank, tenant: str) -> None:
    account_id = _first_account(core, tenant)
    items = core.transactions(tenant, account_id, limit=500).items
    booked = [t for t in items if t.status == "Booked"]
    assert all(t.balance_after is not None for t in booked)
    assert all(t.amount.amount > 0 and t.amount.currency == "GBP" for t in items)
    assert any(t.merchant and t.merchant.category_code for t in booked)
    assert all(t.bank_transaction_code for t in booked)
    newest = booked[0]
    assert newest.balance_after == core.balances(tenant, account_id).booked


def test_balances_are_consistent(core: SandboxBank, tenant: str) -> None:
    account_id = _first_account(core, tenant)
    b = core.balances(tenant, account_id)
    assert b.available.amount == b.booked.amount - b.held.amount
    assert b.credit_line.amount == Decimal("1500.00")
    pending = [t for t in core.transactions(tenant, account_id).items if t.status == "Pending"]
    assert b.held.amount == sum((t.amount.amount for t in pending), Decimal(0))
    assert -b.available.amount <= b.credit_line.amount


def test_parties_product_and_instructions(core: SandboxBank, tenant: str) -> None:
    customers = core.customers(tenant)
    cafe = next(c for c in customers if c.name.endswith("Coffee Ltd"))
    trading = core.accounts(tenant, cafe.id)[0]
    parties = core.parties(tenant, trading.id)
    assert [p.party_type for p in parties] == ["Sole", "Delegate"]
    assert parties[0] == core.customer_party(tenant, cafe.id)
    assert core.product(tenant, trading.id).product_type == "BusinessCurrentAccount"
    assert [o.frequency for o in core.standing_orders(tenant, trading.id)] == ["QURT"]
    assert {d.name for d in core.direct_debits(tenant, trading.id)} >= {"HMRC VAT"}
    everyday = _first_account(core, tenant)
    assert len(core.scheduled_payments(tenant, everyday)) == 1
    assert core.beneficiaries(tenant, everyday)
    statements = core.statements(tenant, everyday)
    assert len(statements) >= 12
    assert statements[0].start > statements[-1].start


@pytest.mark.parametrize("first_call", ["now", "accounts"])
def test_due_work_catches_up_as_real_time_passes(
    core: SandboxBank, app: object, session: Session, tenant: str, first_call: str
) -> None:
    # Listing accounts reads the clock in the same statement: it must catch up as well.
    core.ensure_tenant(tenant)
    customer = core.customers(tenant)[0].id
    order = session.scalars(
        select(StandingOrder)
        .join(Account, Account.pk == StandingOrder.account_pk)
        .where(Account.tenant_id == tenant, StandingOrder.frequency == "MNTH")
    ).first()
    assert order is not None
    today = core.now(tenant).date()
    order.next_payment_date = today  # as if the real calendar had reached it
    order.amount = 1  # a penny: affordable whatever the generated balance
    row = session.get_one(Tenant, tenant)
    row.due_checked_at = row.due_checked_at - dt.timedelta(hours=1)
    session.flush()
    fresh = sandbox_core(session, real_time=core.real_time)  # type: ignore[attr-defined]
    if first_call == "now":
        fresh.now(tenant)
    else:
        assert fresh.accounts(tenant, customer)
    session.refresh(order)
    assert order.last_payment_date == today
    assert order.next_payment_date is not None and order.next_payment_date > today


def test_cursor_type_round_trips(core: SandboxBank, tenant: str) -> None:
    account_id = _first_account(core, tenant)
    page = core.transactions(tenant, account_id, limit=20)
    assert isinstance(page.next_cursor, TransactionCursor)
    assert page.next_cursor.booking_datetime.tzinfo is not None
    with pytest.raises(InvalidInstruction):
        core.transactions(tenant, account_id, limit=0)
