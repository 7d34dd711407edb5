"""The sandbox bank bound to one unit of work: its session, its tenants and their clocks.

Every contract the sandbox implements (:mod:`sandbox.accounts`, :mod:`sandbox.payments`,
:mod:`sandbox.administration`) works through a :class:`Binding`: the first call for a tenant
creates its data set if needed and runs whatever fell due since the last look (standing orders,
scheduled payments, card holds); later calls in the same unit of work find it settled.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.errors import UnknownResource
from gateway.core.working_days import WorkingDays
from gateway.store.reads import Reads, SessionReads
from sandbox import clock, tenants
from sandbox import models as m


class Binding:
    """The session, the tenants read so far and the real time behind their clocks."""

    def __init__(
        self,
        session: Session,
        *,
        default_seed: int,
        dataset: tenants.DataSet,
        reads: Reads | None = None,
        real_time: clock.RealTime = clock.system_time,
        working_days: WorkingDays | None = None,
    ) -> None:
        self.session = session
        self.default_seed = default_seed
        # How a new tenant's data set is made (the synthetic data, or a test's own).
        self.dataset = dataset
        # The lone reads of the busiest calls; by default in the unit of work.
        self.reads: Reads = reads or SessionReads(session)
        # Real time, which each tenant's clock offsets: the system's, or one a test pins.
        self.real_time = real_time
        # The days payments are made on (England's unless handed a calendar; tests pin one).
        if working_days is not None:
            session.info[clock.WORKING_DAYS_KEY] = working_days
        self._tenants: dict[str, m.Tenant] = {}
        # Clock offsets of tenants found ready (existing, nothing due) without loading them.
        self._offsets: dict[str, int] = {}

    def _tenant(self, tenant_id: str) -> m.Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            seed = tenants.tenant_seed(self.default_seed, tenant_id)
            tenant = tenants.ensure(
                self.session, tenant_id, seed, dataset=self.dataset, anchor=self._anchor()
            )
            clock.catch_up(self.session, tenant, self.real_time())
            self._tenants[tenant_id] = tenant
        return tenant

    def _offset(self, tenant_id: str) -> int:
        """The tenant's clock offset, once the tenant exists and its due work has run.

        Most calls find the tenant there and nothing due: one light read, no ORM object. Any
        other case takes the full path of :meth:`_tenant`.
        """
        tenant = self._tenants.get(tenant_id)
        if tenant is not None:
            return tenant.clock_offset_seconds
        offset = self._offsets.get(tenant_id)
        if offset is not None:
            return offset
        found = self.reads.execute(clock.CLOCK, {"tenant_id": tenant_id}).first()
        if found is not None and self._settled(
            tenant_id, found.clock_offset_seconds, found.due_checked_at
        ):
            return self._offsets[tenant_id]
        return self._tenant(tenant_id).clock_offset_seconds

    def _settled(self, tenant_id: str, offset: int, due_checked_at: dt.datetime) -> bool:
        """Remember a clock read with nothing due (``False``: due work has to run first)."""
        settled = clock.settled_offset(int(offset), due_checked_at, self.real_time())
        if settled is not None:
            self._offsets[tenant_id] = settled
        return settled is not None

    def _forget(self, tenant_id: str) -> None:
        """Drop what this binding read of a tenant (after a reset replaced it)."""
        self._tenants.pop(tenant_id, None)
        self._offsets.pop(tenant_id, None)

    def _anchor(self) -> dt.datetime:
        """The anchor of a data set made now: real time, to the second."""
        return self.real_time().replace(microsecond=0)

    def now(self, tenant: str) -> dt.datetime:
        """Return the tenant's current time: real time plus its clock's offset."""
        return self.real_time() + dt.timedelta(seconds=self._offset(tenant))

    def _customer_row(self, tenant: str, customer_id: str) -> m.Customer:
        self._offset(tenant)
        row = self.session.scalar(
            select(m.Customer).where(
                m.Customer.tenant_id == tenant, m.Customer.public_id == customer_id
            )
        )
        if row is None:
            raise UnknownResource(f"no customer {customer_id}")
        return row

    def _account_row(self, tenant: str, account_id: str) -> tuple[m.Account, m.Customer]:
        self._offset(tenant)
        found = self.session.execute(
            select(m.Account, m.Customer)
            .join(m.Customer, m.Customer.pk == m.Account.customer_pk)
            .where(m.Account.tenant_id == tenant, m.Account.public_id == account_id)
        ).one_or_none()
        if found is None:
            raise UnknownResource(f"no account {account_id}")
        account, owner = found
        return account, owner
