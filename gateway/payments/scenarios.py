"""Sandbox scenarios: amounts that make the bank give each outcome a real bank can give.

A partner rehearses what its customers will meet (the way TrueLayer's mock providers and Plaid's
test users let them) by sending one of these ``InstructedAmount`` values, in any currency the
bank pays; every other amount is paid as the bank pays it. The catalogue for partners is
``docs/scenarios.md``.

======  ==============================  =========================================================
amount  outcome                         what the partner reads
======  ==============================  =========================================================
 4.04   funds not available             funds confirmation ``false``; the order ``RJCT`` ``AM04``
 6.66   rejected                        the order ``RJCT`` ``RR04`` (RegulatoryReason) at once
 7.77   pending, then accepted          ``PDNG``; at the next settlement cycle ``ACSP`` (booked
                                        at submission), at the one after ``ACSC``
 8.88   pending, then rejected          ``PDNG``; at the next settlement cycle ``RJCT`` ``FR01``
                                        (Fraud); nothing is booked, so nothing is reversed
======  ==============================  =========================================================

The decision is the bank's, taken when the order is submitted and read on the tenant's clock
(:mod:`gateway.payments.orders`): a pending order records when it is decided and how, and reads
derive the later statuses, so nothing runs in the background and no read writes.

Scenarios are the sandbox's: only a sandbox app's payments rehearse them; a production app's
trigger amount is paid as the bank pays any other (:func:`of`).

The hook, for every payment family (domestic, scheduled, standing orders; VRP and file payments
may call it the same way): ``outcome = scenarios.of(consent, amount)`` before asking the bank, and
when it is not ``None`` and not ``outcome.books``, ask the bank nothing; then
``scenarios.record(row, outcome, now)`` on the order's row. ``funds_available`` answers a funds
confirmation of a triggered amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import object_session

from gateway.consents.models import Consent
from gateway.core.money import Money
from gateway.core.settlement import next_cycle
from gateway.payments.models import PaymentOrder
from partners.models import App


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the bank makes of an order for a trigger amount.

    ``pending``: the order is ``PDNG`` until the next settlement cycle, then its decision;
    ``accepted``: the decision is to pay (``ACSP``), else ``RJCT`` with ``reason``
    (an OBExternalStatusReason1Code) and ``description``.
    """

    name: str
    pending: bool
    accepted: bool
    reason: str | None = None
    description: str | None = None

    @property
    def books(self) -> bool:
        """Whether the bank books the payment at submission (only one it will accept)."""
        return self.accepted


INSUFFICIENT_FUNDS = Outcome(
    "funds-not-available", pending=False, accepted=False, reason="AM04",
    description="The debtor account has not enough funds available",
)  # fmt: skip
TRIGGERS: dict[Decimal, Outcome] = {
    Decimal("4.04"): INSUFFICIENT_FUNDS,
    Decimal("6.66"): Outcome(
        "rejected",
        pending=False,
        accepted=False,
        reason="RR04",
        description="The bank's regulatory screening stopped the payment",
    ),
    Decimal("7.77"): Outcome("pending-then-accepted", pending=True, accepted=True),
    Decimal("8.88"): Outcome(
        "pending-then-rejected",
        pending=True,
        accepted=False,
        reason="FR01",
        description="The bank's fraud checks stopped the payment",
    ),
}


def triggered(amount: Money) -> Outcome | None:
    """The scenario an amount triggers, in any currency; ``None`` for every other amount."""
    return TRIGGERS.get(amount.amount)


def rehearses(consent: Consent) -> bool:
    """Whether the consent's app is a sandbox app, whose payments rehearse the scenarios (read
    in the consent's own unit of work)."""
    session = object_session(consent)
    if session is None:
        return False
    # The one column, not the app's row (its registered keys and the rest are not needed here).
    environment = session.scalar(select(App.environment).where(App.client_id == consent.client_id))
    return environment == "sandbox"


def of(consent: Consent, amount: Money) -> Outcome | None:
    """The scenario an order of ``amount`` under ``consent`` triggers: ``None`` for a production
    app's, whatever the amount."""
    return triggered(amount) if rehearses(consent) else None


def funds_available(consent: Consent, amount: Money) -> bool | None:
    """The answer of a funds confirmation for a trigger amount of a sandbox app (``False`` for
    the funds-not-available amount); ``None``: ask the bank."""
    return False if of(consent, amount) is INSUFFICIENT_FUNDS else None


def record(row: PaymentOrder, outcome: Outcome, now: dt.datetime, accepted: str = "ACSP") -> None:
    """Write the outcome on an order's row submitted at ``now``: ``RJCT`` with its reason, or
    ``PDNG`` with its decision at the next settlement cycle: ``accepted`` (the family's status
    of an accepted order: ``ACSP`` for a payment now, which then settles at the cycle after;
    ``ACCP`` for a scheduled payment, ``INCO`` for a standing order) or ``RJCT``."""
    if not outcome.pending:
        row.status = "RJCT"
    else:
        row.status = "PDNG"
        row.decided_at = next_cycle(now)
        row.decision = accepted if outcome.accepted else "RJCT"
        row.settles_at = None
        if outcome.accepted and accepted == "ACSP":
            row.settles_at = next_cycle(row.decided_at)
    if not outcome.accepted:
        row.status_reason, row.status_reason_description = outcome.reason, outcome.description
