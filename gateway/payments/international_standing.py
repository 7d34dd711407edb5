"""International standing orders (OBIE v4.0 ``/international-standing-order-consents`` and
``/international-standing-orders``): the same amount abroad on every date of a frequency.

The mandate follows the domestic standing order's rules (:mod:`gateway.payments.standing_orders`:
frequency, first payment, ``NumberOfPayments`` or final payment). The initiation has no
``ExchangeRateInformation`` in v4.0: every payment converts at the rate when it executes
(``Actual``), on the tenant's clock, which its payment details report. ``InstructedAmount`` is in
pounds (the amount converted is fixed) or in ``CurrencyOfTransfer`` (the amount received is).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from gateway.consents.models import Consent
from gateway.core.fx_orders import FxDesk
from gateway.core.payments import PaymentsCore, StandingOrderInstruction
from gateway.payments import international
from gateway.payments import standing_orders as domestic_orders
from gateway.payments.domestic import check_matches, new_order, record
from gateway.payments.models import PaymentOrder
from gateway.payments.orders import Status

FAMILY = "international-standing-orders"
CONSENT_FAMILY = "international-standing-order-consents"


def create_consent(session: Session, desk: FxDesk, *, client_id: str, tenant_id: str,
                   body: dict[str, Any], now: dt.datetime) -> Consent:  # fmt: skip
    """A standing-order consent awaiting the customer, with the indicative conversion now."""
    domestic_orders.plan(body["Data"]["Initiation"], now.astimezone(domestic_orders.LONDON).date())
    return international.create_consent(
        session, desk, client_id=client_id, tenant_id=tenant_id, body=body, now=now,
        family=CONSENT_FAMILY,
    )  # fmt: skip


def submit(session: Session, desk: FxDesk, consent: Consent, body: dict[str, Any],
           now: dt.datetime) -> PaymentOrder:  # fmt: skip
    """Set up the approved standing order with its conversion terms; consume the consent."""
    check_matches(consent, body)
    initiation = consent.data["Initiation"]
    schedule, first, final = domestic_orders.plan(
        initiation, now.astimezone(domestic_orders.LONDON).date()
    )
    quote = international.priced(desk, consent.tenant_id, initiation, now)
    order = international.bank_order(consent, initiation, quote)
    row = new_order(consent, FAMILY, "iso-", order, now)
    made = desk.standing_order_converted(
        consent.tenant_id, StandingOrderInstruction(order, schedule, first, final),
        international.terms(initiation, quote),
    )  # fmt: skip
    row.bank_payment_id, row.status = made.id, "ACCP"
    return record(session, consent, row, now)


def payments(bank: PaymentsCore, desk: FxDesk, order: PaymentOrder,
             now: dt.datetime) -> list[Status]:  # fmt: skip
    """Every payment status up to ``now`` (:func:`gateway.payments.standing_orders.payments`),
    each execution's conversion described."""
    steps = domestic_orders.payments(bank, order, now)
    if order.bank_payment_id is None:
        return steps
    return international.described(steps, desk.conversions(order.tenant_id,
                                                           order.bank_payment_id))  # fmt: skip
