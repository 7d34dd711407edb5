"""The VRP rules as plain functions: a consent's update keeps what the customer approved, a
JSON Patch applies (RFC 6902) or changes nothing, a payment repeats its consent, and a VRP
consent in the customer's words."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from gateway.consents.models import Consent
from gateway.edge.errors import ApiError
from gateway.payments import vrp
from gateway.payments.vrp_consents import CONSENT_FAMILY, patched, request_of
from gateway.payments.wording import currency, limit_line, lines, vrp_lines
from tests.common.vrp import consent_body, payment_body


def consent(body: dict[str, Any]) -> Consent:
    return Consent(
        id="pmc-1", client_id="c", tenant_id="t", kind="payments", status="AUTH",
        data=dict(body["Data"]) | {"family": CONSENT_FAMILY, "Risk": body["Risk"]},
        account_ids=["a-1"], created_at=dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC),
    )  # fmt: skip


def error_of(call: Any, *args: Any) -> tuple[str, str | None]:
    with pytest.raises(ApiError) as caught:
        call(*args)
    detail = caught.value.details[0]
    return detail.code, detail.path


def test_the_consent_gives_back_its_request() -> None:
    body = consent_body()
    assert request_of(consent(body)) == body


def test_a_json_patch_applies_each_operation_in_turn() -> None:
    document = {"Data": {"A": [1, 2], "B": {"C": "x"}}, "Risk": {}}
    result = patched(document, [
        {"op": "add", "path": "/Data/A/-", "value": 3},
        {"op": "add", "path": "/Data/A/0", "value": 0},
        {"op": "replace", "path": "/Data/B/C", "value": "y"},
        {"op": "remove", "path": "/Data/A/1"},
        {"op": "add", "path": "/Risk/a~1b", "value": True},
        {"op": "test", "path": "/Data/B", "value": {"C": "y"}},
    ])  # fmt: skip
    assert result == {"Data": {"A": [0, 2, 3], "B": {"C": "y"}}, "Risk": {"a/b": True}}
    assert document == {"Data": {"A": [1, 2], "B": {"C": "x"}}, "Risk": {}}


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        ([], ("U010", None)),
        ([{"op": "copy", "from": "/Data", "path": "/X"}], ("U002", "[0].op")),
        ([{"op": "add", "path": "/Data/X"}], ("U004", "[0].value")),
        ([{"op": "add", "path": "Data", "value": 1}], ("U002", "[0].path")),
        ([{"op": "replace", "path": "/Data/Z", "value": 1}], ("U002", "[0].path")),
        ([{"op": "remove", "path": "/Data/A/5"}], ("U002", "[0].path")),
        ([{"op": "add", "path": "/Data/Q/R", "value": 1}], ("U002", "[0].path")),
        ([{"op": "add", "path": "", "value": []}], ("U002", None)),
        ([{"op": "test", "path": "/Data/A", "value": []}], ("U002", "[0].value")),
    ],
)
def test_a_json_patch_that_cannot_apply_is_refused(
    operations: Any, expected: tuple[str, str | None]
) -> None:
    assert error_of(patched, {"Data": {"A": [1]}}, operations) == expected


def test_a_payment_repeats_its_consent() -> None:
    body = consent_body()
    held = consent(body)
    sent = payment_body("pmc-1", body)["Data"]
    vrp.check_matches(held, sent)
    vrp.check_kinds(held, sent)
    changed = copy.deepcopy(sent)
    changed["Instruction"]["CreditorAccount"]["Name"] = "Other"
    assert error_of(vrp.check_matches, held, changed) == (
        "U008",
        "Data.Instruction.CreditorAccount.Name",
    )
    # Without a creditor in the consent, the instruction names any.
    del body["Data"]["Initiation"]["CreditorAccount"]
    free = consent(body)
    changed["Initiation"] = copy.deepcopy(body["Data"]["Initiation"])
    vrp.check_matches(free, changed)


def test_the_interaction_type_defaults_to_off_session() -> None:
    body = consent_body(PSUInteractionTypes=["InSession"])
    sent = payment_body("pmc-1", body)["Data"]
    assert error_of(vrp.check_kinds, consent(body), sent) == ("U014", "Data.PSUInteractionType")
    vrp.check_kinds(consent(body), sent | {"PSUInteractionType": "InSession"})


def test_a_vrp_consent_in_words() -> None:
    limits = (("Day", "Calendar", "10.00"), ("Fortnight", "Consent", "50.00"),
              ("Half-year", "Calendar", "900.00"))  # fmt: skip
    body = consent_body("9.99", limits, ValidFromDateTime="2026-03-31T23:30:00+00:00",
                        ValidToDateTime="2026-12-31T12:00:00+00:00")  # fmt: skip
    said = vrp_lines(body["Data"], "2026-03-04T10:00:00+00:00")
    assert said == [
        "Payments to ACME Inc, whenever the app asks",
        "Into sort code 08-08-00, account 21325698",
        "Each payment at most £9.99",
        "At most £10.00 per calendar day",
        # Counted from ValidFromDateTime, a London day: 1 April (BST).
        "At most £50.00 per fortnight, counted from 1 April 2026",
        "At most £900.00 per calendar half-year",
        "Reference: SWEEP-42",
        "From 1 April 2026 until 31 December 2026",
    ]
    assert lines(body["Data"]) == vrp_lines(body["Data"])
    assert currency(body["Data"]) == "GBP"
    week = {"PeriodType": "Week", "PeriodAlignment": "Calendar", "Amount": "5", "Currency": "EUR"}
    assert limit_line(week, None) == "At most €5 per calendar week (Monday to Sunday)"
    week["PeriodAlignment"] = "Consent"
    assert limit_line(week, None) == "At most €5 per week"
