"""Control parameters of a domestic VRP consent (OBIE VRP v4.0, OBDomesticVRPControlParameters):
the limits every variable recurring payment made under the consent must stay within.

Plain functions over plain values, in the style of :mod:`gateway.consents.account_access`:

* :func:`control_parameters` reads a consent request's ``ControlParameters`` and refuses what the
  schema's types do not catch: ``U002`` for a malformed amount or date-time, an unknown period
  type or alignment, a calendar-aligned ``Fortnight``; ``U023`` for a currency the gateway does
  not handle; ``U003`` for a ``ValidToDateTime`` not after ``ValidFromDateTime`` (or past).
* :func:`breaches` tells which control parameters a proposed payment breaks, given the payments
  already made under the consent; :func:`check` refuses it with ``U014``
  (``UK.OBIE.Rules.FailsControlParameters``), one error per breach, each naming the limit, its
  period and alignment, and the amount that remains.

The limits, in the order they are checked: ``ValidFromDateTime`` and ``ValidToDateTime`` (the
payment's time inside them, both included); the currency of each limit; the
``MaximumIndividualAmount``; each of ``PeriodicLimits``, whose ``Amount`` bounds the sum of the
payments made in the period (:mod:`gateway.consents.vrp_periods`) that holds the payment's time,
this payment included. Amounts are ``Decimal`` all through.

Why in the consent layer and not the bank core: a consent, its control parameters and the
payments made under it are the gateway's records; the bank-core contract knows accounts and
payments, not consents, and a bank behind the gateway would never see them. The service that
makes a VRP must check and record the payment in one step: it locks the consent's row (``SELECT
... FOR UPDATE``) before it reads the payments made under it, so that two payments made at once
cannot both pass a limit that only one of them fits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.consents.vrp_periods import ALIGNMENTS, PERIOD_TYPES, Period, period
from gateway.core.money import EXPONENTS, Money
from gateway.edge.errors import ApiError, ErrorDetail

# OBActiveCurrencyAndAmount_SimpleType and ActiveOrHistoricCurrencyCode (ASCII digits only).
_AMOUNT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,5})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
PATH = "Data.ControlParameters"
# Where a VRP request carries the amount a breach is about.
AMOUNT_PATH = "Data.Instruction.InstructedAmount"


@dataclass(frozen=True, slots=True)
class PeriodicLimit:
    """At most ``amount`` in each period of ``period_type`` aligned on ``alignment``."""

    period_type: str
    alignment: str
    amount: Money

    def label(self) -> str:
        """How a message names the limit: ``Month limit (Calendar alignment)``."""
        return f"{self.period_type} limit ({self.alignment} alignment)"


@dataclass(frozen=True, slots=True)
class ControlParameters:
    """What a VRP consent allows: every payment at most ``maximum_individual_amount``, the sum in
    each period within each of ``periodic_limits``, between ``valid_from`` and ``valid_to``."""

    maximum_individual_amount: Money
    periodic_limits: tuple[PeriodicLimit, ...]
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class VrpPayment:
    """A payment made, or proposed, under a consent: its amount and when (aware)."""

    amount: Money
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Breach:
    """A control parameter a payment breaks: where it is in the consent (``parameter``, a JSON
    path), why, and for a periodic limit its period and what remained in it."""

    parameter: str
    message: str
    period: Period | None = None
    remaining: Money | None = None
    # The field of the VRP request at fault: its amount, or none for its time.
    path: str | None = AMOUNT_PATH

    def detail(self) -> ErrorDetail:
        """The ``U014`` error that answers the breach."""
        return ErrorDetail("U014", self.message, self.path)


def consent_start(control: ControlParameters, created_at: dt.datetime) -> dt.datetime:
    """Where ``Consent``-aligned periods start: ``ValidFromDateTime``, else the consent's
    creation."""
    return control.valid_from or created_at


def _money_text(money: Money) -> str:
    return f"{money.amount} {money.currency}"


def _in(currency: str, amount: Decimal) -> Money:
    """``amount`` as :class:`Money`, to the currency's exponent."""
    return Money(amount.quantize(Decimal(1).scaleb(-EXPONENTS[currency])), currency)


def spent(
    limit: PeriodicLimit, start: dt.datetime, made: Sequence[VrpPayment], at: dt.datetime
) -> tuple[Period, Decimal]:
    """The period of ``limit`` that holds ``at`` (``start``: the consent's start) and the sum of
    the payments ``made`` in it in the limit's currency."""
    window = period(limit.period_type, limit.alignment, start, at)
    total = sum(
        (
            p.amount.amount
            for p in made
            if p.amount.currency == limit.amount.currency and p.at in window
        ),
        Decimal(0),
    )
    return window, total


def _validity(control: ControlParameters, at: dt.datetime) -> list[Breach]:
    if control.valid_from is not None and at < control.valid_from:
        return [
            Breach(
                f"{PATH}.ValidFromDateTime",
                f"The payment at {at.isoformat()} is before the consent's "
                f"ValidFromDateTime {control.valid_from.isoformat()}",
                path=None,
            )
        ]
    if control.valid_to is not None and at > control.valid_to:
        return [
            Breach(
                f"{PATH}.ValidToDateTime",
                f"The payment at {at.isoformat()} is after the consent's "
                f"ValidToDateTime {control.valid_to.isoformat()}",
                path=None,
            )
        ]
    return []


def _periodic(
    control: ControlParameters, start: dt.datetime, made: Sequence[VrpPayment], proposed: VrpPayment
) -> list[Breach]:
    found = []
    for index, limit in enumerate(control.periodic_limits):
        where = f"{PATH}.PeriodicLimits[{index}]"
        if proposed.amount.currency != limit.amount.currency:
            found.append(
                Breach(
                    where,
                    f"The payment is in {proposed.amount.currency}; the "
                    f"{limit.label()} is in {limit.amount.currency}",
                )
            )
            continue
        window, total = spent(limit, start, made, proposed.at)
        currency = limit.amount.currency
        remaining = _in(currency, max(limit.amount.amount - total, Decimal(0)))
        if total + proposed.amount.amount > limit.amount.amount:
            found.append(
                Breach(
                    where,
                    f"The payment of {_money_text(proposed.amount)} exceeds the {limit.label()} of "
                    f"{_money_text(limit.amount)} for the period {window.describe()}: "
                    f"{_money_text(_in(currency, total))} paid, "
                    f"{_money_text(remaining)} remaining",
                    window,
                    remaining,
                )
            )
    return found


def breaches(
    control: ControlParameters,
    created_at: dt.datetime,
    made: Sequence[VrpPayment],
    proposed: VrpPayment,
) -> tuple[Breach, ...]:
    """The control parameters that ``proposed`` breaks (none: it is allowed), given the consent's
    creation time and the payments already ``made`` under it (those the bank accepted)."""
    if proposed.at.tzinfo is None:
        raise ValueError("a payment's time is aware")
    found = _validity(control, proposed.at)
    maximum = control.maximum_individual_amount
    if proposed.amount.currency != maximum.currency:
        found.append(
            Breach(
                f"{PATH}.MaximumIndividualAmount",
                f"The payment is in {proposed.amount.currency}; the consent's "
                f"limits are in {maximum.currency}",
            )
        )
    elif proposed.amount.amount > maximum.amount:
        found.append(
            Breach(
                f"{PATH}.MaximumIndividualAmount",
                f"The payment of {_money_text(proposed.amount)} exceeds the "
                f"MaximumIndividualAmount of {_money_text(maximum)}",
            )
        )
    found += _periodic(control, consent_start(control, created_at), made, proposed)
    return tuple(found)


def check(
    control: ControlParameters,
    created_at: dt.datetime,
    made: Sequence[VrpPayment],
    proposed: VrpPayment,
) -> None:
    """Refuse ``proposed`` with ``U014`` (one error per breach) unless the control parameters
    allow it."""
    # OB internal code set, U014 UK.OBIE.Rules.FailsControlParameters: "A payment breaches a
    # limitation set by one or more ControlParameters."
    found = breaches(control, created_at, made, proposed)
    if found:
        raise ApiError(*(breach.detail() for breach in found))


# Reading a consent request's ControlParameters --------------------------------------------------


def _invalid(message: str, path: str, code: str = "U002") -> ApiError:
    return ApiError.one(code, message, path=path)


def _money(data: Any, path: str) -> Money:
    """An ``Amount`` and ``Currency`` pair at ``path``, as :class:`Money`."""
    if not isinstance(data, Mapping):
        raise _invalid("An amount and a currency are expected", path)
    amount, currency = data.get("Amount"), data.get("Currency")
    if not isinstance(amount, str) or not _AMOUNT.fullmatch(amount):
        raise _invalid(
            f"{amount!r} is not an amount (up to 13 digits and 5 decimals)", f"{path}.Amount"
        )
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise _invalid(f"{currency!r} is not an ISO 4217 currency code", f"{path}.Currency")
    if currency not in EXPONENTS:
        raise _invalid(f"Currency {currency} is not supported", f"{path}.Currency", "U023")
    value = Decimal(amount)
    exponent = EXPONENTS[currency]
    if value != value.quantize(Decimal(1).scaleb(-exponent)):
        raise _invalid(
            f"{amount} has more than {exponent} decimal places for {currency}", f"{path}.Amount"
        )
    return Money(value.quantize(Decimal(1).scaleb(-exponent)), currency)


def _limit(data: Any, path: str) -> PeriodicLimit:
    if not isinstance(data, Mapping):
        raise _invalid("A periodic limit is an object", path)
    period_type, alignment = data.get("PeriodType"), data.get("PeriodAlignment")
    if period_type not in PERIOD_TYPES:
        raise _invalid(f"PeriodType must be one of {', '.join(PERIOD_TYPES)}", f"{path}.PeriodType")
    if alignment not in ALIGNMENTS:
        raise _invalid(
            f"PeriodAlignment must be one of {', '.join(ALIGNMENTS)}", f"{path}.PeriodAlignment"
        )
    # OBDomesticVRPControlParameters: "a PeriodType of Fortnight the PeriodAlignment must be
    # Consent" (the ISO calendar does not say when a fortnight starts).
    if period_type == "Fortnight" and alignment != "Consent":
        raise _invalid(
            "A PeriodType of Fortnight must have the PeriodAlignment Consent",
            f"{path}.PeriodAlignment",
        )
    return PeriodicLimit(str(period_type), str(alignment), _money(data, path))


def _instant(value: Any, path: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _invalid(f"{value!r} is not a date-time with a time zone offset", path)
    return parsed


def control_parameters(
    data: Mapping[str, Any], now: dt.datetime | None = None
) -> ControlParameters:
    """Read ``Data.ControlParameters`` of a VRP consent request (JSON as sent); refuse what the
    schema's types do not catch (see the module's docstring), and, given ``now``, a
    ``ValidToDateTime`` already past."""
    limits = data.get("PeriodicLimits")
    # OBDomesticVRPControlParameters: PeriodicLimits, minItems 1.
    if not isinstance(limits, list) or not limits:
        raise _invalid("PeriodicLimits must list at least one limit", f"{PATH}.PeriodicLimits")
    control = ControlParameters(
        _money(data.get("MaximumIndividualAmount"), f"{PATH}.MaximumIndividualAmount"),
        tuple(_limit(item, f"{PATH}.PeriodicLimits[{i}]") for i, item in enumerate(limits)),
        _instant(data.get("ValidFromDateTime"), f"{PATH}.ValidFromDateTime"),
        _instant(data.get("ValidToDateTime"), f"{PATH}.ValidToDateTime"),
    )
    valid_from, valid_to = control.valid_from, control.valid_to
    if valid_to is not None and valid_from is not None and valid_to <= valid_from:
        raise _invalid(
            "ValidToDateTime must be after ValidFromDateTime", f"{PATH}.ValidToDateTime", "U003"
        )
    if valid_to is not None and now is not None and valid_to <= now:
        raise _invalid("ValidToDateTime is in the past", f"{PATH}.ValidToDateTime", "U003")
    return control
