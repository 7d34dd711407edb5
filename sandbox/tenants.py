"""Sandbox tenants: one isolated, reproducible data set per partner organisation.

A tenant is created lazily on first use from a seed (by default the gateway's seed mixed with the
tenant id, so two organisations never share data), and can be reset to its seed at any time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.core import changes
from gateway.core.administration import TenantInfo
from sandbox import credit_months
from sandbox.models import Account, Customer, Tenant


class DataSet(Protocol):
    """Makes a new tenant's customers, accounts, instructions and history up to ``anchor``'s day
    (the sandbox's synthetic data, :func:`sandbox.synth.population.populate`, or a test's own)."""

    def __call__(
        self,
        session: Session,
        *,
        tenant_id: str,
        seed: int,
        anchor: dt.datetime,
        profile: str,
        transactions: int | None,
    ) -> object: ...


def tenant_seed(default_seed: int, tenant_id: str) -> int:
    """Return the seed a new tenant gets when none is given."""
    digest = hashlib.blake2b(f"{default_seed}:{tenant_id}".encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big")


def utcnow() -> dt.datetime:
    """Real time, aware, in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def ensure(
    session: Session,
    tenant_id: str,
    seed: int,
    *,
    dataset: DataSet,
    profile: str = "standard",
    transactions: int | None = None,
    anchor: dt.datetime | None = None,
) -> Tenant:
    """Return the tenant, creating it and making its ``dataset`` first if it does not exist.

    Two requests racing to create the same tenant are safe: the loser's insert conflicts on the
    primary key, its savepoint rolls back, and it reads the winner's tenant.
    """
    tenant = session.get(Tenant, tenant_id)
    if tenant is not None:
        return tenant
    anchor = anchor or utcnow()
    try:
        with session.begin_nested():
            tenant = Tenant(
                id=tenant_id,
                seed=seed,
                profile=profile,
                anchor=anchor,
                clock_offset_seconds=0,
                due_checked_at=anchor.replace(hour=0, minute=0, second=0),
                created_at=utcnow(),
            )
            session.add(tenant)
            session.flush()
            dataset(
                session,
                tenant_id=tenant_id,
                seed=seed,
                anchor=anchor,
                profile=profile,
                transactions=transactions,
            )
            # The credit window's months, closed as the history is made, summed once here.
            credit_months.keep_closed_months(session, tenant_id, anchor)
    except IntegrityError:
        existing = session.get(Tenant, tenant_id, populate_existing=True)
        if existing is None:
            raise
        return existing
    return tenant


def reset(
    session: Session,
    tenant_id: str,
    seed: int | None = None,
    *,
    dataset: DataSet,
    anchor: dt.datetime | None = None,
) -> Tenant:
    """Delete the tenant's data and regenerate it from ``seed`` (default: its own seed), as of
    ``anchor`` (default: now) with the clock back at real time. What falls due later on the
    anchor's day is left to the clock (:func:`sandbox.clock.catch_up`), as for a new tenant."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no sandbox tenant {tenant_id!r}")
    seed = tenant.seed if seed is None else seed
    profile = tenant.profile
    session.execute(delete(Tenant).where(Tenant.id == tenant_id))
    session.expunge_all()
    changes.mark(session.info, "tenant", tenant_id)
    return ensure(session, tenant_id, seed, dataset=dataset, profile=profile, anchor=anchor)


def summaries(
    session: Session, real: dt.datetime, tenant_id: str | None = None
) -> list[TenantInfo]:
    """Every tenant (or the one of ``tenant_id``) by id, with its clock at ``real`` time, its
    customers and its customer accounts: three reads whatever the number of tenants."""
    rows = select(Tenant).order_by(Tenant.id)
    customers = select(Customer.tenant_id, func.count()).group_by(Customer.tenant_id)
    accounts = (
        select(Account.tenant_id, func.count())
        .where(Account.customer_pk.is_not(None))
        .group_by(Account.tenant_id)
    )
    if tenant_id is not None:
        rows = rows.where(Tenant.id == tenant_id)
        customers = customers.where(Customer.tenant_id == tenant_id)
        accounts = accounts.where(Account.tenant_id == tenant_id)
    found = session.scalars(rows).all()
    if not found:
        return []
    customer_counts = {tid: n for tid, n in session.execute(customers)}
    account_counts = {tid: n for tid, n in session.execute(accounts)}
    return [
        TenantInfo(
            tenant.id,
            tenant.seed,
            real + dt.timedelta(seconds=tenant.clock_offset_seconds),
            int(customer_counts.get(tenant.id, 0)),
            int(account_counts.get(tenant.id, 0)),
        )
        for tenant in found
    ]
