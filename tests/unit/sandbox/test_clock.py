"""The sandbox clock and the work it makes fall due."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.administration import SandboxBank
from gateway.core.errors import InvalidInstruction
from sandbox import clock
from sandbox.models import Account, Hold, Posting, ScheduledPayment, StandingOrder, Tenant
from tests.common.clock import SANDBOX_START
from tests.common.sandbox import sandbox_core


def _tenant(session: Session, tenant: str) -> Tenant:
    return session.get_one(Tenant, tenant)


def test_clock_is_real_time_plus_offset(session: Session, tenant: str) -> None:
    real = dt.datetime(2026, 5, 17, 22, 15, 3, tzinfo=dt.UTC)
    core = sandbox_core(session, real_time=lambda: real)
    assert core.now(tenant) == real
    core.advance_clock(tenant, dt.timedelta(days=2, hours=3))
    assert core.now(tenant) == real + dt.timedelta(days=2, hours=3)
    assert _tenant(session, tenant).clock_offset_seconds == 2 * 86400 + 3 * 3600


def test_the_configured_clock_runs_on_from_the_sandbox_start(
    app: Flask, core: SandboxBank, tenant: str
) -> None:
    start = app.config["SANDBOX_START"]
    assert start == dt.datetime.fromisoformat(SANDBOX_START)
    first = core.now(tenant)
    assert start <= first < start + dt.timedelta(hours=1)
    assert core.now(tenant) >= first


def test_running_from_an_instant_keeps_the_system_clocks_pace() -> None:
    start = dt.datetime(2026, 1, 1, 6, 0, tzinfo=dt.UTC)
    running = clock.RunningFrom(start)
    first = running()
    time.sleep(0.02)
    second = running()
    assert start <= first < second < start + dt.timedelta(seconds=5)


def test_clock_never_goes_back(core: SandboxBank, tenant: str) -> None:
    with pytest.raises(InvalidInstruction):
        core.advance_clock(tenant, dt.timedelta(seconds=-1))
    with pytest.raises(InvalidInstruction):
        core.advance_clock(tenant, dt.timedelta(0))


def test_advancing_a_month_runs_standing_orders_and_scheduled_payments(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    core.ensure_tenant(tenant)
    orders = session.scalars(
        select(StandingOrder)
        .join(Account, Account.pk == StandingOrder.account_pk)
        .where(Account.tenant_id == tenant)
    ).all()
    assert orders
    due_before = {o.pk: o.next_payment_date for o in orders}
    postings_before = session.scalar(select(func.count()).select_from(Posting))

    run = core.advance_clock(tenant, dt.timedelta(days=35))

    assert run.executed.get("scheduled_payment", 0) + run.rejected.get("scheduled_payment", 0) == 1
    # Every monthly order falls due at least once in 35 days (quarterly ones may not).
    monthly = [o for o in orders if o.frequency == "MNTH"]
    assert run.executed.get("standing_order", 0) + run.rejected.get("standing_order", 0) >= len(
        monthly
    )
    for order in monthly:
        session.refresh(order)
        assert order.next_payment_date is not None
        assert order.next_payment_date > due_before[order.pk]
        assert order.next_payment_date > (core.now(tenant) - dt.timedelta(days=1)).date()
    assert session.scalar(select(func.count()).select_from(Posting)) > postings_before
    payment = session.scalars(
        select(ScheduledPayment)
        .join(Account, Account.pk == ScheduledPayment.account_pk)
        .where(Account.tenant_id == tenant)
    ).one()
    assert payment.status in ("Executed", "Rejected")


def test_running_due_work_twice_executes_nothing_twice(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    core.advance_clock(tenant, dt.timedelta(days=40))
    row = _tenant(session, tenant)
    count = session.scalar(select(func.count()).select_from(Posting))
    again = clock.run_due(session, row, core.now(tenant))
    assert all(o.executed == 0 for o in again.outcomes.values())
    assert session.scalar(select(func.count()).select_from(Posting)) == count


def test_card_holds_settle_when_their_time_comes(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    core.ensure_tenant(tenant)
    query = (
        select(Hold).join(Account, Account.pk == Hold.account_pk).where(Account.tenant_id == tenant)
    )
    if not session.scalars(query).first():
        # This seed left the everyday account at its limit: fund it and authorise a purchase.
        savings = session.scalars(
            select(Account).where(Account.tenant_id == tenant, Account.account_subtype == "Savings")
        ).first()
        everyday = session.scalars(
            select(Account).where(
                Account.tenant_id == tenant, Account.customer_pk == savings.customer_pk,  # type: ignore[union-attr]
                Account.account_subtype == "CurrentAccount",
            )
        ).one()  # fmt: skip
        funding = clock.ledger.internal_account(session, tenant, "clearing", "GBP")
        clock.ledger.post(
            session, tenant_id=tenant, kind="test", booked_at=core.now(tenant),
            legs=[clock.ledger.Leg(funding.pk, -5_000, "GBP", clock.Detail("Top-up")),
                  clock.ledger.Leg(everyday.pk, 5_000, "GBP", clock.Detail("Top-up"))],
        )  # fmt: skip
        now = core.now(tenant)
        clock.ledger.place_hold(
            session, everyday, 1_000, created_at=now, expires_at=now + dt.timedelta(hours=30),
            information="Tesco Stores",
        )  # fmt: skip
    holds = session.scalars(query).all()
    assert holds and all(h.status == "Active" for h in holds)
    account = session.get_one(Account, holds[0].account_pk)
    held_before, booked_before = account.held_amount, account.booked_balance
    assert held_before == sum(h.amount for h in holds)

    core.advance_clock(tenant, dt.timedelta(days=3))

    session.refresh(account)
    for hold in holds:
        session.refresh(hold)
        assert hold.status == "Settled" and hold.settled_journal_pk is not None
    assert account.held_amount == 0
    # The settled amounts are booked (other work may have moved the balance too).
    settled = session.scalar(
        select(func.sum(Posting.amount)).where(
            Posting.journal_pk.in_([h.settled_journal_pk for h in holds]),
            Posting.account_pk == account.pk,
        )
    )
    assert settled == -held_before
    assert account.booked_balance != booked_before


def test_a_standing_order_that_cannot_be_paid_is_skipped_not_half_booked(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    core.ensure_tenant(tenant)
    order = session.scalars(
        select(StandingOrder)
        .join(Account, Account.pk == StandingOrder.account_pk)
        .where(Account.tenant_id == tenant, StandingOrder.frequency == "MNTH")
    ).first()
    assert order is not None
    account = session.get_one(Account, order.account_pk)
    # Make it unaffordable: far more than the account could ever pay.
    order.amount = account.booked_balance + account.credit_limit + 10**9
    session.flush()
    balance = account.booked_balance
    due = order.next_payment_date
    assert due is not None
    days = (due - core.now(tenant).date()).days + 1
    run = core.advance_clock(tenant, dt.timedelta(days=max(days, 1)))
    assert run.rejected.get("standing_order", 0) >= 1
    session.refresh(order)
    assert order.next_payment_date is not None and order.next_payment_date > due
    assert order.last_payment_date != due
    session.refresh(account)
    refused = session.scalar(
        select(func.count())
        .select_from(Posting)
        .where(Posting.account_pk == account.pk, Posting.amount == -order.amount)
    )
    assert refused == 0
    assert account.booked_balance - account.held_amount + account.credit_limit >= 0
    assert balance is not None
