"""The sandbox's administration contract (:class:`gateway.core.administration.
SandboxAdministration`): tenants, their seed and reset, their clock and their test logins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from gateway.core.accounts import Customer
from gateway.core.administration import DueRun, SandboxLogin, TenantInfo
from gateway.core.errors import InvalidInstruction, UnknownTenant
from sandbox import clock, records, tenants
from sandbox import models as m
from sandbox.binding import Binding


class SandboxAdministration(Binding):
    """What ops, the portal and the sandbox API ask of the sandbox's tenants."""

    def ensure_tenant(
        self,
        tenant: str,
        seed: int | None = None,
        *,
        profile: str = "standard",
        transactions: int | None = None,
    ) -> TenantInfo:
        """Return the tenant, generating its data set from ``seed`` on first use."""
        if self.session.get(m.Tenant, tenant) is None:
            if seed is None:
                seed = tenants.tenant_seed(self.default_seed, tenant)
            tenants.ensure(
                self.session, tenant, seed, dataset=self.dataset, profile=profile,
                transactions=transactions, anchor=self._anchor(),
            )  # fmt: skip
        return self._info(self._tenant(tenant))

    def reset_tenant(self, tenant: str, seed: int | None = None) -> TenantInfo:
        """Throw away the tenant's data and regenerate it from its seed (or a new one)."""
        self._tenant(tenant)
        self._forget(tenant)
        tenants.reset(self.session, tenant, seed, dataset=self.dataset, anchor=self._anchor())
        # A new data set leaves the rest of its anchor day to the clock: run it now, as the first
        # use of a new tenant does (what fell due earlier today would be lost otherwise).
        return self._info(self._tenant(tenant))

    def _info(self, tenant: m.Tenant) -> TenantInfo:
        return self.tenant_info(tenant.id)

    def tenant_info(self, tenant: str) -> TenantInfo:
        """Return an existing tenant as it stands (nothing created, no due work run)."""
        found = tenants.summaries(self.session, self.real_time(), tenant)
        if not found:
            raise UnknownTenant(f"no sandbox tenant {tenant!r}")
        return found[0]

    def list_tenants(self) -> Sequence[TenantInfo]:
        """Return every tenant, ordered by id."""
        return tenants.summaries(self.session, self.real_time())

    def advance_clock(self, tenant: str, delta: dt.timedelta) -> DueRun:
        """Move the tenant's clock forward and execute whatever falls due on the way."""
        if delta <= dt.timedelta(0):
            raise InvalidInstruction("the sandbox clock only moves forward")
        run = clock.advance(self.session, self._tenant(tenant), delta, self.real_time())
        return DueRun(
            now=run.now,
            executed={k: o.executed for k, o in run.outcomes.items() if o.executed},
            rejected={k: o.rejected for k, o in run.outcomes.items() if o.rejected},
        )

    def customers(self, tenant: str) -> Sequence[Customer]:
        """Return the tenant's customers."""
        return [records.customer(c) for c in self._customer_rows(tenant)]

    def sandbox_logins(self, tenant: str) -> Sequence[SandboxLogin]:
        """Return every test customer's username and password, for the developer portal."""
        return [
            SandboxLogin(records.customer(c), c.username, c.password)
            for c in self._customer_rows(tenant)
        ]

    def _customer_rows(self, tenant: str) -> Sequence[m.Customer]:
        self._offset(tenant)
        query = select(m.Customer).where(m.Customer.tenant_id == tenant).order_by(m.Customer.pk)
        return self.session.scalars(query).all()
