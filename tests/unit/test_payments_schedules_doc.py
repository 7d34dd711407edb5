"""docs/payments-schedules.md shows partners dates and periods: each example is what the code
computes, so that the page cannot drift from the bank."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.consents.vrp_limits import ControlParameters, PeriodicLimit, VrpPayment, breaches
from gateway.consents.vrp_periods import period
from gateway.core.frequency import parse
from gateway.core.money import Money
from gateway.core.recurrence import Schedule
from gateway.core.working_days import Weekdays

DOC = (Path(__file__).resolve().parents[2] / "docs" / "payments-schedules.md").read_text()
D = dt.date
# England's bank holidays of 2026 and 2027 (the page's dates meet no later one).
ENGLAND = Weekdays(
    frozenset(
        {D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25), D(2026, 8, 31),
         D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29),
         D(2027, 5, 3), D(2027, 5, 31), D(2027, 8, 30), D(2027, 12, 27), D(2027, 12, 28)}
    )
)  # fmt: skip
ROW = re.compile(r"^\| (`[^|]+`) \| [^|]+ \| (\d{4}-\d\d-\d\d) \| ([^|]+) \|$", re.MULTILINE)
DUE = re.compile(r"(\d{4}-\d\d-\d\d)(?: \((\d{4}-\d\d-\d\d)\))?")
FREQUENCY_ROWS = ROW.findall(DOC)


def test_the_page_shows_every_code_and_kind_of_pattern() -> None:
    shown = {t for types, _, _ in FREQUENCY_ROWS for t in re.findall(r"`([^`]+)`", types)}
    kinds = {t.partition(":")[0] for t in shown}
    assert {"DAIL", "WEEK", "FRTN", "FOWK", "WODL", "MNTH", "ALMH", "TWMH", "QURT", "FOMH",
            "FIMH", "MIAN", "YEAR"} <= shown  # fmt: skip
    assert {"EvryDay", "EvryWorkgDay", "IntrvlDay", "IntrvlWkDay", "WkInMnthDay",
            "IntrvlMnthDay", "QtrDay"} <= kinds  # fmt: skip
    assert {"QtrDay:ENGLISH", "QtrDay:SCOTTISH", "QtrDay:RECEIVED"} <= shown


@pytest.mark.parametrize(("types", "first", "dues"), FREQUENCY_ROWS, ids=lambda v: str(v)[:24])
def test_each_example_is_what_the_schedule_gives(types: str, first: str, dues: str) -> None:
    expected = [
        (D.fromisoformat(due), D.fromisoformat(paid or due)) for due, paid in DUE.findall(dues)
    ]
    assert len(expected) == 4
    for type_ in re.findall(r"`([^`]+)`", types):
        plan = Schedule.of(parse(type_), D.fromisoformat(first), ENGLAND)
        assert [(plan.due(n), plan.paid_on(plan.due(n))) for n in range(4)] == expected, type_


UTC = dt.UTC
PAYMENT = dt.datetime(2026, 3, 4, 10, tzinfo=UTC)
CONSENT = dt.datetime(2026, 1, 31, 9, tzinfo=UTC)


@pytest.mark.parametrize("type_", ["Day", "Week", "Month", "Half-year", "Year"])
def test_the_calendar_examples(type_: str) -> None:
    row = re.search(rf"^\| `{type_}` \| [^|]+ \| (\S+) to (\S+) \|$", DOC, re.MULTILINE)
    assert row is not None
    found = period(type_, "Calendar", CONSENT, PAYMENT)
    assert (found.start, found.end) == tuple(dt.datetime.fromisoformat(t) for t in row.groups())


def test_the_consent_month_example() -> None:
    row = re.search(r"^\| `Month` \| (2026-01-31T[^|]+), \.\.\. \|$", DOC, re.MULTILINE)
    assert row is not None
    starts = [dt.datetime.fromisoformat(t) for t in row.group(1).split(", ")]
    found = [period("Month", "Consent", CONSENT, CONSENT).start]
    while len(found) < len(starts):
        found.append(period("Month", "Consent", CONSENT, found[-1] + dt.timedelta(days=1)).end)
    assert found == starts


def test_the_message_example() -> None:
    shown = re.search(r"`(The payment of 30\.00 GBP[^`]+)`", DOC)
    assert shown is not None
    limit = PeriodicLimit("Month", "Calendar", Money(Decimal("100.00"), "GBP"))
    control = ControlParameters(Money(Decimal("50.00"), "GBP"), (limit,))
    made = [VrpPayment(Money(Decimal("80.00"), "GBP"), dt.datetime(2026, 3, 2, tzinfo=UTC))]
    proposed = VrpPayment(Money(Decimal("30.00"), "GBP"), PAYMENT)
    (breach,) = breaches(control, CONSENT, made, proposed)
    assert breach.message == " ".join(shown.group(1).split())
