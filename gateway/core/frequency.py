"""Payment frequencies of OBIE v4.0 (``OBFrequency6``), parsed into a rule a bank can schedule.

``OBFrequency6.Type`` is an ``OBFrequency6Code`` (``MNTH``, ``WEEK``, ...) or a ``Frequency_1``
pattern (Payment Initiation API v4.0, schema ``Frequency_1``): ``EvryDay``, ``EvryWorkgDay``,
``IntrvlDay:NoOfDay``, ``IntrvlWkDay:IntervalInWeeks:DayInWeek``,
``WkInMnthDay:WeekInMonth:DayInWeek``, ``IntrvlMnthDay:IntervalInMonths:DayInMonth``,
``QtrDay:ENGLISH|SCOTTISH|RECEIVED`` (and ``NotKnown``). ``CountPerPeriod`` and ``PointInTime``
refine a code. :func:`parse` turns the three into a :class:`Frequency` whose ``rule`` is one of a
few plain shapes (:mod:`gateway.core.recurrence` gives its dates), or refuses them with one of two
errors, which the APIs answer as:

* :class:`InvalidFrequency`, ``U002`` (``UK.OBIE.Field.Invalid``): the value is not one the schema
  allows: a ``Type`` that is neither a code nor matches the ``Frequency_1`` pattern (an interval
  of ``IntrvlMnthDay:07:..``, a day ``00``, lower case, ...), a ``CountPerPeriod`` below 1 or past
  int32, a ``PointInTime`` that is not two digits or not a day of the code's period, or
  ``CountPerPeriod`` and ``PointInTime`` together (``OBFrequency6``: "should not be used
  alongside").
* :class:`UnsupportedFrequency`, ``U025`` (``UK.OBIE.Unsupported.Frequency``): a valid frequency
  that no schedule follows: ``ADHO``, ``INDA``, ``NONE``, ``NotKnown``; more than one payment per
  period; a ``PointInTime`` on a type it does not refine (only the week and month codes take
  one: the day of the week, ``01`` Monday to ``07`` Sunday, or of the month).

A bank keeps one string per standing order, :attr:`Frequency.schedule`: the ``Type``, or for a
code refined by ``PointInTime`` the ``Frequency_1`` pattern that says the same (``MNTH`` on the
15th is ``IntrvlMnthDay:01:15``), so that ``parse(frequency.schedule)`` gives the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, TypeGuard

# OBFrequency6Code (OB_Internal_CodeSet).
CODES = frozenset(
    {"ADHO", "YEAR", "DAIL", "FRTN", "INDA", "MNTH", "QURT", "MIAN", "WEEK", "WODL", "FOWK",
     "TWMH", "FOMH", "FIMH", "ALMH", "NONE"}
)  # fmt: skip
# Valid types that describe no schedule: ad hoc, intra-day, not known.
UNSCHEDULED = frozenset({"ADHO", "INDA", "NONE", "NotKnown"})
# Frequency_1's pattern, as the Payment Initiation API v4.0 declares it.
FREQUENCY_1 = re.compile(
    r"^(NotKnown)$|^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$"
    r"|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$"
    r"|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$"
    r"|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$"
)
# The quarter days of QtrDay (Frequency_1's description), as (month, day).
QUARTER_DAYS: dict[str, tuple[tuple[int, int], ...]] = {
    "ENGLISH": ((3, 25), (6, 24), (9, 29), (12, 25)),
    "SCOTTISH": ((2, 2), (5, 15), (8, 1), (11, 11)),
    "RECEIVED": ((3, 20), (6, 19), (9, 24), (12, 20)),
}
_WEEK_CODES = {"WEEK": 1, "FRTN": 2, "FOWK": 4}
_MONTH_CODES = {"MNTH": 1, "TWMH": 2, "ALMH": 2, "QURT": 3, "FOMH": 4, "FIMH": 5, "MIAN": 6,
                "YEAR": 12}  # fmt: skip
_PATTERNS = {
    "IntrvlDay": re.compile(r"IntrvlDay:(0[2-9]|[12][0-9]|3[01])"),
    "IntrvlWkDay": re.compile(r"IntrvlWkDay:(0[1-9]):(0[1-7])"),
    "WkInMnthDay": re.compile(r"WkInMnthDay:(0[1-5]):(0[1-7])"),
    "IntrvlMnthDay": re.compile(r"IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01])"),
    "QtrDay": re.compile(r"QtrDay:(ENGLISH|SCOTTISH|RECEIVED)"),
}
_INT32_MAX = 2**31 - 1


class FrequencyError(ValueError):
    """A frequency refused; ``field`` names the ``OBFrequency6`` property at fault (``Type``,
    ``CountPerPeriod`` or ``PointInTime``), ``code`` the OBIE error it is answered with."""

    code: ClassVar[str]

    def __init__(self, message: str, *, field: str = "Type") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def path(self, prefix: str) -> str:
        """The JSON path of the refused property under ``prefix`` (the ``Frequency`` object's
        path, e.g. ``Data.Initiation.MandateRelatedInformation.Frequency``)."""
        return f"{prefix}.{self.field}"


class InvalidFrequency(FrequencyError):
    """Not a value the schema allows: ``U002`` ``UK.OBIE.Field.Invalid``."""

    code = "U002"


class UnsupportedFrequency(FrequencyError):
    """A valid frequency no schedule follows: ``U025`` ``UK.OBIE.Unsupported.Frequency``."""

    code = "U025"


@dataclass(frozen=True, slots=True)
class EveryDays:
    """Every ``days`` calendar days from the first payment date (``DAIL``, ``EvryDay``,
    ``IntrvlDay``; ``WEEK``, ``FRTN``, ``FOWK`` without a day of the week)."""

    days: int


@dataclass(frozen=True, slots=True)
class EveryWorkingDay:
    """Every working day (``WODL``, ``EvryWorkgDay``)."""


@dataclass(frozen=True, slots=True)
class Weekly:
    """Every ``weeks`` weeks on ``weekday`` (ISO 8601: 1 is Monday, 7 Sunday)."""

    weeks: int
    weekday: int


@dataclass(frozen=True, slots=True)
class Monthly:
    """Every ``months`` months on ``day`` (1 to 31, clamped to the month's last day; -1 is the
    last day, -5 the fifth from last), or on the first payment's day when ``day`` is ``None``."""

    months: int
    day: int | None = None


@dataclass(frozen=True, slots=True)
class WeekInMonth:
    """Every month on the ``week``-th ``weekday`` (week 5 is the month's last such weekday)."""

    week: int
    weekday: int


@dataclass(frozen=True, slots=True)
class QuarterDays:
    """Four fixed days a year (``QtrDay``), as (month, day)."""

    name: str
    days: tuple[tuple[int, int], ...]


Rule = EveryDays | EveryWorkingDay | Weekly | Monthly | WeekInMonth | QuarterDays


@dataclass(frozen=True, slots=True)
class Frequency:
    """An ``OBFrequency6`` a bank can schedule: what was asked, and the rule it comes to."""

    type: str
    rule: Rule
    count_per_period: int | None = None
    point_in_time: str | None = None

    @property
    def schedule(self) -> str:
        """The one string a bank keeps (at most 35 characters): the ``Type``, or the
        ``Frequency_1`` pattern equal to a code refined by ``PointInTime``."""
        rule = self.rule
        if self.point_in_time is not None and isinstance(rule, Weekly):
            return f"IntrvlWkDay:{rule.weeks:02d}:{rule.weekday:02d}"
        if self.point_in_time is not None and isinstance(rule, Monthly) and rule.day:
            return f"IntrvlMnthDay:{rule.months:02d}:{rule.day:02d}"
        return self.type


def is_type(text: object) -> TypeGuard[str]:
    """Tell whether ``text`` is a valid ``OBFrequency6.Type``: a code or a ``Frequency_1``
    pattern (schedulable or not)."""
    return isinstance(text, str) and (text in CODES or FREQUENCY_1.fullmatch(text) is not None)


def parse(
    type_: object, count_per_period: object = None, point_in_time: object = None
) -> Frequency:
    """Parse an ``OBFrequency6`` (its ``Type``, ``CountPerPeriod`` and ``PointInTime``; the two
    last ``None`` when absent) into a :class:`Frequency`.

    :class:`InvalidFrequency` (``U002``) for a value the schema does not allow, checked first;
    then :class:`UnsupportedFrequency` (``U025``) for a valid one that no schedule follows.
    """
    if not is_type(type_):
        raise InvalidFrequency(
            f"Frequency type {type_!r} is neither an OBFrequency6Code nor a Frequency_1 pattern"
        )
    count = _count_per_period(count_per_period)
    day = _point_in_time(point_in_time)
    if count is not None and day is not None:
        raise InvalidFrequency(
            "CountPerPeriod and PointInTime must not be used together", field="PointInTime"
        )
    if type_ in UNSCHEDULED:
        raise UnsupportedFrequency(f"Frequency type {type_} has no schedule to follow")
    if count is not None and count > 1:
        raise UnsupportedFrequency(
            f"Only one payment per period is supported, not {count}", field="CountPerPeriod"
        )
    rule = _rule(type_) if day is None else _refined(type_, day)
    return Frequency(type_, rule, count, None if day is None else f"{day:02d}")


def _count_per_period(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFrequency("CountPerPeriod must be an integer", field="CountPerPeriod")
    if not 1 <= value <= _INT32_MAX:
        raise InvalidFrequency(
            f"CountPerPeriod must be a positive int32, not {value}", field="CountPerPeriod"
        )
    return value


def _point_in_time(value: object) -> int | None:
    if value is None:
        return None
    # PointInTime: Exact2NumericText, at most two characters.
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{2}", value):
        raise InvalidFrequency(
            f"PointInTime must be two digits, not {value!r}", field="PointInTime"
        )
    return int(value)


def _refined(type_: str, day: int) -> Rule:
    """The rule of a week or month code whose payment day ``PointInTime`` names."""
    if type_ in _WEEK_CODES:
        if not 1 <= day <= 7:
            raise InvalidFrequency(
                f"PointInTime of {type_} is a day of the week, 01 (Monday) to 07 (Sunday)",
                field="PointInTime",
            )
        return Weekly(_WEEK_CODES[type_], day)
    if type_ in _MONTH_CODES:
        if not 1 <= day <= 31:
            raise InvalidFrequency(
                f"PointInTime of {type_} is a day of the month, 01 to 31", field="PointInTime"
            )
        return Monthly(_MONTH_CODES[type_], day)
    raise UnsupportedFrequency(
        f"PointInTime is supported with the week and month codes only, not with {type_}",
        field="PointInTime",
    )


def _rule(type_: str) -> Rule:
    """The rule of a valid, schedulable ``Type``."""
    if type_ in _MONTH_CODES:
        return Monthly(_MONTH_CODES[type_])
    if type_ in _WEEK_CODES:
        return EveryDays(7 * _WEEK_CODES[type_])
    if type_ in ("DAIL", "EvryDay"):
        return EveryDays(1)
    if type_ in ("WODL", "EvryWorkgDay"):
        return EveryWorkingDay()
    name, _, _ = type_.partition(":")
    found = _PATTERNS[name].fullmatch(type_) if name in _PATTERNS else None
    if found is None:  # FREQUENCY_1 matched: never, unless the two tables disagree
        raise InvalidFrequency(f"Frequency type {type_!r} is not a Frequency_1 pattern")
    values = [int(group) for group in found.groups()] if name != "QtrDay" else []
    if name == "IntrvlDay":
        return EveryDays(values[0])
    if name == "IntrvlWkDay":
        return Weekly(values[0], values[1])
    if name == "WkInMnthDay":
        return WeekInMonth(values[0], values[1])
    if name == "IntrvlMnthDay":
        return Monthly(values[0], values[1])
    return QuarterDays(found.group(1), QUARTER_DAYS[found.group(1)])
