"""Sandbox administration: tenants, their seed and reset, their clock and their test logins.

What ops (the ``gateway`` command), the developer portal and the sandbox API ask of the sandbox
bank; the resource APIs never do. A real bank's core has no such contract: its gateway runs
without the sandbox's pages and commands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gateway.core.accounts import Customer
from gateway.core.bank import BankCore
from gateway.core.fx import FxCore

# The furthest a partner moves its sandbox's clock in one go (the portal, the sandbox API): a
# year, leap day included. Every day passed runs the sandbox's due work.
MAX_ADVANCE = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class SandboxLogin:
    """A test customer's sandbox credentials, shown to the tenant's developers."""

    customer: Customer
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class DueRun:
    """What one ``advance_clock`` executed, by kind (``standing_order``, ``scheduled_payment``)."""

    now: dt.datetime
    executed: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """A tenant's seed, clock and size."""

    id: str
    seed: int
    now: dt.datetime
    customers: int
    accounts: int


class SandboxAdministration(Protocol):
    """The sandbox's tenants, bound to one unit of work (it flushes, the caller commits).

    A tenant's data set is generated on first use, by :meth:`ensure_tenant` or by the first call
    of any bank-core contract that names it (a partner's sandbox appears when first needed).
    """

    def ensure_tenant(
        self,
        tenant: str,
        seed: int | None = None,
        *,
        profile: str = "standard",
        transactions: int | None = None,
    ) -> TenantInfo:
        """Return the tenant, generating its data set from ``seed`` on first use.

        ``profile`` names the size of a new data set (``standard``, or ``large`` with about
        ``transactions`` rows in one business account, for load tests and benchmarks).
        """

    def tenant_info(self, tenant: str) -> TenantInfo:
        """Return an existing tenant as it stands, creating nothing and running no due work;
        :class:`gateway.core.errors.UnknownTenant` if there is none (only
        :meth:`ensure_tenant` makes one)."""

    def list_tenants(self) -> Sequence[TenantInfo]:
        """Return every tenant, ordered by id, as :meth:`tenant_info` would (maybe none)."""

    def reset_tenant(self, tenant: str, seed: int | None = None) -> TenantInfo:
        """Throw away the tenant's data and regenerate it from its seed (or a new one), with its
        clock back at real time."""

    def advance_clock(self, tenant: str, delta: dt.timedelta) -> DueRun:
        """Move the tenant's clock forward by ``delta`` (positive; ``InvalidInstruction``
        otherwise) and execute whatever falls due on the way."""

    def customers(self, tenant: str) -> Sequence[Customer]:
        """Return the tenant's customers."""

    def sandbox_logins(self, tenant: str) -> Sequence[SandboxLogin]:
        """Return the test customers' credentials, shown to the tenant's developers."""


class SandboxBank(BankCore, FxCore, SandboxAdministration, Protocol):
    """The sandbox as ops and the developer portal see it: its administration, and what its
    accounts hold (to show a partner's test customers with their balances)."""
