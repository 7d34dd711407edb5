"""Standing orders of every frequency in the sandbox: what is kept when one is made, what is
refused, and the working days it pays on (England's unless the sandbox is handed a calendar)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from gateway.core.accounts import Account
from gateway.core.administration import SandboxBank
from gateway.core.errors import InvalidInstruction
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder, StandingOrderInstruction
from gateway.core.values import Counterparty
from gateway.core.working_days import Weekdays
from tests.common.clock import SANDBOX_START
from tests.common.sandbox import sandbox_core

D = dt.date
START = dt.datetime.fromisoformat(SANDBOX_START)  # Wednesday 4 March 2026
ACME = Counterparty("Acme Ltd", "UK.OBIE.SortCodeAccountNumber", "12345612345678")


def _account(core: SandboxBank, tenant: str) -> Account:
    return next(
        a for c in core.customers(tenant) for a in core.accounts(tenant, c.id)
        if a.account_subtype == "CurrentAccount" and a.currency == "GBP"
    )  # fmt: skip


def _instruction(
    account: Account, frequency: str, first: dt.date, final: dt.date | None = None
) -> StandingOrderInstruction:
    order = PaymentOrder(account.id, Money(Decimal("1.00"), "GBP"), ACME, "SO")
    return StandingOrderInstruction(order, frequency, first, final)


def _paid_days(core: SandboxBank, tenant: str, account: Account, order_id: str) -> list[dt.date]:
    return sorted(
        p.booked_at.date()
        for p in core.payments(tenant, account.id)
        if p.instruction_id == order_id and p.booked_at is not None
    )


def test_a_pattern_is_kept_and_its_first_due_date_is_the_first_on_the_pattern(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: START)
    account = _account(core, tenant)
    # Every other Wednesday, asked for from Thursday 5 March: first due Wednesday 11 March.
    made = core.create_standing_order(
        tenant, _instruction(account, "IntrvlWkDay:02:03", D(2026, 3, 5))
    )
    assert (made.frequency, made.first_payment_date, made.next_payment_date) == (
        "IntrvlWkDay:02:03", D(2026, 3, 5), D(2026, 3, 11),
    )  # fmt: skip
    listed = next(o for o in core.standing_orders(tenant, account.id) if o.id == made.id)
    assert listed.frequency == "IntrvlWkDay:02:03"
    core.advance_clock(tenant, dt.timedelta(days=21))
    assert _paid_days(core, tenant, account, made.id) == [D(2026, 3, 11), D(2026, 3, 25)]
    later = next(o for o in core.standing_orders(tenant, account.id) if o.id == made.id)
    assert (later.last_payment_date, later.next_payment_date) == (D(2026, 3, 25), D(2026, 4, 8))


@pytest.mark.parametrize(
    ("frequency", "first", "final"),
    [
        ("NotKnown", D(2026, 3, 5), None),
        ("ADHO", D(2026, 3, 5), None),
        ("IntrvlMnthDay:07:01", D(2026, 3, 5), None),
        ("Monthly", D(2026, 3, 5), None),
        # The first quarter day after 5 March is 25 March: none falls due by 20 March.
        ("QtrDay:ENGLISH", D(2026, 3, 5), D(2026, 3, 20)),
        ("MNTH", D(2026, 3, 3), None),  # in the past
    ],
)
def test_an_order_the_sandbox_cannot_run_is_refused(
    session: Session, tenant: str, frequency: str, first: dt.date, final: dt.date | None
) -> None:
    core = sandbox_core(session, real_time=lambda: START)
    account = _account(core, tenant)
    with pytest.raises(InvalidInstruction):
        core.create_standing_order(tenant, _instruction(account, frequency, first, final))


def test_the_sandbox_pays_on_englands_working_days_by_default(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: START)
    account = _account(core, tenant)
    # Due on Good Friday 2026 and then 3 May, a Sunday before the May Day bank holiday.
    made = core.create_standing_order(tenant, _instruction(account, "MNTH", D(2026, 4, 3)))
    core.advance_clock(tenant, dt.timedelta(days=62))
    assert _paid_days(core, tenant, account, made.id) == [D(2026, 4, 7), D(2026, 5, 5)]


def test_a_calendar_handed_to_the_sandbox_decides_its_working_days(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: START, working_days=Weekdays())
    account = _account(core, tenant)
    made = core.create_standing_order(tenant, _instruction(account, "MNTH", D(2026, 4, 3)))
    core.advance_clock(tenant, dt.timedelta(days=62))
    assert _paid_days(core, tenant, account, made.id) == [D(2026, 4, 3), D(2026, 5, 4)]


def test_a_payment_waits_for_its_working_day_and_the_final_date_bounds_due_dates(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: START, working_days=Weekdays())
    account = _account(core, tenant)
    # Saturday 7 and Sunday 8 March are paid on Monday 9th; the final date is the Sunday.
    made = core.create_standing_order(
        tenant, _instruction(account, "EvryDay", D(2026, 3, 6), D(2026, 3, 8))
    )
    core.advance_clock(tenant, dt.timedelta(days=3, hours=12))  # Saturday 7th
    assert _paid_days(core, tenant, account, made.id) == [D(2026, 3, 6)]
    waiting = next(o for o in core.standing_orders(tenant, account.id) if o.id == made.id)
    assert waiting.next_payment_date == D(2026, 3, 7)
    core.advance_clock(tenant, dt.timedelta(days=2))  # Monday 9th
    assert _paid_days(core, tenant, account, made.id) == [D(2026, 3, 6)] + [D(2026, 3, 9)] * 2
    done = next(o for o in core.standing_orders(tenant, account.id) if o.id == made.id)
    assert (done.next_payment_date, done.last_payment_date) == (None, D(2026, 3, 9))
