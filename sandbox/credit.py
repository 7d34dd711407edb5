"""The sandbox bank's side of :meth:`gateway.core.lending.LendingCore.decide`.

The bank reads the accounts the applicant shared through its summarising read
(:mod:`sandbox.credit_summary`), not page by page, and applies its rules
(:func:`sandbox.lending.decision.judge`) to the measures: the same decision as
:func:`sandbox.lending.decision.decide` on the full history, in milliseconds even for a busy
till's year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from gateway.core.credit import CreditRequest
from gateway.core.errors import InvalidInstruction, UnknownResource
from sandbox import models as m
from sandbox.binding import Binding
from sandbox.credit_summary import read_summary
from sandbox.lending.decision import Assessment, judge
from sandbox.lending.measures import measures_of


class SandboxCredit(Binding):
    """Credit decisions of the sandbox bank, on the tenant's data."""

    def decide(
        self, tenant: str, account_ids: Sequence[str], request: CreditRequest, as_of: dt.date
    ) -> Assessment:
        """Decide ``request`` from the current accounts in its currency among ``account_ids``
        (see :meth:`gateway.core.lending.LendingCore.decide`)."""
        if not account_ids:
            raise InvalidInstruction("a credit decision needs at least one account")
        self._offset(tenant)
        rows = self.session.scalars(
            select(m.Account).where(
                m.Account.tenant_id == tenant,
                m.Account.public_id.in_(list(account_ids)),
                m.Account.customer_pk.is_not(None),
            )
        ).all()
        missing = set(account_ids) - {a.public_id for a in rows}
        if missing:
            raise UnknownResource(f"no account {sorted(missing)[0]}")
        measured = [
            a
            for a in rows
            if a.account_subtype == "CurrentAccount" and a.currency == request.currency
        ]
        summary = read_summary(self.session, measured, request.currency, as_of, self.now(tenant))
        return judge(measures_of(summary), request)
