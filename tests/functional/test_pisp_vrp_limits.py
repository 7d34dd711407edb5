"""A VRP consent's control parameters on the tenant's clock (OBIE VRP v4.0,
OBDomesticVRPControlParameters): each payment within the MaximumIndividualAmount, the payments
of each period within its PeriodicLimits entry, aligned on the calendar or on the consent, and
none outside ValidFromDateTime and ValidToDateTime. A breach is 400 U014
(UK.OBIE.Rules.FailsControlParameters).

The tenant's clock starts on Wednesday 4 March 2026 at 10:00 (London, GMT); the consent is made
then, and each case moves the clock to a moment still in the first period (the limit holds) and
then to one in the next (the limit starts again)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from partners.example_client import GatewayError
from tests.common.oauth import Partner, register_partner
from tests.common.vrp import (
    CONSENTS,
    PAYMENTS,
    advance,
    authorised_vrp,
    consent_body,
    first_error,
    payment_body,
    reader,
)

AMOUNT_PATH = "Data.Instruction.InstructedAmount"
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


Json = dict[str, Any]


def pay(partner: Partner, token: str, consent_id: str, body: Json, amount: str) -> Json:
    paid: Json = partner.client.post_signed(PAYMENTS, token, payment_body(consent_id, body, amount))
    return paid


def breach(partner: Partner, token: str, consent_id: str, body: Json, amount: str) -> Json:
    with pytest.raises(GatewayError) as caught:
        pay(partner, token, consent_id, body, amount)
    assert caught.value.status == 400
    error: Json = caught.value.body["Errors"][0]
    assert error["ErrorCode"] == "U014", caught.value.body
    return error


# (PeriodType, PeriodAlignment, a moment still in the consent's first period, one in the next)
PERIODS = [
    ("Day", "Calendar", 13 * HOUR, 15 * HOUR),  # midnight
    ("Day", "Consent", 15 * HOUR, 25 * HOUR),  # 10:00 the next day
    ("Week", "Calendar", 4 * DAY, 5 * DAY),  # Monday 9 March
    ("Week", "Consent", 5 * DAY, 7 * DAY + HOUR),  # Wednesday 11 March, 10:00
    ("Fortnight", "Consent", 13 * DAY, 14 * DAY + HOUR),  # Wednesday 18 March, 10:00
    ("Month", "Calendar", 20 * DAY, 28 * DAY),  # 1 April
    ("Month", "Consent", 28 * DAY, 31 * DAY + HOUR),  # 4 April, 10:00 BST
    ("Half-year", "Calendar", 100 * DAY, 120 * DAY),  # 1 July
    ("Half-year", "Consent", 120 * DAY, 185 * DAY),  # 4 September
    ("Year", "Calendar", 200 * DAY, 303 * DAY),  # 1 January 2027
    ("Year", "Consent", 303 * DAY, 366 * DAY),  # 4 March 2027
]


@pytest.mark.parametrize(
    ("kind", "alignment", "within", "next_period"),
    PERIODS,
    ids=[f"{kind}-{alignment}" for kind, alignment, _w, _n in PERIODS],
)
def test_each_periodic_limit_holds_in_its_period_and_starts_again_in_the_next(
    oauth_app: Flask,
    pisp: Partner,
    kind: str,
    alignment: str,
    within: dt.timedelta,
    next_period: dt.timedelta,
) -> None:
    body = consent_body("25.00", ((kind, alignment, "30.00"),))
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    assert pay(pisp, token, consent_id, body, "20.00")["Data"]["Status"] == "ACSP"
    advance(oauth_app, pisp.organisation_id, within)
    error = breach(pisp, token, consent_id, body, "15.00")
    assert error["Path"] == AMOUNT_PATH
    assert f"{kind} limit ({alignment} alignment) of 30.00 GBP" in error["Message"]
    assert "20.00 GBP paid, 10.00 GBP remaining" in error["Message"]
    # What remains of the period can still be paid.
    assert pay(pisp, token, consent_id, body, "10.00")["Data"]["Status"] == "ACSP"
    advance(oauth_app, pisp.organisation_id, next_period - within)
    assert pay(pisp, token, consent_id, body, "25.00")["Data"]["Status"] == "ACSP"


def test_every_limit_breached_is_named(oauth_app: Flask, pisp: Partner) -> None:
    limits = (("Day", "Calendar", "15.00"), ("Month", "Consent", "500.00"),
              ("Week", "Calendar", "12.00"))  # fmt: skip
    body = consent_body("14.00", limits)
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    with pytest.raises(GatewayError) as caught:
        pay(pisp, token, consent_id, body, "14.50")
    errors = caught.value.body["Errors"]
    # The maximum and the weekly limit are broken; the daily and monthly ones are not.
    assert [e["ErrorCode"] for e in errors] == ["U014"] * 2
    assert "MaximumIndividualAmount of 14.00 GBP" in errors[0]["Message"]
    assert "Week limit (Calendar alignment) of 12.00 GBP" in errors[1]["Message"]
    assert "Day limit" not in str(errors) and "Month limit" not in str(errors)


def test_a_payment_above_the_maximum_individual_amount_is_refused(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body("25.00", (("Month", "Calendar", "1000.00"),))
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    error = breach(pisp, token, consent_id, body, "25.01")
    assert error["Path"] == AMOUNT_PATH and "MaximumIndividualAmount" in error["Message"]
    assert pay(pisp, token, consent_id, body, "25.00")["Data"]["Status"] == "ACSP"


def test_a_payment_in_another_currency_is_refused(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    sent = payment_body(consent_id, body)
    sent["Data"]["Instruction"]["InstructedAmount"]["Currency"] = "EUR"
    with pytest.raises(GatewayError) as caught:
        pisp.client.post_signed(PAYMENTS, token, sent)
    assert first_error(caught.value.body) == ("U014", AMOUNT_PATH)


def test_no_payment_before_valid_from(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body(ValidFromDateTime="2026-03-05T09:00:00+00:00")
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    error = breach(pisp, token, consent_id, body, "5.00")
    assert "ValidFromDateTime" in error["Message"] and "Path" not in error
    advance(oauth_app, pisp.organisation_id, 23 * HOUR)
    assert pay(pisp, token, consent_id, body, "5.00")["Data"]["Status"] == "ACSP"


def test_the_consent_expires_at_valid_to(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body(ValidToDateTime="2026-03-06T10:00:00+00:00")
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    assert pay(pisp, token, consent_id, body, "5.00")["Data"]["Status"] == "ACSP"
    advance(oauth_app, pisp.organisation_id, 2 * DAY + HOUR)
    with pytest.raises(GatewayError) as caught:
        pay(pisp, token, consent_id, body, "5.00")
    assert caught.value.status == 400
    assert first_error(caught.value.body) == ("U009", "Data.ConsentId")
    consent = pisp.client.get(f"{CONSENTS}/{consent_id}", reader(pisp))
    assert consent["Data"]["Status"] == "EXPD"


def test_a_payment_the_bank_refused_counts_toward_no_limit(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("99999999.00", (("Day", "Calendar", "99999999.00"),))
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    assert pay(pisp, token, consent_id, body, "99999998.00")["Data"]["Status"] == "RJCT"
    assert pay(pisp, token, consent_id, body, "1.00")["Data"]["Status"] == "ACSP"
