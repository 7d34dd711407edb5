"""File payments (OBIE v4.0 Payment Initiation): consent, upload, authorisation, payment,
details and report, for both file types of the standard.

Every response here is validated against the reference file by the conforming test client (the
file and report downloads for their status and headers: the reference's ``File`` is empty).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.consents.models import Consent
from gateway.store.database import Database
from tests.common.oauth import CSRF, Partner, register_partner, sandbox_login
from tests.common.pisp import PISP
from tests.common.pisp_files import (
    CONSENTS,
    JSON_TYPE,
    MEDIA,
    PAIN_TYPE,
    PAYEES,
    authorise,
    consent_body,
    json_file,
    pain_file,
    payment_body,
    ready,
    send,
    stage,
    upload,
)

FILES = {JSON_TYPE: json_file, PAIN_TYPE: pain_file}


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    """A partner registered for payments."""
    return register_partner(oauth_app, http, roles=("PISP",))


def balance(app: Flask, consent_id: str) -> float:
    """The booked balance of the account the consent was authorised on."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        consent = session.get_one(Consent, consent_id)
        bank = app.extensions["bank_core"](session)
        return float(bank.balances(consent.tenant_id, consent.account_ids[0]).booked.amount)


@pytest.mark.parametrize("file_type", [JSON_TYPE, PAIN_TYPE])
def test_a_file_payment_end_to_end(oauth_app: Flask, pisp: Partner, file_type: str) -> None:
    content = FILES[file_type]("10.10", "20.20", "0.05")
    body = consent_body(content, file_type, 3, 30.35)
    consent_id = stage(pisp, body)
    reader = pisp.client.client_credentials("payments")["access_token"]
    consent = pisp.client.get(f"{CONSENTS}/{consent_id}", reader)["Data"]
    assert consent["Status"] == "AWUP" and consent["Initiation"] == body["Data"]["Initiation"]

    status, _headers, raw = upload(pisp, consent_id, content, MEDIA[file_type])
    assert (status, raw) == (200, b"")
    assert pisp.client.get(f"{CONSENTS}/{consent_id}", reader)["Data"]["Status"] == "AWAU"
    status, headers, raw = send(pisp, "GET", f"{CONSENTS}/{consent_id}/file")
    assert status == 200 and raw == content
    assert headers["content-type"].startswith(MEDIA[file_type])
    assert "x-jws-signature" in headers

    token = authorise(oauth_app, pisp, consent_id)
    before = balance(oauth_app, consent_id)
    paid = pisp.client.post_signed(f"{PISP}/file-payments", token, payment_body(consent_id, body))
    order = paid["Data"]
    assert order["Status"] == "INCO" and order["ConsentId"] == consent_id
    assert order["Initiation"] == body["Data"]["Initiation"] and "StatusReason" not in order
    assert before - balance(oauth_app, consent_id) == pytest.approx(30.35)
    payment_id = order["FilePaymentId"]
    assert paid["Links"]["Self"].endswith(f"{PISP}/file-payments/{payment_id}")

    assert pisp.client.get(f"{PISP}/file-payments/{payment_id}", reader)["Data"] == order
    assert pisp.client.get(f"{CONSENTS}/{consent_id}", reader)["Data"]["Status"] == "COND"
    details = pisp.client.get(f"{PISP}/file-payments/{payment_id}/payment-details", reader)
    steps = details["Data"]["PaymentStatus"]
    assert [s["Status"] for s in steps] == ["ACSP"] * 3
    assert len({s["PaymentTransactionId"] for s in steps}) == 3

    report = report_of(pisp, payment_id)
    assert report["Status"] == "INCO" and report["FileType"] == file_type
    assert (report["Accepted"], report["Rejected"]) == (3, 0)
    assert [(t["InstructedAmount"]["Amount"], t["CreditorAccount"]["Name"], t["Status"])
            for t in report["Transactions"]] == [
        ("10.10", PAYEES[0], "ACSP"), ("20.20", PAYEES[1], "ACSP"), ("0.05", PAYEES[2], "ACSP")
    ]  # fmt: skip


def report_of(partner: Partner, payment_id: str) -> dict[str, Any]:
    """The report file of a file payment (JSON)."""
    status, headers, raw = send(partner, "GET", f"{PISP}/file-payments/{payment_id}/report-file")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert "attachment" in headers["content-disposition"]
    report: dict[str, Any] = json.loads(raw)["Data"]
    return report


def test_a_transaction_the_account_cannot_pay_is_rejected_the_rest_paid(
    oauth_app: Flask, pisp: Partner
) -> None:
    content = json_file("5.00", "99999999.00", "7.25")
    consent_id, token, body = ready(oauth_app, pisp, content, JSON_TYPE, 3, 100000011.25)
    before = balance(oauth_app, consent_id)
    paid = pisp.client.post_signed(f"{PISP}/file-payments", token, payment_body(consent_id, body))
    order = paid["Data"]
    # ExternalPaymentGroupStatus1Code INFA: "FilePayment initiation has failed in part or full".
    assert order["Status"] == "INFA"
    assert order["StatusReason"][0]["StatusReasonCode"] == "AM04"
    assert "1 of 3" in order["StatusReason"][0]["StatusReasonDescription"]
    assert before - balance(oauth_app, consent_id) == pytest.approx(12.25)
    report = report_of(pisp, order["FilePaymentId"])
    assert [t["Status"] for t in report["Transactions"]] == ["ACSP", "RJCT", "ACSP"]
    assert report["Transactions"][1]["StatusReason"] == "AM04"
    assert "PaymentTransactionId" not in report["Transactions"][1]
    reader = pisp.client.client_credentials("payments")["access_token"]
    details = pisp.client.get(
        f"{PISP}/file-payments/{order['FilePaymentId']}/payment-details", reader
    )
    refused = details["Data"]["PaymentStatus"][1]
    assert refused["Status"] == "RJCT" and refused["StatusDetail"]["StatusReason"] == "AM04"


def test_the_consent_page_shows_the_file(oauth_app: Flask, pisp: Partner) -> None:
    content = pain_file("1.00", "2.00", "3.00", "4.00", "5.50")
    consent_id = stage(pisp, consent_body(content, PAIN_TYPE, 5, 15.5))
    assert upload(pisp, consent_id, content, "application/xml")[0] == 200
    request_uri, _verifier, _ = pisp.client.push_authorization_request(consent_id, "payments")
    browser = oauth_app.test_client()
    username, password = sandbox_login(oauth_app, pisp.organisation_id)
    page = browser.get(pisp.client.authorization_url(request_uri)).get_data(as_text=True)
    token = CSRF.search(page)
    assert token is not None
    form = {"csrf_token": token.group(1), "username": username, "password": password}
    login = browser.post("/authorize/login", data=form)
    html = browser.get(login.headers["Location"]).get_data(as_text=True)
    assert "5 payments from a file, £15.50 in total" in html
    assert f"To {', '.join(PAYEES[:3])} and 1 more" in html
    assert "File reference: PAYROLL-MARCH" in html
    assert 'name="account"' in html


def test_the_whole_file_pays_after_a_lost_answer_once(oauth_app: Flask, pisp: Partner) -> None:
    content = json_file("1.50", "2.50")
    consent_id, token, body = ready(oauth_app, pisp, content, JSON_TYPE, 2, 4.0)
    before = balance(oauth_app, consent_id)
    path, sent = f"{PISP}/file-payments", payment_body(consent_id, body)
    first = pisp.client.post_signed(path, token, sent, idempotency_key="file-retry-1")
    again = pisp.client.post_signed(path, token, sent, idempotency_key="file-retry-1")
    assert again == first
    assert before - balance(oauth_app, consent_id) == pytest.approx(4.0)


def test_the_example_client_uploads_and_downloads_a_file(pisp: Partner) -> None:
    from partners.example_client import GatewayError

    content = pain_file("2.00", "3.00")
    consent_id = stage(pisp, consent_body(content, PAIN_TYPE, 2, 5.0))
    staff = pisp.client.client_credentials("payments")["access_token"]
    path = f"{CONSENTS}/{consent_id}/file"
    with pytest.raises(GatewayError) as caught:
        pisp.client.post_file(path, staff, content + b" ", "application/xml")
    assert caught.value.body["Errors"][0]["Path"] == "Data.Initiation.FileHash"
    pisp.client.post_file(path, staff, content, "application/xml")
    assert pisp.client.get_file(path, staff) == content
