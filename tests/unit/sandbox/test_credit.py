"""The sandbox bank's credit decision (``LendingCore.decide``): its summarising read gives the
same summary, so the same decision, as the full read through the account-information contract,
for every persona and every other test customer, whichever months the window holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from gateway.core.credit import CreditRequest, Outcome
from gateway.core.errors import InvalidInstruction, UnknownResource
from sandbox import models as m
from sandbox.core import SandboxCore
from sandbox.credit_months import MonthSum, SummarisedMonth
from sandbox.credit_summary import read_summary
from sandbox.lending import decide, read_histories
from sandbox.lending.decision import instalment
from sandbox.lending.measures import months_measured, summarise, window
from tests.common.sandbox import sandbox_core
from tests.unit.sandbox.lending.test_personas import ANCHORS, PERSONAS, RATE


def _request(kind: str, amount: int, term: int) -> CreditRequest:
    rate = RATE[kind]
    return CreditRequest(
        applicant="Business" if kind == "Business" else "Personal", currency="GBP",
        amount=Decimal(amount), term_months=term,
        instalment=instalment(Decimal(amount), rate, term), annual_rate=rate,
    )  # fmt: skip


def _account_rows(session: Session, tenant: str, customer_id: str) -> list[m.Account]:
    query = (
        select(m.Account)
        .join(m.Customer, m.Customer.pk == m.Account.customer_pk)
        .where(m.Customer.tenant_id == tenant, m.Customer.public_id == customer_id)
        .where(m.Account.account_subtype == "CurrentAccount", m.Account.currency == "GBP")
    )
    return list(session.scalars(query))


def _both_reads(core: SandboxCore, session: Session, tenant: str, customer_id: str) -> None:
    """The summarising read, summing the postings or reading the closed months it kept, and the
    full read agree on ``customer_id``'s accounts."""
    now = core.now(tenant)
    full = summarise(read_histories(core, tenant, customer_id, now.date()), "GBP", now.date())
    rows = _account_rows(session, tenant, customer_id)
    assert read_summary(session, rows, "GBP", now.date(), now) == full
    assert read_summary(session, rows, "GBP", now.date(), now) == full


@pytest.mark.parametrize("anchor", ANCHORS, ids=lambda a: a.date().isoformat())
def test_the_bank_decides_each_persona_as_the_full_read_does(
    session: Session, tenant: str, anchor: dt.datetime
) -> None:
    core = sandbox_core(session, real_time=lambda: anchor)
    customers = {c.name: c for c in core.customers(tenant)}
    today = core.now(tenant).date()
    for name, kind, amount, term, outcome in PERSONAS:
        customer = customers[name]
        accounts = [a.id for a in core.accounts(tenant, customer.id)]
        request = _request(kind, amount, term)
        wired = core.decide(tenant, accounts, request, today)
        full = decide(read_histories(core, tenant, customer.id, today), request, today)
        assert wired == full, name
        assert wired.outcome is outcome, (name, wired)
        _both_reads(core, session, tenant, customer.id)


def test_the_summary_matches_the_full_read_for_every_test_customer(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[1])
    customers = core.customers(tenant)
    assert len(customers) > len(PERSONAS)
    for customer in customers:
        _both_reads(core, session, tenant, customer.id)


def test_only_current_accounts_in_the_loans_currency_are_read(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[0])
    today = core.now(tenant).date()
    request = _request("Personal", 5_000, 36)
    accounts = [a for c in core.customers(tenant) for a in core.accounts(tenant, c.id)]
    others = [a.id for a in accounts if a.account_subtype != "CurrentAccount"]
    assert others
    declined = core.decide(tenant, others, request, today)
    assert declined.outcome is Outcome.DECLINE
    assert "NoIncome" in {r.code for r in declined.reasons}
    euros = [a.id for a in accounts if a.currency != "GBP"]
    assert euros
    assert core.decide(tenant, euros, request, today).outcome is Outcome.DECLINE


def test_unknown_or_missing_accounts_are_refused(session: Session, tenant: str) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[0])
    today = core.now(tenant).date()
    request = _request("Personal", 5_000, 36)
    with pytest.raises(UnknownResource):
        core.decide(tenant, ["acc-nothing"], request, today)
    with pytest.raises(InvalidInstruction):
        core.decide(tenant, [], request, today)
    (someone,) = core.customers(tenant)[:1]
    account = core.accounts(tenant, someone.id)[0].id
    with pytest.raises(UnknownResource):  # another tenant's account is not this tenant's
        core.decide(f"{tenant}-other", [account], request, today)


def test_the_months_kept_are_the_closed_ones_and_a_new_month_is_read_as_it_closes(
    session: Session, tenant: str
) -> None:
    clock = [ANCHORS[0]]
    core = sandbox_core(session, real_time=lambda: clock[0])
    (casey,) = [c for c in core.customers(tenant) if c.name == "Casey Morgan"]
    accounts = [a.id for a in core.accounts(tenant, casey.id)]
    rows = _account_rows(session, tenant, casey.id)
    request = _request("Personal", 3_000, 24)
    for days in (0, 31, 62):
        clock[0] = ANCHORS[0] + dt.timedelta(days=days)
        core = sandbox_core(session, real_time=lambda: clock[0])  # a new request: due work runs
        today = core.now(tenant).date()
        full = decide(read_histories(core, tenant, casey.id, today), request, today)
        assert core.decide(tenant, accounts, request, today) == full
        query = select(SummarisedMonth.month).where(SummarisedMonth.account_pk == rows[0].pk)
        kept = set(session.scalars(query))
        assert kept and max(kept) < today.replace(day=1)
        assert all(month.day == 1 for month in kept)
    assert len(kept) >= 14  # the two months that closed since were read and kept too


def test_a_reset_sandbox_forgets_the_months_kept(session: Session, tenant: str) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[1])
    (olivia,) = [c for c in core.customers(tenant) if c.name == "Olivia Bennett"]
    today = core.now(tenant).date()
    request = _request("Personal", 5_000, 36)
    core.decide(tenant, [a.id for a in core.accounts(tenant, olivia.id)], request, today)
    pks = [a.pk for a in _account_rows(session, tenant, olivia.id)]
    kept = select(func.count()).select_from(MonthSum).where(MonthSum.account_pk.in_(pks))
    assert session.scalar(kept) > 0
    # Spoil the sums kept: were any left (a new account may reuse a deleted one's key), the
    # regenerated tenant would keep them and decide on them.
    session.execute(update(MonthSum).where(MonthSum.account_pk.in_(pks)).values(total=0))
    core.reset_tenant(tenant)
    spoilt = select(func.count()).select_from(MonthSum).where(MonthSum.total == 0)
    assert session.scalar(spoilt) == 0
    (olivia,) = [c for c in core.customers(tenant) if c.name == "Olivia Bennett"]
    accounts = [a.id for a in core.accounts(tenant, olivia.id)]
    full = decide(read_histories(core, tenant, olivia.id, today), request, today)
    assert core.decide(tenant, accounts, request, today) == full


def _kept_months(session: Session, account_pk: int) -> set[dt.date]:
    query = select(SummarisedMonth.month).where(SummarisedMonth.account_pk == account_pk)
    return set(session.scalars(query))


def test_a_new_tenant_keeps_its_credit_window_summed_as_its_history_is_made(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[0])
    now = core.now(tenant)
    start, _ = window(now.date())
    current = select(m.Account).where(
        m.Account.tenant_id == tenant, m.Account.account_subtype == "CurrentAccount",
        m.Account.customer_pk.is_not(None))  # fmt: skip
    accounts = list(session.scalars(current))
    assert accounts
    for account in accounts:  # before any decision
        assert _kept_months(session, account.pk) == set(months_measured(start, now.date()))
    others = select(m.Account.pk).where(m.Account.tenant_id == tenant).except_(
        select(m.Account.pk).where(m.Account.pk.in_([a.pk for a in accounts])))  # fmt: skip
    assert not {pk for pk in session.scalars(others) if _kept_months(session, pk)}
    # What was kept is what summing the postings gives, and so what the full read gives.
    warm = [read_summary(session, [a], "GBP", now.date(), now) for a in accounts]
    session.execute(delete(MonthSum))
    session.execute(delete(SummarisedMonth))
    assert [read_summary(session, [a], "GBP", now.date(), now) for a in accounts] == warm
    (olivia,) = [c for c in core.customers(tenant) if c.name == "Olivia Bennett"]
    _both_reads(core, session, tenant, olivia.id)


def test_the_clock_keeps_a_month_as_it_closes_before_any_decision(
    session: Session, tenant: str
) -> None:
    clock = [ANCHORS[0]]
    core = sandbox_core(session, real_time=lambda: clock[0])
    (casey,) = [c for c in core.customers(tenant) if c.name == "Casey Morgan"]
    (row, *_) = _account_rows(session, tenant, casey.id)
    closing = ANCHORS[0].date().replace(day=1)  # the month the tenant was made in
    assert closing not in _kept_months(session, row.pk)
    clock[0] = ANCHORS[0] + dt.timedelta(days=10)  # the same month: nothing closes
    sandbox_core(session, real_time=lambda: clock[0]).accounts(tenant, casey.id)
    assert closing not in _kept_months(session, row.pk)
    clock[0] = ANCHORS[0] + dt.timedelta(days=31)
    core = sandbox_core(session, real_time=lambda: clock[0])
    core.accounts(tenant, casey.id)  # any call runs the due work, and keeps the month closed
    assert closing in _kept_months(session, row.pk)
    _both_reads(core, session, tenant, casey.id)
