"""Domestic standing orders (OBIE v4.0 ``/domestic-standing-order-consents`` and
``/domestic-standing-orders``): the same amount paid on every date of a frequency.

The mandate (``MandateRelatedInformation``) gives the ``Frequency`` (every OBFrequency6 code and
Frequency_1 pattern the bank can follow, :mod:`gateway.core.frequency`), the first payment's
date and either the final payment's date or ``NumberOfPayments``. The bank pays one amount
every time: a ``RecurringPaymentAmount`` or ``FinalPaymentAmount`` that differs from the
``FirstPaymentAmount`` is refused (U002), as is a ``RecurringPaymentDateTime`` (the dates follow
from the first one and the frequency). The standing order itself is ``INCO`` (InitiationCompleted)
once the bank set it up; ``/payment-details`` lists ``ACCP`` (accepted) and then each payment's
status (``ACSP``, ``ACSC`` from its settlement cycle, ``RJCT`` with its reason).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from gateway.consents.models import Consent
from gateway.core import frequency
from gateway.core.payments import PaymentsCore, StandingOrderInstruction
from gateway.core.recurrence import Schedule
from gateway.core.working_days import england
from gateway.edge.errors import ApiError
from gateway.payments import domestic, orders, scenarios
from gateway.payments.models import PaymentOrder
from gateway.payments.orders import Status

FAMILY = "domestic-standing-orders"
CONSENT_FAMILY = "domestic-standing-order-consents"
LONDON = ZoneInfo("Europe/London")
MANDATE = "Data.Initiation.MandateRelatedInformation"
FIRST = "FirstPaymentAmount"
# How many payments one standing order may be asked for.
MAX_PAYMENTS = 1000


def _day(value: str) -> dt.date:
    return dt.datetime.fromisoformat(value).astimezone(LONDON).date()


def plan(initiation: dict[str, Any], today: dt.date) -> tuple[str, dt.date, dt.date | None]:
    """The bank's schedule (its frequency string), the first payment day and the final one (or
    ``None``: until cancelled), from a mandate; an OBIE error for what the bank cannot follow."""
    mandate = initiation["MandateRelatedInformation"]
    asked = mandate["Frequency"]
    try:
        freq = frequency.parse(asked["Type"], asked.get("CountPerPeriod"), asked.get("PointInTime"))
    except frequency.FrequencyError as exc:
        raise ApiError.one(exc.code, exc.message, path=exc.path(f"{MANDATE}.Frequency")) from None
    if "FirstPaymentDateTime" not in mandate:
        raise ApiError.one("U001", "A standing order needs its FirstPaymentDateTime",
                           path=f"{MANDATE}.FirstPaymentDateTime")  # fmt: skip
    if "RecurringPaymentDateTime" in mandate:
        raise ApiError.one("U002", "The payments' dates follow from FirstPaymentDateTime and "
                           "the frequency: leave RecurringPaymentDateTime out",
                           path=f"{MANDATE}.RecurringPaymentDateTime")  # fmt: skip
    first = _day(mandate["FirstPaymentDateTime"])
    if first < today:
        raise ApiError.one("U003", f"The first payment must be on {today} or later",
                           path=f"{MANDATE}.FirstPaymentDateTime")  # fmt: skip
    return freq.schedule, first, _final(initiation, freq, first)


def _final(initiation: dict[str, Any], freq: frequency.Frequency, first: dt.date) -> dt.date | None:
    mandate = initiation["MandateRelatedInformation"]
    count = initiation.get("NumberOfPayments")
    if count is not None and "FinalPaymentDateTime" in mandate:
        raise ApiError.one("U005", "Give NumberOfPayments or FinalPaymentDateTime, not both",
                           path="Data.Initiation.NumberOfPayments")  # fmt: skip
    if count is not None:
        if not count.isdigit() or not 1 <= int(count) <= MAX_PAYMENTS:
            raise ApiError.one("U002", f"NumberOfPayments must be 1 to {MAX_PAYMENTS}",
                               path="Data.Initiation.NumberOfPayments")  # fmt: skip
        return Schedule.of(freq, first, england()).due(int(count) - 1)
    if "FinalPaymentDateTime" in mandate:
        final = _day(mandate["FinalPaymentDateTime"])
        if final < first:
            raise ApiError.one("U003", "The final payment is before the first",
                               path=f"{MANDATE}.FinalPaymentDateTime")  # fmt: skip
        return final
    return None


def _same_amounts(initiation: dict[str, Any]) -> None:
    first = initiation[FIRST]
    for name in ("RecurringPaymentAmount", "FinalPaymentAmount"):
        if name in initiation and initiation[name] != first:
            raise ApiError.one("U002", f"The bank pays every payment of a standing order the "
                               f"same amount: {name} must equal {FIRST}",
                               path=f"Data.Initiation.{name}")  # fmt: skip


def create_consent(
    session: Session, *, client_id: str, tenant_id: str, body: dict[str, Any], now: dt.datetime
) -> Consent:
    """A standing-order consent awaiting the customer."""
    initiation = body["Data"]["Initiation"]
    _same_amounts(initiation)
    plan(initiation, now.astimezone(LONDON).date())
    return domestic.create_consent(
        session, client_id=client_id, tenant_id=tenant_id, body=body, now=now,
        family=CONSENT_FAMILY, amount_name=FIRST,
    )  # fmt: skip


def submit(
    session: Session, bank: PaymentsCore, consent: Consent, body: dict[str, Any], now: dt.datetime
) -> PaymentOrder:
    """Set up the approved standing order with the bank and consume the consent."""
    domestic.check_matches(consent, body)
    initiation = body["Data"]["Initiation"]
    schedule, first, final = plan(initiation, now.astimezone(LONDON).date())
    order = domestic.bank_order(consent, initiation, FIRST)
    row = domestic.new_order(consent, FAMILY, "dso-", order, now)
    outcome = scenarios.of(consent, order.amount)
    if outcome is None or outcome.books:
        instruction = StandingOrderInstruction(order, schedule, first, final)
        made = bank.create_standing_order(consent.tenant_id, instruction)
        row.bank_payment_id, row.status = made.id, "ACCP"
    if outcome is not None:
        scenarios.record(row, outcome, now, accepted="INCO")
    return domestic.record(session, consent, row, now)


def status(order: PaymentOrder, now: dt.datetime) -> Status:
    """The standing order's own status: set up (``INCO``) when it was made; for a sandbox
    scenario ``RJCT``, or ``PDNG`` until the bank's decision (``INCO`` or ``RJCT``)."""
    if order.status == "ACCP":
        return Status("INCO", order.created_at)
    return orders.status(order, now)


def payments(bank: PaymentsCore, order: PaymentOrder, now: dt.datetime) -> list[Status]:
    """Every payment status up to ``now``: ``ACCP`` when set up, then each payment's (after
    ``PDNG`` for a pending scenario; ``RJCT`` alone for a rejected one)."""
    steps = orders.history(order, now)
    if order.bank_payment_id is None:
        return steps
    if steps[-1].code == "INCO":
        steps[-1] = Status("ACCP", steps[-1].updated_at)
    elif steps[-1].code != "ACCP":
        return steps
    for made in bank.executions(order.tenant_id, order.bank_payment_id):
        steps.extend(orders.of_execution(made, now))
    return steps
