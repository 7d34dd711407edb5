"""The sandbox clock: real time plus a per-tenant offset, and the work that falls due.

``advance`` moves a tenant's clock forward and runs every due-work processor up to the new time;
the same processors also catch up lazily as real time passes (see :func:`catch_up`). Later
features register their own processors with :func:`due_processor` (loan instalments, consent
expiry, event notifications, ...).

Each execution claims its instruction with a guarded UPDATE before posting, inside one savepoint,
so two processes catching up at once never execute the same occurrence twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Update, bindparam, literal_column, select, update
from sqlalchemy.orm import Session

from gateway.core import changes
from gateway.core.errors import BankCoreError
from gateway.core.payments import BOOKING_TIME
from gateway.core.values import Counterparty
from gateway.core.working_days import WorkingDays
from sandbox import catalogue as cat
from sandbox import credit_months, execution, fx_execution, ledger, schedule
from sandbox.ledger import Detail
from sandbox.models import Account, Hold, Payment, ScheduledPayment, StandingOrder, Tenant

# Where real time comes from: the system clock, or a clock a test (or a demo) pins.
RealTime = Callable[[], dt.datetime]


def system_time() -> dt.datetime:
    """Real time from the system clock, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class RunningFrom:
    """Real time that reads ``start`` when made and runs on at the system clock's pace (a
    sandbox pinned to an instant: the same data set and due work at any hour of any day)."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self._origin = time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self._origin)


# How often, at most, a tenant's due work is looked for as real time passes.
CATCH_UP_INTERVAL = dt.timedelta(minutes=1)


@dataclass
class Outcome:
    """What one processor did."""

    executed: int = 0
    rejected: int = 0


@dataclass
class Run:
    """What one run of the processors did, by processor kind."""

    now: dt.datetime
    outcomes: dict[str, Outcome] = field(default_factory=dict)


Processor = Callable[[Session, Tenant, dt.datetime], Outcome]
PROCESSORS: dict[str, Processor] = {}


def due_processor(kind: str) -> Callable[[Processor], Processor]:
    """Register a processor of due work under ``kind``."""

    def register(fn: Processor) -> Processor:
        PROCESSORS[kind] = fn
        return fn

    return register


# Where a sandbox bound to a session keeps the working days it was handed (see
# :func:`working_days`).
WORKING_DAYS_KEY = "sandbox.working_days"


def working_days(session: Session) -> WorkingDays:
    """The working days of the sandbox bound to ``session``: the calendar it was handed, else
    :data:`sandbox.schedule.WORKING_DAYS` (England's)."""
    handed: WorkingDays | None = session.info.get(WORKING_DAYS_KEY)
    return handed if handed is not None else schedule.WORKING_DAYS


def now(tenant: Tenant, real: dt.datetime) -> dt.datetime:
    """Return the tenant's current time: ``real`` time plus its offset."""
    return real + dt.timedelta(seconds=tenant.clock_offset_seconds)


def advance(session: Session, tenant: Tenant, delta: dt.timedelta, real: dt.datetime) -> Run:
    """Move the tenant's clock forward by ``delta`` from ``real`` time and run what falls due."""
    if delta < dt.timedelta(0):
        raise ValueError("the sandbox clock only moves forward")
    tenant.clock_offset_seconds += int(delta.total_seconds())
    session.flush()
    changes.mark(session.info, "tenant", tenant.id)
    return run_due(session, tenant, now(tenant, real))


def catch_up_due(due_checked_at: dt.datetime, current: dt.datetime) -> bool:
    """Whether the last look for due work, at ``due_checked_at``, is older than
    :data:`CATCH_UP_INTERVAL` of sandbox time at ``current``."""
    return due_checked_at + CATCH_UP_INTERVAL <= current


# A tenant's clock as a plain read: every API call asks the time.
CLOCK = select(Tenant.clock_offset_seconds, Tenant.due_checked_at).where(
    Tenant.id == bindparam("tenant_id")
)


def settled_offset(offset: int, due_checked_at: dt.datetime, real: dt.datetime) -> int | None:
    """A clock offset read as such, when nothing is due at the tenant's time (``real`` time plus
    the offset); ``None`` when due work has to run first."""
    current = real + dt.timedelta(seconds=offset)
    return None if catch_up_due(due_checked_at, current) else offset


def catch_up(session: Session, tenant: Tenant, real: dt.datetime) -> Run | None:
    """Run due work if the last run is older than :data:`CATCH_UP_INTERVAL` of sandbox time at
    ``real`` time."""
    current = now(tenant, real)
    if not catch_up_due(tenant.due_checked_at, current):
        return None
    return run_due(session, tenant, current)


def run_due(session: Session, tenant: Tenant, at: dt.datetime) -> Run:
    """Run every registered processor up to ``at``."""
    run = Run(now=at)
    for kind, processor in PROCESSORS.items():
        run.outcomes[kind] = processor(session, tenant, at)
    if tenant.due_checked_at < dt.datetime.combine(at.date().replace(day=1), dt.time(), dt.UTC):
        # A month closed since the last run, its due work now booked: the credit window's
        # months are summed as they close, not by the first decision that needs them.
        credit_months.keep_closed_months(session, tenant.id, at)
    tenant.due_checked_at = at
    session.flush()
    return run


def _booking_time(day: dt.date, at: dt.datetime) -> dt.datetime:
    return min(dt.datetime.combine(day, BOOKING_TIME, dt.UTC), at)


def _tenant_accounts(tenant: Tenant) -> object:
    return select(Account.pk).where(Account.tenant_id == tenant.id).scalar_subquery()


class _Refused(Exception):
    """The bank refused an occurrence it had claimed (the claim rolled back with it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _run(
    session: Session, instruction: execution.Instruction, claim: Update, booked_at: dt.datetime
) -> Payment | None:
    """Claim an occurrence and execute it in one savepoint: the booked payment, or ``None`` when
    another process had claimed it. :class:`_Refused` when the bank refused it: the claim rolled
    back with the refused posting, and the caller moves the schedule on and records why."""
    try:
        with session.begin_nested():
            if not _claimed(session, claim):
                return None
            return fx_execution.execute(session, instruction, booked_at)
    except BankCoreError as exc:
        raise _Refused(str(exc) or type(exc).__name__) from None


@due_processor("standing_order")
def standing_orders(session: Session, tenant: Tenant, at: dt.datetime) -> Outcome:
    """Execute every standing-order payment due by ``at``'s day: each due date in turn, paid on
    that day or, when it is not a working day, on the next working day (due dates come from
    the first payment date, never from the day a payment was made, so nothing drifts)."""
    outcome = Outcome()
    today = at.date()
    calendar = working_days(session)
    due = session.scalars(
        select(StandingOrder).where(
            StandingOrder.account_pk.in_(_tenant_accounts(tenant)),  # type: ignore[arg-type]
            StandingOrder.status == "Active",
            StandingOrder.next_payment_date <= today,
        )
    ).all()
    for order in due:
        try:
            plan = schedule.schedule(order.frequency, order.first_payment_date, calendar)
        except BankCoreError:
            continue  # a frequency no schedule follows (never one the contract accepted)
        while order.next_payment_date is not None and order.next_payment_date <= today:
            day = order.next_payment_date
            paid_on = plan.paid_on(day)
            if paid_on > today or not _standing_order_payment(
                session, order, day, paid_on, plan.next_after(day), at, outcome
            ):
                break
    return outcome


def _standing_order_payment(
    session: Session, order: StandingOrder, day: dt.date, paid_on: dt.date,
    following: dt.date | None, at: dt.datetime, outcome: Outcome,
) -> bool:  # fmt: skip
    """Make the payment of ``order`` due on ``day`` (on ``paid_on``) and move the order on to
    ``following`` (none past the final payment date). ``False`` when another process had
    already made or refused it."""
    if order.final_payment_date and following and following > order.final_payment_date:
        following = None
    move_on = (
        update(StandingOrder)
        .where(StandingOrder.pk == order.pk, StandingOrder.next_payment_date == day)
        .values(next_payment_date=following)
    )
    instruction = _instruction(session, order, "standing_order")
    booked_at = _booking_time(paid_on, at)
    try:
        done = _run(session, instruction, move_on.values(last_payment_date=paid_on), booked_at)
    except _Refused as refused:
        # Refused (e.g. insufficient funds): this payment is skipped, as banks do.
        if not _claimed(session, move_on):
            return False
        execution.reject(session, instruction, booked_at, refused.reason)
        outcome.rejected += 1
        session.refresh(order)
        return True
    if done is None:
        return False  # another process made (or refused) this payment
    outcome.executed += 1
    session.refresh(order)
    return True


def _instruction(
    session: Session, row: StandingOrder | ScheduledPayment, origin: str
) -> execution.Instruction:
    """The execution of a standing order's occurrence or of a scheduled payment."""
    return execution.Instruction(
        debtor=session.get_one(Account, row.account_pk),
        amount=row.amount,
        creditor=Counterparty(row.creditor_name, row.creditor_scheme, row.creditor_identification),
        reference=row.reference,
        origin=origin,
        instruction_id=row.public_id,
        creditor_account_pk=getattr(row, "creditor_account_pk", None),
    )


@due_processor("scheduled_payment")
def scheduled_payments(session: Session, tenant: Tenant, at: dt.datetime) -> Outcome:
    """Execute every scheduled payment due on or before ``at``'s day."""
    outcome = Outcome()
    due = session.scalars(
        select(ScheduledPayment).where(
            ScheduledPayment.account_pk.in_(_tenant_accounts(tenant)),  # type: ignore[arg-type]
            ScheduledPayment.status == "Scheduled",
            ScheduledPayment.execution_date <= at.date(),
        )
    ).all()
    for payment in due:
        instruction = _instruction(session, payment, "scheduled_payment")
        booked_at = _booking_time(payment.execution_date, at)
        claim = (
            update(ScheduledPayment)
            .where(ScheduledPayment.pk == payment.pk, ScheduledPayment.status == "Scheduled")
            .values(status="Executed")
        )
        try:
            done = _run(session, instruction, claim, booked_at)
        except _Refused as refused:
            if _claimed(session, claim.values(status="Rejected")):
                execution.reject(session, instruction, booked_at, refused.reason)
                outcome.rejected += 1
            continue
        if done is not None:
            payment.journal_pk = done.journal_pk
            outcome.executed += 1
    return outcome


def _claimed(session: Session, statement: Update) -> bool:
    """Run a guarded UPDATE of one instruction; tell whether it matched (``False``: another
    process moved the instruction on first)."""
    found: object = session.execute(
        statement.returning(literal_column("1")),
        execution_options={"synchronize_session": "fetch"},
    ).first()
    return found is not None


@due_processor("card_hold")
def card_holds(session: Session, tenant: Tenant, at: dt.datetime) -> Outcome:
    """Settle card authorisations whose merchant clearing time has come."""
    outcome = Outcome()
    due = session.scalars(
        select(Hold).where(
            Hold.account_pk.in_(_tenant_accounts(tenant)),  # type: ignore[arg-type]
            Hold.status == "Active",
            Hold.expires_at <= at,
        )
    ).all()
    for hold in due:
        settlement = ledger.internal_account(session, tenant.id, "card-settlement", hold.currency)
        detail = Detail(
            information=hold.information,
            btc=cat.CARD_PURCHASE,
            proprietary_code="CardPayment",
            merchant_name=hold.merchant_name,
            merchant_mcc=hold.merchant_mcc,
        )
        try:
            ledger.settle_hold(
                session, hold, tenant_id=tenant.id, counter_account_pk=settlement.pk,
                booked_at=min(hold.expires_at, at), detail=detail,
            )  # fmt: skip
            outcome.executed += 1
        except BankCoreError:
            outcome.rejected += 1
    return outcome
