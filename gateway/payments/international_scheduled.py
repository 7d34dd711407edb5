"""International scheduled payments (OBIE v4.0 ``/international-scheduled-payment-consents`` and
``/international-scheduled-payments``): one payment abroad on a future day, converted when it
executes.

The day follows the domestic scheduled payment's rules (:mod:`gateway.payments.scheduled`): after
the bank's today (London) and within a year (U003). The conversion follows the international
payment's (:mod:`gateway.payments.international`); the bank executes it on its day, on the
tenant's clock, at the rate its ``RateType`` gives:

* ``Agreed``: exactly the rate of the locked quote the consent cites, which must still be locked
  when the consent is staged and when the order is submitted, and whose lock must reach the
  moment the payment is booked on its day (:data:`gateway.core.payments.BOOKING_TIME`): U002
  otherwise. Should its lock still have ended by the moment the bank executes the payment, the
  payment is rejected (``RJCT``, reason ``NARR`` with the quote and its expiry) and nothing is
  debited;
* ``Actual`` and ``Indicative``: the rate at the moment it executes, which the order and its
  payment details then report.

The order books the payment's total at the consent's rate; the execution debits what the
conversion costs then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from gateway.consents.models import Consent
from gateway.core.fx import Quote
from gateway.core.fx_orders import FxDesk
from gateway.core.payments import BOOKING_TIME, PaymentsCore
from gateway.edge.errors import ApiError
from gateway.payments import international, scheduled
from gateway.payments.domestic import check_matches, new_order, record
from gateway.payments.models import PaymentOrder
from gateway.payments.orders import Status

FAMILY = "international-scheduled-payments"
CONSENT_FAMILY = "international-scheduled-payment-consents"


def check_day(initiation: dict[str, Any], now: dt.datetime) -> dt.date:
    """The execution day: after the bank's today and within a year (U003)."""
    day = scheduled.execution_day(initiation)
    today = now.astimezone(scheduled.LONDON).date()
    if day <= today:
        raise ApiError.one("U003", f"The execution date must be after {today}",
                           path=scheduled.DATE_PATH)  # fmt: skip
    if day > today + scheduled.HORIZON:
        raise ApiError.one("U003", "The execution date is more than a year ahead",
                           path=scheduled.DATE_PATH)  # fmt: skip
    return day


def check_lock(quote: Quote, initiation: dict[str, Any], day: dt.date) -> None:
    """An agreed quote's lock must last until the payment is booked on ``day`` (U002): a rate
    that cannot be honoured on the day is refused now rather than rejected then."""
    if international.rate_type(initiation) != "Agreed":
        return
    booked = dt.datetime.combine(day, BOOKING_TIME, dt.UTC)
    if quote.expires_at is not None and quote.expires_at < booked:
        raise ApiError.one(
            "U002",
            f"The quote's lock ends at {international.iso(quote.expires_at)}, before the payment "
            f"is made at {international.iso(booked)}",
            path=f"{international.RATE_PATH}.ContractIdentification",
        )


def create_consent(session: Session, desk: FxDesk, *, client_id: str, tenant_id: str,
                   body: dict[str, Any], now: dt.datetime) -> Consent:  # fmt: skip
    """A consent awaiting the customer, with the conversion it states now."""
    initiation = body["Data"]["Initiation"]
    day = check_day(initiation, now)
    quote = international.priced(desk, tenant_id, initiation, now)
    check_lock(quote, initiation, day)
    return international.create_consent(
        session, desk, client_id=client_id, tenant_id=tenant_id, body=body, now=now,
        family=CONSENT_FAMILY, quote=quote,
    )  # fmt: skip


def submit(session: Session, desk: FxDesk, consent: Consent, body: dict[str, Any],
           now: dt.datetime) -> PaymentOrder:  # fmt: skip
    """Book the approved payment for its day with its conversion terms; consume the consent."""
    check_matches(consent, body)
    initiation = consent.data["Initiation"]
    day = check_day(initiation, now)
    quote = international.priced(desk, consent.tenant_id, initiation, now)
    check_lock(quote, initiation, day)
    order = international.bank_order(consent, initiation, quote)
    row = new_order(consent, FAMILY, "isp-", order, now)
    booked = desk.schedule_converted(
        consent.tenant_id, order, day, international.terms(initiation, quote)
    )
    row.bank_payment_id, row.status = booked.id, "ACCP"
    return record(session, consent, row, now)


def status(bank: PaymentsCore, desk: FxDesk, order: PaymentOrder,
           now: dt.datetime) -> list[Status]:  # fmt: skip
    """Every status up to ``now`` (:func:`gateway.payments.scheduled.status`), the execution's
    conversion described."""
    steps = scheduled.status(bank, order, now)
    if order.bank_payment_id is None:
        return steps
    return international.described(steps, desk.conversions(order.tenant_id,
                                                           order.bank_payment_id))  # fmt: skip
