"""The sandbox bank behind the gateway's bank-core contracts (:mod:`gateway.core`).

:class:`SandboxCore` is every contract at once, bound to one unit of work: accounts
(:mod:`sandbox.accounts`), payments (:mod:`sandbox.payments`), administration
(:mod:`sandbox.administration`), lending (:mod:`sandbox.loan_products`; credit decisions in
:mod:`sandbox.lending`), loans (:mod:`sandbox.loans`, serviced on the clock by
:mod:`sandbox.loan_servicing`) and FX (:mod:`sandbox.fx`, :mod:`sandbox.fx_orders`), over the
ledger, the payment engine and the clock. It is given the way to make a new tenant's data set
(:class:`sandbox.tenants.DataSet`, the synthetic data of :mod:`sandbox.synth` in the gateway),
so that the bank itself never depends on its generator.
"""

from __future__ import annotations

from sandbox.accounts import SandboxAccounts
from sandbox.administration import SandboxAdministration
from sandbox.credit import SandboxCredit
from sandbox.fx import SandboxFx
from sandbox.fx_orders import SandboxFxOrders
from sandbox.loan_products import SandboxLending
from sandbox.loans import SandboxLoans
from sandbox.payments import SandboxPayments


class SandboxCore(
    SandboxAccounts,
    SandboxFxOrders,
    SandboxPayments,
    SandboxFx,
    SandboxAdministration,
    SandboxLending,
    SandboxCredit,
    SandboxLoans,
):
    """The sandbox bank, bound to one unit of work: it flushes, the caller commits.

    The first call for a tenant creates its data set if needed and runs whatever fell due since
    the last look (standing orders, scheduled payments, card holds).
    """
