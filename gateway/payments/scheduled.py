"""Domestic scheduled payments (OBIE v4.0 ``/domestic-scheduled-payment-consents`` and
``/domestic-scheduled-payments``): one payment the bank executes on a future day.

The order books the payment with the bank for the day of ``RequestedExecutionDateTime`` (London
time); the tenant's clock executes it that day through the same path as an immediate payment.
What a partner reads is the bank's instruction as it stands: ``ACCP`` (AcceptedCustomerProfile)
while it waits for its day, then the execution's status (``ACSP`` until the settlement cycle,
``ACSC`` after, or ``RJCT`` with its reason), or ``CANC`` once cancelled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from gateway.consents.models import Consent
from gateway.core.payments import PaymentsCore
from gateway.edge.errors import ApiError
from gateway.payments import domestic, orders, scenarios
from gateway.payments.models import PaymentOrder
from gateway.payments.orders import Status

FAMILY = "domestic-scheduled-payments"
CONSENT_FAMILY = "domestic-scheduled-payment-consents"
LONDON = ZoneInfo("Europe/London")
DATE_PATH = "Data.Initiation.RequestedExecutionDateTime"
# How far ahead the bank books a payment.
HORIZON = dt.timedelta(days=366)


def execution_day(initiation: dict[str, Any]) -> dt.date:
    """The bank day (London) of ``RequestedExecutionDateTime``."""
    moment = dt.datetime.fromisoformat(initiation["RequestedExecutionDateTime"])
    if moment.tzinfo is None:
        raise ApiError.one(
            "U003", "RequestedExecutionDateTime needs its UTC offset", path=DATE_PATH
        )
    return moment.astimezone(LONDON).date()


def create_consent(
    session: Session, *, client_id: str, tenant_id: str, body: dict[str, Any], now: dt.datetime
) -> Consent:
    """A scheduled payment consent awaiting the customer: its day must be after the bank's
    today (U003 UK.OBIE.Field.InvalidDate) and within a year."""
    day = execution_day(body["Data"]["Initiation"])
    today = now.astimezone(LONDON).date()
    if day <= today:
        raise ApiError.one("U003", f"The execution date must be after {today}", path=DATE_PATH)
    if day > today + HORIZON:
        raise ApiError.one("U003", "The execution date is more than a year ahead", path=DATE_PATH)
    return domestic.create_consent(
        session, client_id=client_id, tenant_id=tenant_id, body=body, now=now,
        family=CONSENT_FAMILY,
    )  # fmt: skip


def submit(
    session: Session, bank: PaymentsCore, consent: Consent, body: dict[str, Any], now: dt.datetime
) -> PaymentOrder:
    """Book the approved payment for its day and consume the consent."""
    domestic.check_matches(consent, body)
    initiation = body["Data"]["Initiation"]
    day = execution_day(initiation)
    if day <= now.astimezone(LONDON).date():
        raise ApiError.one("U003", "The execution date has passed", path=DATE_PATH)
    order = domestic.bank_order(consent, initiation)
    row = domestic.new_order(consent, FAMILY, "dsp-", order, now)
    outcome = scenarios.of(consent, order.amount)
    if outcome is None or outcome.books:
        booked = bank.schedule_payment(consent.tenant_id, order, day)
        row.bank_payment_id, row.status = booked.id, "ACCP"
    if outcome is not None:
        scenarios.record(row, outcome, now, accepted="ACCP")
    return domestic.record(session, consent, row, now)


def status(bank: PaymentsCore, order: PaymentOrder, now: dt.datetime) -> list[Status]:
    """Every status of the order up to ``now``, oldest first (the last is the current one):
    ``ACCP`` (after ``PDNG`` for a pending scenario), then ``CANC`` or its execution's; or
    ``RJCT``."""
    steps = orders.history(order, now)
    if steps[-1].code != "ACCP" or order.bank_payment_id is None:
        return steps
    instruction = order.bank_payment_id
    if bank.scheduled_payment(order.tenant_id, instruction).status == "Cancelled":
        return [*steps, Status("CANC", order.status_updated_at)]
    for made in bank.executions(order.tenant_id, instruction):
        steps.extend(orders.of_execution(made, now))
    return steps
