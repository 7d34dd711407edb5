"""The cut-off of a payment consent (``CutOffDateTime``: U012 after it, the consent RJCT) and
the window of its authorisation (``Authorisation.CompletionDateTime``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, consent_body, payment_body, staged
from tests.functional.test_pisp_domestic import advance, refused
from tests.functional.test_pisp_scheduled import CONSENTS as SCHEDULED
from tests.functional.test_pisp_scheduled import scheduled_body

CONSENTS = f"{PISP}/domestic-payment-consents"


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_a_consent_states_its_cut_off_a_day_after_it_was_staged(pisp: Partner) -> None:
    data = staged(pisp, consent_body())["Data"]
    assert _moment(data["CutOffDateTime"]) - _moment(data["CreationDateTime"]) == dt.timedelta(
        hours=24
    )


def test_an_order_after_the_cut_off_is_refused_and_the_consent_is_rejected(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body("2.00")
    consent_id, token = authorised(oauth_app, pisp, body)
    advance(oauth_app, pisp.organisation_id, dt.timedelta(hours=24, minutes=1))
    status, error = refused(
        pisp.client.post_signed, f"{PISP}/domestic-payments", token, payment_body(consent_id, body)
    )
    assert status == 400
    assert error["Errors"][0]["ErrorCode"] == "U012"
    assert "cut-off" in error["Errors"][0]["Message"]
    reader = pisp.client.client_credentials("payments")["access_token"]
    data = pisp.client.get(f"{CONSENTS}/{consent_id}", reader)["Data"]
    assert data["Status"] == "RJCT" and data["StatusUpdateDateTime"] == data["CutOffDateTime"]
    assert data["StatusReason"][0]["StatusReasonCode"] == "U012"


def test_an_order_just_before_the_cut_off_is_taken(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("2.01")
    consent_id, token = authorised(oauth_app, pisp, body)
    advance(oauth_app, pisp.organisation_id, dt.timedelta(hours=23, minutes=59))
    paid = pisp.client.post_signed(
        f"{PISP}/domestic-payments", token, payment_body(consent_id, body)
    )
    assert paid["Data"]["Status"] == "ACSP"


def test_a_scheduled_payment_cuts_off_when_its_day_begins_in_london(pisp: Partner) -> None:
    data = staged(pisp, scheduled_body(days=1), SCHEDULED)["Data"]
    day = _moment(data["Initiation"]["RequestedExecutionDateTime"]).date()
    # March: London is on GMT, so its midnight is midnight UTC.
    assert data["CutOffDateTime"] == f"{day.isoformat()}T00:00:00+00:00"
    assert _moment(data["CutOffDateTime"]) - _moment(data["CreationDateTime"]) < dt.timedelta(
        hours=24
    )


def _with_completion(minutes: int, start: str) -> dict[str, Any]:
    body = consent_body("3.00")
    completion = _moment(start) + dt.timedelta(minutes=minutes)
    body["Data"] = {
        **body["Data"],
        "Authorisation": {
            "AuthorisationType": "Single",
            "CompletionDateTime": completion.isoformat(timespec="seconds"),
        },
    }
    return body


def test_the_customer_cannot_authorise_after_the_completion_time(
    oauth_app: Flask, pisp: Partner
) -> None:
    probe = staged(pisp, consent_body())["Data"]["CreationDateTime"]
    body = _with_completion(30, probe)
    consent_id = staged(pisp, body)["Data"]["ConsentId"]
    advance(oauth_app, pisp.organisation_id, dt.timedelta(hours=1))
    request_uri, _verifier, _ = pisp.client.push_authorization_request(consent_id, "payments")
    answer = oauth_app.test_client().get(pisp.client.authorization_url(request_uri))
    assert answer.status_code == 303
    query = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert query["error"] == "invalid_request"
    assert "had to be completed by" in query["error_description"]


def test_the_customer_can_authorise_before_the_completion_time(
    oauth_app: Flask, pisp: Partner
) -> None:
    probe = staged(pisp, consent_body())["Data"]["CreationDateTime"]
    body = _with_completion(30, probe)
    consent_id, _token = authorised(oauth_app, pisp, body)
    reader = pisp.client.client_credentials("payments")["access_token"]
    got = pisp.client.get(f"{CONSENTS}/{consent_id}", reader)["Data"]
    assert got["Status"] == "AUTH" and got["Authorisation"] == body["Data"]["Authorisation"]
