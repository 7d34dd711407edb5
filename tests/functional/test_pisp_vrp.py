"""Domestic VRPs (OBIE VRP v4.0): consent, authorisation, many payments, status, update,
revocation, funds confirmation. Every response is validated against vrp-openapi.yaml by the
conforming test client."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from partners.example_client import GatewayError
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import staged
from tests.common.vrp import (
    CONSENTS,
    PAYMENTS,
    authorised_vrp,
    consent_body,
    first_error,
    payment_body,
    reader,
    send,
    vrps_of,
)
from tests.functional.test_pisp_domestic import balance


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    """A partner registered for payments."""
    return register_partner(oauth_app, http, roles=("PISP",))


def refused(call: Any, *args: Any) -> tuple[int, tuple[str, str | None]]:
    with pytest.raises(GatewayError) as caught:
        call(*args)
    return caught.value.status, first_error(caught.value.body)


def test_a_consent_pays_many_times_within_its_limits(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body()
    created = staged(pisp, body, CONSENTS)
    data = created["Data"]
    assert data["Status"] == "AWAU" and "DebtorAccount" not in data
    assert data["ControlParameters"] == body["Data"]["ControlParameters"]
    assert created["Links"]["Self"] == f"http://localhost{CONSENTS}/{data['ConsentId']}"
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    consent = pisp.client.get(f"{CONSENTS}/{consent_id}", reader(pisp))
    assert consent["Data"]["Status"] == "AUTH"
    debtor = consent["Data"]["DebtorAccount"]
    before = balance(oauth_app, pisp, token)
    ids = []
    for amount in ("10.00", "12.50", "7.25"):
        paid = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body, amount))
        assert paid["Data"]["Status"] == "ACSP" and paid["Data"]["ConsentId"] == consent_id
        assert paid["Data"]["Instruction"]["InstructedAmount"]["Amount"] == amount
        assert paid["Data"]["DebtorAccount"] == debtor == paid["Data"]["Refund"]
        assert paid["Risk"] == body["Risk"]
        ids.append(paid["Data"]["DomesticVRPId"])
    assert before - balance(oauth_app, pisp, token) == pytest.approx(29.75)
    assert len(set(ids)) == 3
    again = pisp.client.get(f"{PAYMENTS}/{ids[0]}", reader(pisp))
    assert again["Data"]["Status"] == "ACSP"
    assert again["Links"]["Self"] == f"http://localhost{PAYMENTS}/{ids[0]}"
    details = pisp.client.get(f"{PAYMENTS}/{ids[0]}/payment-details", reader(pisp))
    assert [s["Status"] for s in details["Data"]["PaymentStatus"]] == ["ACSP"]
    # A VRP consent is never consumed: it stays authorised.
    assert pisp.client.get(f"{CONSENTS}/{consent_id}", reader(pisp))["Data"]["Status"] == "AUTH"


def test_the_consent_page_shows_the_payee_the_limits_and_the_validity(
    oauth_app: Flask, pisp: Partner
) -> None:
    from tests.common.fapi import authorize_url
    from tests.common.oauth import sandbox_login
    from tests.functional.test_consent_page import _csrf

    limits = (("Month", "Calendar", "100.00"), ("Week", "Consent", "40.00"))
    body = consent_body("25.00", limits, ValidToDateTime="2027-03-31T23:00:00+01:00")
    consent_id = staged(pisp, body, CONSENTS)["Data"]["ConsentId"]
    request_uri, _verifier, _state = pisp.client.push_authorization_request(consent_id, "payments")
    browser = oauth_app.test_client()
    page = browser.get(authorize_url(pisp, request_uri))
    username, password = sandbox_login(oauth_app, pisp.organisation_id)
    form = {"csrf_token": _csrf(page), "username": username, "password": password}
    login = browser.post("/authorize/login", data=form)
    html = browser.get(login.headers["Location"]).get_data(as_text=True)
    assert "make payments from your account, within these limits" in html
    assert "Payments to ACME Inc, whenever the app asks" in html
    assert "sort code 08-08-00, account 21325698" in html
    assert "Each payment at most £25.00" in html
    assert "At most £100.00 per calendar month" in html
    assert "At most £40.00 per week, counted from 4 March 2026" in html
    assert "Reference: SWEEP-42" in html
    assert "From today until 31 March 2027" in html
    # The customer picks the account to pay from: one, in the limits' currency.
    assert "Choose the account to pay from" in html and 'type="radio"' in html


def test_a_consent_without_a_payee_says_the_app_chooses(oauth_app: Flask) -> None:
    from gateway.payments.wording import lines

    body = consent_body(limits=(("Day", "Calendar", "5.00"),),
                        ValidFromDateTime="2026-04-01T00:00:00+01:00")  # fmt: skip
    del body["Data"]["Initiation"]["CreditorAccount"]
    said = lines(body["Data"])
    assert said[0] == "Payments to the payees the app chooses, whenever it asks"
    assert "At most £5.00 per calendar day" in said
    assert said[-1] == "From 1 April 2026 until you cancel it"


def test_funds_confirmation_answers_for_the_account_the_customer_picked(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    url = f"{CONSENTS}/{consent_id}/funds-confirmation"
    asked = {"Data": {"ConsentId": consent_id, "Reference": "SWEEP-42",
                      "InstructedAmount": {"Amount": "20.00", "Currency": "GBP"}}}  # fmt: skip
    answer = pisp.client.post_signed(url, token, asked)["Data"]
    assert answer["FundsAvailableResult"]["FundsAvailable"] == "Available"
    assert answer["ConsentId"] == consent_id and answer["Reference"] == "SWEEP-42"
    assert answer["InstructedAmount"] == asked["Data"]["InstructedAmount"]
    rich = copy.deepcopy(asked)
    rich["Data"]["InstructedAmount"]["Amount"] = "99999999.00"
    answer = pisp.client.post_signed(url, token, rich)["Data"]
    assert answer["FundsAvailableResult"]["FundsAvailable"] == "NotAvailable"
    other = copy.deepcopy(asked)
    other["Data"]["Reference"] = "OTHER"
    assert refused(pisp.client.post_signed, url, token, other) == (400, ("U008", "Data.Reference"))
    # The client-credentials token is not the customer's.
    assert refused(pisp.client.post_signed, url, reader(pisp), asked)[0] == 401


def test_insufficient_funds_is_a_rejected_payment_that_counts_toward_no_limit(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body("99999999.00", (("Month", "Calendar", "99999999.00"),))
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    paid = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body, "9999999.00"))
    assert paid["Data"]["Status"] == "RJCT"
    assert paid["Data"]["StatusReason"][0]["StatusReasonCode"] == "AM04"
    details = pisp.client.get(
        f"{PAYMENTS}/{paid['Data']['DomesticVRPId']}/payment-details", reader(pisp)
    )
    assert details["Data"]["PaymentStatus"][0]["StatusDetail"]["StatusReason"] == "AM04"
    ok = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body, "10.00"))
    assert ok["Data"]["Status"] == "ACSP"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["Initiation"]["CreditorAccount"].update(Name="Someone else"),
         "Data.Initiation.CreditorAccount.Name"),
        (lambda d: d["Initiation"].pop("RemittanceInformation"),
         "Data.Initiation.RemittanceInformation"),
        (lambda d: d["Instruction"]["CreditorAccount"].update(Identification="08080021325699"),
         "Data.Instruction.CreditorAccount.Identification"),
        (lambda d: d["Instruction"]["RemittanceInformation"].update(Reference="OTHER"),
         "Data.Instruction.RemittanceInformation.Reference"),
    ],
)  # fmt: skip
def test_a_payment_that_differs_from_its_consent_is_refused_u008(
    oauth_app: Flask, pisp: Partner, change: Any, path: str
) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    sent = payment_body(consent_id, body)
    change(sent["Data"])
    assert refused(pisp.client.post_signed, PAYMENTS, token, sent) == (400, ("U008", path))


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"VRPType": "UK.OBIE.VRPType.Other"}, "Data.VRPType"),
        ({"PSUAuthenticationMethod": "UK.OBIE.SCANotRequired"}, "Data.PSUAuthenticationMethod"),
        ({"PSUInteractionType": "InSession"}, "Data.PSUInteractionType"),
    ],
)
def test_a_payment_of_a_kind_the_consent_does_not_allow_is_refused_u014(
    oauth_app: Flask, pisp: Partner, data: dict[str, str], path: str
) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    sent = payment_body(consent_id, body, **data)
    assert refused(pisp.client.post_signed, PAYMENTS, token, sent) == (400, ("U014", path))


def test_the_payment_must_name_the_consent_of_its_token(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    other_id, _other = authorised_vrp(oauth_app, pisp, body)
    sent = payment_body(other_id, body)
    assert refused(pisp.client.post_signed, PAYMENTS, token, sent) == (
        400,
        ("U008", "Data.ConsentId"),
    )
    # A client-credentials token makes no payment.
    status, _ = refused(pisp.client.post_signed, PAYMENTS, reader(pisp),
                        payment_body(consent_id, body))  # fmt: skip
    assert status == 401


def test_reading_takes_a_client_credentials_token(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    paid = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))
    vrp_id = paid["Data"]["DomesticVRPId"]
    for path in (f"{CONSENTS}/{consent_id}", f"{PAYMENTS}/{vrp_id}",
                 f"{PAYMENTS}/{vrp_id}/payment-details"):  # fmt: skip
        assert refused(pisp.client.get, path, token)[0] == 401


def test_unknown_ids_are_400_u011(oauth_app: Flask, http: FlaskClient, pisp: Partner) -> None:
    token = reader(pisp)
    for path in (f"{CONSENTS}/pmc-nope", f"{PAYMENTS}/vrp-nope",
                 f"{PAYMENTS}/vrp-nope/payment-details"):  # fmt: skip
        assert refused(pisp.client.get, path, token) == (400, ("U011", None))
    # Another partner's consent and payment are unknown too.
    body = consent_body()
    consent_id, customer = authorised_vrp(oauth_app, pisp, body)
    paid = pisp.client.post_signed(PAYMENTS, customer, payment_body(consent_id, body))
    other = register_partner(oauth_app, http, roles=("PISP",))
    for path in (f"{CONSENTS}/{consent_id}", f"{PAYMENTS}/{paid['Data']['DomesticVRPId']}"):
        assert refused(other.client.get, path, reader(other)) == (400, ("U011", None))
    # A domestic payment consent is not a VRP consent.
    from tests.common.pisp import consent_body as domestic_body

    domestic_id = staged(pisp, domestic_body())["Data"]["ConsentId"]
    assert refused(pisp.client.get, f"{CONSENTS}/{domestic_id}", token) == (400, ("U011", None))


def test_revoking_the_consent_stops_its_payments(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    gone = send(http, pisp, "DELETE", f"{CONSENTS}/{consent_id}", reader(pisp))
    assert gone.status_code == 204 and gone.get_data() == b""
    consent = pisp.client.get(f"{CONSENTS}/{consent_id}", reader(pisp))
    assert consent["Data"]["Status"] == "CANC"
    # Its tokens are revoked with it.
    sent = payment_body(consent_id, body)
    assert refused(pisp.client.post_signed, PAYMENTS, token, sent)[0] == 401
    assert vrps_of(oauth_app, consent_id) == 0
    # A repeat changes nothing.
    again = send(http, pisp, "DELETE", f"{CONSENTS}/{consent_id}", reader(pisp))
    assert again.status_code == 204
    assert pisp.client.get(f"{CONSENTS}/{consent_id}", reader(pisp))["Data"]["Status"] == "CANC"


def test_a_consent_request_the_bank_cannot_honour_is_refused(pisp: Partner) -> None:
    cases: list[tuple[Any, tuple[str, str]]] = [
        (lambda c: c.pop("PeriodicLimits"), ("U004", "Data.ControlParameters.PeriodicLimits")),
        (lambda c: c["PeriodicLimits"][0].update(PeriodType="Fortnight"),
         ("U002", "Data.ControlParameters.PeriodicLimits[0].PeriodAlignment")),
        (lambda c: c["MaximumIndividualAmount"].update(Currency="XTS"),
         ("U023", "Data.ControlParameters.MaximumIndividualAmount.Currency")),
        (lambda c: c.update(ValidToDateTime="2026-03-01T00:00:00+00:00"),
         ("U003", "Data.ControlParameters.ValidToDateTime")),
        (lambda c: c.update(ValidFromDateTime="2026-05-01T00:00:00+00:00",
                            ValidToDateTime="2026-04-01T00:00:00+00:00"),
         ("U003", "Data.ControlParameters.ValidToDateTime")),
    ]  # fmt: skip
    for change, expected in cases:
        body = consent_body()
        change(body["Data"]["ControlParameters"])
        assert refused(staged, pisp, body, CONSENTS) == (400, expected)
    body = consent_body()
    body["Data"]["Initiation"]["CreditorAccount"]["SchemeName"] = "UK.OBIE.PAN"
    assert refused(staged, pisp, body, CONSENTS) == (
        400,
        ("U027", "Data.Initiation.CreditorAccount.SchemeName"),
    )
