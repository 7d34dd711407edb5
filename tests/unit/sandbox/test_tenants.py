"""Tenant lifecycle: lazy creation, reset to seed, and creation races."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.administration import SandboxBank
from gateway.core.errors import UnknownResource
from gateway.store.database import make_engine
from sandbox import tenants
from sandbox.models import Account, Customer, Journal, Posting, Tenant
from sandbox.synth.population import populate
from tests.common.sandbox import sandbox_core


def test_default_seed_differs_per_tenant_and_is_stable() -> None:
    assert tenants.tenant_seed(1, "acme") == tenants.tenant_seed(1, "acme")
    assert tenants.tenant_seed(1, "acme") != tenants.tenant_seed(1, "globex")
    assert tenants.tenant_seed(1, "acme") != tenants.tenant_seed(2, "acme")


def test_reset_restores_the_seeded_data_and_drops_what_happened_since(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    core.ensure_tenant(tenant, seed=77)
    accounts = [a.id for c in core.customers(tenant) for a in core.accounts(tenant, c.id)]
    balances = {a: core.balances(tenant, a).booked for a in accounts}
    core.advance_clock(tenant, dt.timedelta(days=20))
    assert {a: core.balances(tenant, a).booked for a in accounts} != balances

    info = core.reset_tenant(tenant)

    assert info.seed == 77
    assert session.get_one(Tenant, tenant).clock_offset_seconds == 0
    assert [a.id for c in core.customers(tenant) for a in core.accounts(tenant, c.id)] == accounts
    after = {a: core.balances(tenant, a).booked for a in accounts}
    # Same seed and day: the same history (a reset on another day would shift it).
    assert after == balances


def test_reset_with_a_new_seed_changes_the_data(core: SandboxBank, tenant: str) -> None:
    core.ensure_tenant(tenant, seed=1)
    names = [c.name for c in core.customers(tenant)]
    info = core.reset_tenant(tenant, seed=2)
    assert info.seed == 2
    assert [c.name for c in core.customers(tenant)] != names


def test_reset_leaves_no_orphans(core: SandboxBank, session: Session, tenant: str) -> None:
    core.ensure_tenant(tenant)
    counts = _counts(session, tenant)
    core.reset_tenant(tenant)
    session.flush()
    assert _counts(session, tenant) == counts


@pytest.mark.parametrize(
    "hour", ["00:00:00", "05:59:59", "06:00:00", "06:00:01", "13:30:00", "23:59:59"]
)
def test_a_reset_runs_what_fell_due_earlier_that_day_as_a_new_tenant_does(
    session: Session, tenant: str, hour: str
) -> None:
    # A day with due work (the 2nd of a month), at every hour: what the clock booked before the
    # reset is booked again after it, so the data set is the one a new tenant gets.
    real = dt.datetime.fromisoformat(f"2026-03-02T{hour}+00:00")
    core = sandbox_core(session, default_seed=3, real_time=lambda: real)
    core.ensure_tenant(tenant, seed=4)
    counts = _counts(session, tenant)
    core.reset_tenant(tenant)
    session.flush()
    assert _counts(session, tenant) == counts
    core.ensure_tenant(f"{tenant}-new", seed=4)
    assert _counts(session, f"{tenant}-new") == counts


def _counts(session: Session, tenant: str) -> tuple[int, ...]:
    return (
        session.scalar(select(func.count()).where(Customer.tenant_id == tenant)) or 0,
        session.scalar(select(func.count()).where(Account.tenant_id == tenant)) or 0,
        session.scalar(select(func.count()).where(Journal.tenant_id == tenant)) or 0,
        session.scalar(
            select(func.count())
            .select_from(Posting)
            .join(Journal, Journal.pk == Posting.journal_pk)
            .where(Journal.tenant_id == tenant)
        )
        or 0,
    )


def test_reset_of_an_unknown_tenant_is_refused(session: Session, tenant: str) -> None:
    with pytest.raises(LookupError):
        tenants.reset(session, tenant, dataset=populate)


# Lookups that create nothing -------------------------------------------------------------------


def _pinned(session: Session) -> SandboxBank:
    """A sandbox core whose real time stands still, so that two reports of a clock compare."""
    real = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
    return sandbox_core(session, default_seed=3, real_time=lambda: real)


def test_tenant_info_is_what_ensure_tenant_reports(session: Session, tenant: str) -> None:
    core = _pinned(session)
    created = core.ensure_tenant(tenant, seed=9)
    core.advance_clock(tenant, dt.timedelta(hours=5))

    info = core.tenant_info(tenant)

    assert info == dataclasses.replace(created, now=created.now + dt.timedelta(hours=5))
    assert core.ensure_tenant(tenant) == info


def test_tenant_info_of_an_unknown_tenant_raises_and_creates_nothing(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    with pytest.raises(UnknownResource, match=f"no sandbox tenant '{tenant}'"):
        core.tenant_info(tenant)
    assert session.get(Tenant, tenant) is None


def test_list_tenants_gives_each_tenant_once_by_id(session: Session, tenant: str) -> None:
    core = _pinned(session)
    made = [core.ensure_tenant(f"{tenant}-{suffix}", seed=n) for n, suffix in enumerate("ba")]

    listed = core.list_tenants()

    ids = [info.id for info in listed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    ours = [info for info in listed if info.id.startswith(f"{tenant}-")]
    assert ours == sorted(made, key=lambda info: info.id)
    assert tenant not in ids, "listing created no tenant"


def test_lookups_run_no_due_work(session: Session, tenant: str) -> None:
    # Made on a Monday, looked up on the Friday: the clock says Friday, the due work of the days
    # between waits for the first call that uses the tenant.
    monday = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    sandbox_core(session, default_seed=3, real_time=lambda: monday).ensure_tenant(tenant)
    checked = session.get_one(Tenant, tenant).due_checked_at
    friday = sandbox_core(session, default_seed=3, real_time=lambda: monday + dt.timedelta(days=4))

    assert friday.tenant_info(tenant).now == monday + dt.timedelta(days=4)
    assert friday.tenant_info(tenant) in friday.list_tenants()
    session.expire_all()
    assert session.get_one(Tenant, tenant).due_checked_at == checked


@pytest.mark.postgres
def test_two_processes_creating_the_same_tenant_make_one(postgres_url: str, tenant: str) -> None:
    engine = make_engine(postgres_url)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with Session(engine) as s:
                barrier.wait(timeout=10)
                tenants.ensure(s, tenant, 5, dataset=populate)
                s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not errors
        with Session(engine) as s:
            assert s.scalar(select(func.count()).where(Customer.tenant_id == tenant)) == 13
            assert s.scalar(select(func.count()).where(Tenant.id == tenant)) == 1
    finally:
        engine.dispose()
