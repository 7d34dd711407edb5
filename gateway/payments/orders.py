"""A payment order's status on the tenant's clock.

The gateway records what it knew when the order was made: ``ACSP`` (AcceptedSettlementInProcess)
for a payment the bank booked, with the moment it settles (gateway.core.settlement), ``RJCT``
with its reason, or ``PDNG`` (Pending) with the bank's decision and the moment it takes effect
(a sandbox scenario, gateway.payments.scenarios). What a partner reads is that record seen at
the bank's current time: a pending order's decision once its moment has passed, and ``ACSC``
(AcceptedSettlementCompleted) once the settlement moment has passed, its StatusUpdateDateTime
that moment. Nothing runs in the background to make it so, and no read writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from gateway.core.payments import Payment
from gateway.edge.errors import ApiError
from gateway.payments import multi_authorisation
from gateway.payments.models import PaymentOrder

# Why an order whose authorisers did not all answer in time is rejected.
EXPIRED = ("MS03", "Not every authoriser approved the payment by its CompletionDateTime")


@dataclass(frozen=True, slots=True)
class Status:
    """ExternalPaymentTransactionStatus1Code, when it took effect, and why (for RJCT)."""

    code: str
    updated_at: dt.datetime
    reason: str | None = None
    reason_description: str | None = None


def status(order: PaymentOrder, now: dt.datetime) -> Status:
    """The order's status at ``now`` on its tenant's clock."""
    return history(order, now)[-1]


def history(order: PaymentOrder, now: dt.datetime) -> list[Status]:
    """Every status the order has had up to ``now``, oldest first (for payment-details): as
    recorded (after ``PDNG`` while it awaited a second authoriser,
    gateway.payments.multi_authorisation); then, for a ``PDNG`` order
    (gateway.payments.scenarios), its decision once its moment has passed; then ``ACSC`` once
    an ``ACSP`` payment has settled."""
    rejected = order.status == "RJCT"
    steps = [Status(order.status, order.status_updated_at,
                    order.status_reason if rejected else None,
                    order.status_reason_description if rejected else None)]  # fmt: skip
    flow = order.multi_authorisation
    if flow is not None and multi_authorisation.expired(order, now):
        limit = dt.datetime.fromisoformat(flow["Expires"])
        return [Status("PDNG", order.created_at), Status("RJCT", limit, *EXPIRED)]
    if flow is not None and order.status != "PDNG":
        steps.insert(0, Status("PDNG", order.created_at))
    else:
        steps[0] = replace(steps[0], updated_at=order.created_at)
    decided = order.decided_at
    if order.status == "PDNG" and order.decision and decided is not None and decided <= now:
        if order.decision == "RJCT":
            reason = order.status_reason, order.status_reason_description
            return [*steps, Status("RJCT", decided, *reason)]
        steps.append(Status(order.decision, decided))
    if steps[-1].code == "ACSP" and order.settles_at is not None and order.settles_at <= now:
        steps.append(Status("ACSC", order.settles_at))
    return steps


def of_execution(made: Payment, now: dt.datetime) -> list[Status]:
    """The statuses up to ``now`` of one payment the bank made for an instruction (a scheduled
    payment, a standing order's occurrence): ``RJCT`` with its reason, or ``ACSP`` once booked
    and ``ACSC`` from its settlement."""
    if made.status == "Rejected":
        return [
            Status("RJCT", made.created_at, reason_code(made.status_reason), made.status_reason)
        ]
    steps = [Status("ACSP", made.booked_at or made.created_at)]
    if made.settles_at is not None and made.settles_at <= now:
        steps.append(Status("ACSC", made.settles_at))
    return steps


def reason_code(reason: str | None) -> str:
    """The OBExternalStatusReason1Code of the bank's reason: AM04 InsufficientFunds; NARR
    (Narrative: the description says it) for an agreed quote the execution could not use, its
    lock ended or another payment used it; else MS03 NotSpecifiedReasonAgentGenerated."""
    text = (reason or "").lower()
    if "fund" in text:
        return "AM04"
    return "NARR" if "quote" in text else "MS03"


def own(session: Session, order_id: str, client_id: str, family: str) -> PaymentOrder:
    """The payment order ``order_id`` of this client in ``family``; 400 U011 otherwise (OBIE
    Read/Write Data API Profile v4.0: an unknown resource id is a 400, not a 404)."""
    order = session.get(PaymentOrder, order_id)
    if order is None or order.client_id != client_id or order.family != family:
        raise ApiError.one("U011", f"No {family} resource with this id", status=400)
    return order
