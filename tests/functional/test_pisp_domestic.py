"""Domestic payments (OBIE v4.0 Payment Initiation): consent, authorisation, payment, status.

Every response here is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway.consents.models import Consent
from gateway.payments.models import PaymentOrder
from gateway.store.database import Database
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, consent_body, payment_body, staged


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    """A partner registered for payments."""
    return register_partner(oauth_app, http, roles=("PISP",))


def refused(call: Any, *args: Any) -> tuple[int, dict[str, Any]]:
    from partners.example_client import GatewayError

    with pytest.raises(GatewayError) as caught:
        call(*args)
    return caught.value.status, caught.value.body


def test_a_payment_end_to_end(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body()
    created = staged(pisp, body)
    data = created["Data"]
    assert data["Status"] == "AWAU" and data["Initiation"] == body["Data"]["Initiation"]
    assert created["Risk"] == body["Risk"]
    assert (
        created["Links"]["Self"]
        == f"http://localhost{PISP}/domestic-payment-consents/" + (data["ConsentId"])
    )
    consent_id, token = authorised(oauth_app, pisp, body)
    funds = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}/funds-confirmation",
                            token)  # fmt: skip
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is True
    paid = pisp.client.post_signed(
        f"{PISP}/domestic-payments", token, payment_body(consent_id, body)
    )
    order = paid["Data"]
    assert order["Status"] == "ACSP" and order["ConsentId"] == consent_id
    assert order["Initiation"] == body["Data"]["Initiation"]
    assert order["ExpectedSettlementDateTime"] > order["CreationDateTime"]
    assert paid["Links"]["Self"].endswith(f"{PISP}/domestic-payments/{order['DomesticPaymentId']}")
    reader = pisp.client.client_credentials("payments")["access_token"]
    again = pisp.client.get(f"{PISP}/domestic-payments/{order['DomesticPaymentId']}", reader)
    assert again["Data"]["Status"] == "ACSP"
    consent = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}", reader)
    assert consent["Data"]["Status"] == "COND"
    details = pisp.client.get(
        f"{PISP}/domestic-payments/{order['DomesticPaymentId']}/payment-details", reader
    )
    assert [s["Status"] for s in details["Data"]["PaymentStatus"]] == ["ACSP"]


def test_the_ledger_holds_the_payment(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("3.21")
    consent_id, token = authorised(oauth_app, pisp, body)
    before = balance(oauth_app, pisp, token)
    pisp.client.post_signed(f"{PISP}/domestic-payments", token, payment_body(consent_id, body))
    assert before - balance(oauth_app, pisp, token) == pytest.approx(3.21)


def balance(app: Flask, partner: Partner, token: str) -> float:
    """The booked balance of the account the payment consent was authorised on."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        consent = session.scalars(
            select(Consent).where(Consent.client_id == partner.client_id)
            .order_by(Consent.created_at.desc())
        ).first()  # fmt: skip
        assert consent is not None
        account_id = consent.account_ids[0]
        bank = app.extensions["bank_core"](session)
        value = bank.balances(partner.organisation_id, account_id).booked.amount
        return float(value)


def test_a_consent_pays_once(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body()
    consent_id, token = authorised(oauth_app, pisp, body)
    pisp.client.post_signed(f"{PISP}/domestic-payments", token, payment_body(consent_id, body))
    status, error = refused(
        pisp.client.post_signed, f"{PISP}/domestic-payments", token, payment_body(consent_id, body)
    )
    assert status == 400 and error["Errors"][0]["ErrorCode"] == "U009"
    assert orders_of(oauth_app, consent_id) == 1


def orders_of(app: Flask, consent_id: str) -> int:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(PaymentOrder).where(
                PaymentOrder.consent_id == consent_id)
        ) or 0  # fmt: skip


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda b: b["Data"]["Initiation"]["InstructedAmount"].update(Amount="10.51"),
         "Data.Initiation.InstructedAmount.Amount"),
        (lambda b: b["Data"]["Initiation"]["CreditorAccount"].update(Name="Someone else"),
         "Data.Initiation.CreditorAccount.Name"),
        (lambda b: b["Data"]["Initiation"].update(LocalInstrument="UK.OBIE.FPS"),
         "Data.Initiation.LocalInstrument"),
        (lambda b: b["Risk"].update(MerchantCategoryCode="5968"), "Risk.MerchantCategoryCode"),
    ],
)  # fmt: skip
def test_a_payment_that_differs_from_its_consent_is_refused(
    oauth_app: Flask, pisp: Partner, change: Any, path: str
) -> None:
    body = consent_body()
    consent_id, token = authorised(oauth_app, pisp, body)
    sent = copy.deepcopy(payment_body(consent_id, body))
    change(sent)
    status, error = refused(pisp.client.post_signed, f"{PISP}/domestic-payments", token, sent)
    assert status == 400
    assert error["Errors"][0]["ErrorCode"] == "U008" and error["Errors"][0]["Path"] == path
    assert orders_of(oauth_app, consent_id) == 0


def test_a_payment_under_an_unauthorised_consent_is_refused(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body()
    _authorised, token = authorised(oauth_app, pisp, body)
    other = staged(pisp, body)["Data"]["ConsentId"]
    status, error = refused(
        pisp.client.post_signed, f"{PISP}/domestic-payments", token, payment_body(other, body)
    )
    assert status == 400 and error["Errors"][0]["ErrorCode"] == "U008"
    assert error["Errors"][0]["Path"] == "Data.ConsentId"


def test_insufficient_funds_is_a_rejected_payment_not_an_error(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body("9999999.00")
    consent_id, token = authorised(oauth_app, pisp, body)
    funds = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}/funds-confirmation",
                            token)  # fmt: skip
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is False
    paid = pisp.client.post_signed(
        f"{PISP}/domestic-payments", token, payment_body(consent_id, body)
    )
    assert paid["Data"]["Status"] == "RJCT"
    assert paid["Data"]["StatusReason"][0]["StatusReasonCode"] == "AM04"


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (lambda i: i.pop("EndToEndIdentification"), "U004",
         "Data.Initiation.EndToEndIdentification"),
        (lambda i: i.update(Extra="x"), "U005", "Data.Initiation.Extra"),
        (lambda i: i["InstructedAmount"].update(Amount="1.234"), "U002",
         "Data.Initiation.InstructedAmount.Amount"),
        (lambda i: i["InstructedAmount"].update(Amount="ten"), "U002",
         "Data.Initiation.InstructedAmount.Amount"),
        (lambda i: i["InstructedAmount"].update(Amount="0.00"), "U002",
         "Data.Initiation.InstructedAmount.Amount"),
        (lambda i: i["InstructedAmount"].update(Currency="XTS"), "U023",
         "Data.Initiation.InstructedAmount.Currency"),
        (lambda i: i["CreditorAccount"].update(SchemeName="UK.OBIE.PAN"), "U027",
         "Data.Initiation.CreditorAccount.SchemeName"),
        (lambda i: i["CreditorAccount"].update(Identification="0808"), "U021",
         "Data.Initiation.CreditorAccount.Identification"),
        (lambda i: i.update(LocalInstrument="UK.OBIE.Link"), "U026",
         "Data.Initiation.LocalInstrument"),
        (lambda i: i.update(InstructionIdentification="x" * 36), "U002",
         "Data.Initiation.InstructionIdentification"),
    ],
)  # fmt: skip
def test_a_consent_the_bank_cannot_carry_out_is_refused(
    pisp: Partner, change: Any, code: str, path: str
) -> None:
    body = consent_body()
    change(body["Data"]["Initiation"])
    status, error = refused(staged, pisp, body)
    assert status == 400
    assert (error["Errors"][0]["ErrorCode"], error["Errors"][0]["Path"]) == (code, path)


def test_unknown_ids_are_400_u011(pisp: Partner) -> None:
    token = pisp.client.client_credentials("payments")["access_token"]
    for path in ("/domestic-payment-consents/pmc-nosuch", "/domestic-payments/dp-nosuch",
                 "/domestic-payments/dp-nosuch/payment-details"):  # fmt: skip
        status, error = refused(pisp.client.get, f"{PISP}{path}", token)
        assert status == 400 and error["Errors"][0]["ErrorCode"] == "U011", path


def test_another_partners_consent_is_unknown(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    consent_id = staged(pisp, consent_body())["Data"]["ConsentId"]
    other = register_partner(oauth_app, http, roles=("PISP",))
    token = other.client.client_credentials("payments")["access_token"]
    status, error = refused(other.client.get, f"{PISP}/domestic-payment-consents/{consent_id}",
                            token)  # fmt: skip
    assert status == 400 and error["Errors"][0]["ErrorCode"] == "U011"


def test_the_payment_settles_at_the_next_cycle_on_the_tenant_clock(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body("1.00")
    consent_id, token = authorised(oauth_app, pisp, body)
    order = pisp.client.post_signed(
        f"{PISP}/domestic-payments", token, payment_body(consent_id, body)
    )
    settles = dt.datetime.fromisoformat(order["Data"]["ExpectedSettlementDateTime"])
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=4))
    reader = pisp.client.client_credentials("payments")["access_token"]
    path = f"{PISP}/domestic-payments/{order['Data']['DomesticPaymentId']}"
    later = pisp.client.get(path, reader)["Data"]
    assert later["Status"] == "ACSC"
    assert dt.datetime.fromisoformat(later["StatusUpdateDateTime"]) == settles
    steps = pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"]
    assert [s["Status"] for s in steps] == ["ACSP", "ACSC"]


def advance(app: Flask, tenant: str, delta: dt.timedelta) -> None:
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        app.extensions["bank_core"](session).advance_clock(tenant, delta)
