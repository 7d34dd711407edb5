"""The cut-off of a single-use payment consent (OBIE v4.0 ``CutOffDateTime``) and the window of
its authorisation (``Authorisation.CompletionDateTime``).

The bank states in every consent response the moment after which it no longer takes the payment
order (``Data.CutOffDateTime``, "specified cut-off date and time for the payment consent"). A
consent not consumed by then is rejected: its status reads ``RJCT`` with the StatusReason
``U012`` UK.OBIE.Rules.AfterCutOffDateTime (the v4.0 payment consents' Status enum has no
``EXPD``; the gateway keeps the cut-off as the consent's expiry), and an order submitted after it
is refused with the same code ("{payment-order} consent / resource received after
CutOffDateTime", OB_Internal_CodeSet). The cut-off is a day after the consent was staged, or
earlier where the payment's own date comes first: the start of a scheduled payment's execution
day, the end of a standing order's first payment day (London time: the days the bank books on).

A partner may ask that the customer authorise the consent by ``Authorisation.CompletionDateTime``
("date and time at which the requested authorisation flow must be completed"); after it the
consent page refuses to authorise it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from gateway.edge.errors import ApiError

LONDON = ZoneInfo("Europe/London")
# The StatusReason of a consent rejected at its cut-off (OBExternalStatusReason1Code).
REASON = {
    "StatusReasonCode": "U012",
    "StatusReasonDescription": "The payment order was not received before the consent's cut-off",
}
# How long the bank keeps a staged single payment open for its order.
VALIDITY = dt.timedelta(hours=24)
# The consent families with a cut-off, and the date of the payment that can bring it forward.
_PAYMENT_DAY = {
    "domestic-payment-consents": None,
    "domestic-scheduled-payment-consents": "RequestedExecutionDateTime",
    "domestic-standing-order-consents": "FirstPaymentDateTime",
    "international-payment-consents": None,
    "international-scheduled-payment-consents": "RequestedExecutionDateTime",
    "international-standing-order-consents": "FirstPaymentDateTime",
}


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in London, in UTC."""
    return dt.datetime.combine(day, dt.time(), LONDON).astimezone(dt.UTC)


def applies(family: str) -> bool:
    """Whether consents of ``family`` have a cut-off."""
    return family in _PAYMENT_DAY


def cut_off(family: str, initiation: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """The cut-off of a consent of ``family`` staged at ``now`` (``None`` for a family without
    one: long-lived consents have their own validity)."""
    if family not in _PAYMENT_DAY:
        return None
    latest = now + VALIDITY
    name = _PAYMENT_DAY[family]
    if name == "RequestedExecutionDateTime":
        day = _moment(initiation[name]).astimezone(LONDON).date()
        latest = min(latest, _midnight(day))
    elif name == "FirstPaymentDateTime":
        mandate = initiation.get("MandateRelatedInformation") or {}
        if name in mandate:
            day = _moment(mandate[name]).astimezone(LONDON).date()
            latest = min(latest, _midnight(day + dt.timedelta(days=1)))
    return latest


def check_order_in_time(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    """``U012`` for an order submitted after its consent's cut-off."""
    if expires_at is not None and _aware(expires_at) <= now:
        raise ApiError.one(
            "U012",
            f"The consent's cut-off ({_aware(expires_at).isoformat(timespec='seconds')}) has "
            "passed; stage a new consent",
            path="Data.ConsentId",
        )


def authorisation_closed(data: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """``Authorisation.CompletionDateTime`` when it has passed at ``now``, else ``None``."""
    asked = (data.get("Authorisation") or {}).get("CompletionDateTime")
    if not isinstance(asked, str):
        return None
    try:
        completion = _moment(asked)
    except ValueError:
        return None
    return completion if completion <= now else None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
