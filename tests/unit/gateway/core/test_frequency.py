"""Parsing OBIE v4.0 ``OBFrequency6``: every code and pattern, and which error refuses what
(``U002`` for a value the schema does not allow, ``U025`` for a valid one no schedule follows)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.frequency import (
    CODES,
    FREQUENCY_1,
    EveryDays,
    EveryWorkingDay,
    Frequency,
    FrequencyError,
    InvalidFrequency,
    Monthly,
    QuarterDays,
    UnsupportedFrequency,
    WeekInMonth,
    Weekly,
    is_type,
    parse,
)

REFERENCE = Path(__file__).parents[4] / "specs/reference/obie-v4.0"


def _schemas(name: str) -> dict[str, Any]:
    document = yaml.safe_load((REFERENCE / name).read_text())
    schemas: dict[str, Any] = document["components"]["schemas"]
    return schemas


PAYMENTS = _schemas("payment-initiation-openapi.yaml")
SPEC_PATTERN = re.compile(PAYMENTS["Frequency_1"]["pattern"].strip())
OB_CODES = set(PAYMENTS["OBFrequency6Code"]["enum"])


def test_the_codes_and_the_pattern_are_the_specifications() -> None:
    assert set(CODES) == OB_CODES
    assert FREQUENCY_1.pattern == SPEC_PATTERN.pattern
    assert "Frequency_1" in str(PAYMENTS["OBFrequency6"]["properties"]["Type"])


@pytest.mark.parametrize(
    ("type_", "rule"),
    [
        ("DAIL", EveryDays(1)),
        ("WEEK", EveryDays(7)),
        ("FRTN", EveryDays(14)),
        ("FOWK", EveryDays(28)),
        ("WODL", EveryWorkingDay()),
        ("MNTH", Monthly(1)),
        ("ALMH", Monthly(2)),
        ("TWMH", Monthly(2)),
        ("QURT", Monthly(3)),
        ("FOMH", Monthly(4)),
        ("FIMH", Monthly(5)),
        ("MIAN", Monthly(6)),
        ("YEAR", Monthly(12)),
        ("EvryDay", EveryDays(1)),
        ("EvryWorkgDay", EveryWorkingDay()),
        ("IntrvlDay:02", EveryDays(2)),
        ("IntrvlDay:31", EveryDays(31)),
        ("IntrvlWkDay:01:01", Weekly(1, 1)),
        ("IntrvlWkDay:09:07", Weekly(9, 7)),
        ("WkInMnthDay:01:03", WeekInMonth(1, 3)),
        ("WkInMnthDay:05:05", WeekInMonth(5, 5)),
        ("IntrvlMnthDay:01:31", Monthly(1, 31)),
        ("IntrvlMnthDay:06:-05", Monthly(6, -5)),
        ("IntrvlMnthDay:12:-01", Monthly(12, -1)),
        ("IntrvlMnthDay:24:15", Monthly(24, 15)),
        ("QtrDay:ENGLISH", QuarterDays("ENGLISH", ((3, 25), (6, 24), (9, 29), (12, 25)))),
        ("QtrDay:SCOTTISH", QuarterDays("SCOTTISH", ((2, 2), (5, 15), (8, 1), (11, 11)))),
        ("QtrDay:RECEIVED", QuarterDays("RECEIVED", ((3, 20), (6, 19), (9, 24), (12, 20)))),
    ],
)
def test_every_schedulable_type_has_its_rule(type_: str, rule: object) -> None:
    parsed = parse(type_)
    assert parsed == Frequency(type_, rule)  # type: ignore[arg-type]
    assert parsed.schedule == type_ and len(type_) <= 35
    assert parse(type_, 1).rule == rule  # one payment per period is the same schedule


@pytest.mark.parametrize(
    "type_",
    [
        "", "mnth", "MONTHLY", "EvryDay ", " EvryDay", "EvryDay\n", "evryday", "IntrvlDay:01",
        "IntrvlDay:32", "IntrvlDay:2", "IntrvlDay:002", "IntrvlWkDay:00:01", "IntrvlWkDay:10:01",
        "IntrvlWkDay:01:08", "IntrvlWkDay:01:00", "WkInMnthDay:06:01", "WkInMnthDay:00:01",
        "WkInMnthDay:01:08", "IntrvlMnthDay:07:01", "IntrvlMnthDay:13:01", "IntrvlMnthDay:00:01",
        "IntrvlMnthDay:01:00", "IntrvlMnthDay:01:32", "IntrvlMnthDay:01:-06",
        "IntrvlMnthDay:01:-00", "IntrvlMnthDay:01:+01", "QtrDay:WELSH", "QtrDay:english",
        "QtrDay", "IntrvlDay:\u0660\u0662", "NotKnown:01",
    ],
)  # fmt: skip
def test_a_type_outside_the_schema_is_invalid_u002(type_: str) -> None:
    with pytest.raises(InvalidFrequency) as refused:
        parse(type_)
    assert (refused.value.code, refused.value.field) == ("U002", "Type")
    assert not is_type(type_)


@pytest.mark.parametrize("type_", [None, 12, ["MNTH"], {"Type": "MNTH"}])
def test_a_type_that_is_not_a_string_is_invalid_u002(type_: object) -> None:
    with pytest.raises(InvalidFrequency):
        parse(type_)


@pytest.mark.parametrize("type_", ["ADHO", "INDA", "NONE", "NotKnown"])
def test_a_valid_type_without_a_schedule_is_unsupported_u025(type_: str) -> None:
    with pytest.raises(UnsupportedFrequency) as refused:
        parse(type_)
    assert (refused.value.code, refused.value.field) == ("U025", "Type")
    assert is_type(type_)
    assert refused.value.path("Data.Frequency") == "Data.Frequency.Type"


@pytest.mark.parametrize(
    ("count", "error", "code"),
    [
        (0, InvalidFrequency, "U002"),
        (-1, InvalidFrequency, "U002"),
        (2**31, InvalidFrequency, "U002"),
        (True, InvalidFrequency, "U002"),
        ("1", InvalidFrequency, "U002"),
        (1.0, InvalidFrequency, "U002"),
        (2, UnsupportedFrequency, "U025"),
        (2**31 - 1, UnsupportedFrequency, "U025"),
    ],
)
def test_count_per_period_other_than_one(
    count: object, error: type[FrequencyError], code: str
) -> None:
    with pytest.raises(error) as refused:
        parse("MNTH", count)
    assert (refused.value.code, refused.value.field) == (code, "CountPerPeriod")


@pytest.mark.parametrize(
    ("type_", "point", "rule", "schedule"),
    [
        ("WEEK", "01", Weekly(1, 1), "IntrvlWkDay:01:01"),
        ("FRTN", "03", Weekly(2, 3), "IntrvlWkDay:02:03"),
        ("FOWK", "07", Weekly(4, 7), "IntrvlWkDay:04:07"),
        ("MNTH", "15", Monthly(1, 15), "IntrvlMnthDay:01:15"),
        ("ALMH", "01", Monthly(2, 1), "IntrvlMnthDay:02:01"),
        ("TWMH", "28", Monthly(2, 28), "IntrvlMnthDay:02:28"),
        ("QURT", "31", Monthly(3, 31), "IntrvlMnthDay:03:31"),
        ("FOMH", "05", Monthly(4, 5), "IntrvlMnthDay:04:05"),
        ("FIMH", "10", Monthly(5, 10), "IntrvlMnthDay:05:10"),
        ("MIAN", "30", Monthly(6, 30), "IntrvlMnthDay:06:30"),
        ("YEAR", "29", Monthly(12, 29), "IntrvlMnthDay:12:29"),
    ],
)
def test_point_in_time_names_the_day_and_is_kept_as_the_equal_pattern(
    type_: str, point: str, rule: object, schedule: str
) -> None:
    parsed = parse(type_, None, point)
    assert (parsed.rule, parsed.point_in_time, parsed.schedule) == (rule, point, schedule)
    assert parse(parsed.schedule).rule == rule


@pytest.mark.parametrize(
    ("type_", "point", "error"),
    [
        ("MNTH", "1", InvalidFrequency),
        ("MNTH", "001", InvalidFrequency),
        ("MNTH", "", InvalidFrequency),
        ("MNTH", 15, InvalidFrequency),
        ("MNTH", "\u0661\u0665", InvalidFrequency),  # Arabic-Indic digits
        ("MNTH", "00", InvalidFrequency),
        ("MNTH", "32", InvalidFrequency),
        ("WEEK", "00", InvalidFrequency),
        ("WEEK", "08", InvalidFrequency),
        ("DAIL", "00", UnsupportedFrequency),
        ("WODL", "01", UnsupportedFrequency),
        ("EvryDay", "01", UnsupportedFrequency),
        ("IntrvlMnthDay:01:15", "15", UnsupportedFrequency),
        ("QtrDay:ENGLISH", "01", UnsupportedFrequency),
    ],
)
def test_point_in_time_refused(type_: str, point: object, error: type[FrequencyError]) -> None:
    with pytest.raises(error) as refused:
        parse(type_, None, point)
    assert refused.value.field == "PointInTime"


def test_count_per_period_and_point_in_time_together_are_invalid() -> None:
    with pytest.raises(InvalidFrequency) as refused:
        parse("MNTH", 1, "15")
    assert refused.value.field == "PointInTime"


def test_schema_errors_come_before_unsupported_ones() -> None:
    with pytest.raises(InvalidFrequency):
        parse("ADHO", 0)
    with pytest.raises(InvalidFrequency):
        parse("NotKnown", None, "1")


# Strings built from the pattern's own pieces, so that most are near misses or hits.
_PIECES = st.sampled_from(
    ["NotKnown", "EvryDay", "EvryWorkgDay", "IntrvlDay", "IntrvlWkDay", "WkInMnthDay",
     "IntrvlMnthDay", "QtrDay", ":", "-", "0", "1", "2", "3", "5", "7", "9", "12", "24", "31",
     "ENGLISH", "SCOTTISH", "RECEIVED", "X", " ", "\n", "MNTH", "WEEK"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=6).map("".join) | st.text(max_size=24))
def test_types_are_exactly_the_codes_and_the_published_pattern(text: str) -> None:
    # ECMA's $ (the schema's regex dialect) matches at the very end only; Python's also before a
    # final newline, which no valid value holds.
    valid = text in OB_CODES or (SPEC_PATTERN.search(text) is not None and "\n" not in text)
    assert is_type(text) == valid
    try:
        frequency = parse(text)
    except UnsupportedFrequency:
        assert valid and text in {"ADHO", "INDA", "NONE", "NotKnown"}
    except InvalidFrequency:
        assert not valid
    else:
        assert valid and parse(frequency.schedule) == frequency


@given(st.sampled_from(["WEEK", "FRTN", "FOWK"]), st.integers(1, 7))
def test_a_refined_week_code_is_kept_as_a_pattern_with_the_same_rule(code: str, day: int) -> None:
    refined = parse(code, None, f"{day:02d}")
    assert parse(refined.schedule).rule == refined.rule
