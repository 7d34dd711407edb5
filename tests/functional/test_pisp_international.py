"""International payments (OBIE v4.0 Payment Initiation): a quote locked through the FX API,
a consent citing it (RateType Agreed), the payment executed at exactly that rate, the debit
read back through the bank; Actual rates; an expired quote refused; a negative test per rule.

Every response is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.api.fx import PREFIX as FX
from gateway.consents.models import Consent
from gateway.store.database import Database
from partners.example_client import GatewayError
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, payment_body, staged

CONSENTS = f"{PISP}/international-payment-consents"
PAYMENTS = f"{PISP}/international-payments"
IBAN = "DE89370400440532013000"


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def quote(partner: Partner, **data: str) -> dict[str, Any]:
    token = partner.client.client_credentials("payments")["access_token"]
    body = {"Data": {"SellCurrency": "GBP", "BuyCurrency": "EUR", "Lock": "PT5M", **data}}
    created: dict[str, Any] = partner.client.post(f"{FX}/quotes", token, body)
    return created["Data"]


def consent_body(
    amount: str, currency: str = "GBP", transfer: str = "EUR",
    rate: dict[str, Any] | None = None, **initiation: Any,
) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {
        "Data": {"Initiation": {
            "InstructionIdentification": "ACME412", "EndToEndIdentification": "FRESCO.21302",
            "InstructionPriority": "Normal", "ChargeBearer": "BorneByDebtor",
            "CurrencyOfTransfer": transfer, "DestinationCountryCode": "DE",
            "InstructedAmount": {"Amount": amount, "Currency": currency},
            "CreditorAccount": {"SchemeName": "UK.OBIE.IBAN", "Identification": IBAN,
                                "Name": "Muster GmbH"},
            "CreditorAgent": {"SchemeName": "UK.OBIE.BICFI", "Identification": "COBADEFFXXX"},
            "RemittanceInformation": {"Reference": "INV-7"},
            **initiation,
        }},
        "Risk": {"PaymentContextCode": "TransferToThirdParty", "PaymentPurposeCode": "GDDS"},
    }  # fmt: skip
    if rate is not None:
        body["Data"]["Initiation"]["ExchangeRateInformation"] = rate
    return body


def agreed(q: dict[str, Any]) -> dict[str, Any]:
    return {"UnitCurrency": "GBP", "RateType": "Agreed", "ExchangeRate": float(q["ExchangeRate"]),
            "ContractIdentification": q["ContractIdentification"]}  # fmt: skip


def balance(app: Flask, partner: Partner) -> Decimal:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        consent = session.scalars(
            select(Consent).where(Consent.client_id == partner.client_id)
            .order_by(Consent.created_at.desc())
        ).first()  # fmt: skip
        assert consent is not None
        bank = app.extensions["bank_core"](session)
        value: Decimal = bank.balances(
            partner.organisation_id, consent.account_ids[0]
        ).booked.amount
        return value


def refused(call: Any, *args: Any) -> tuple[int, str, str | None]:
    with pytest.raises(GatewayError) as caught:
        call(*args)
    error = caught.value.body["Errors"][0]
    return caught.value.status, error["ErrorCode"], error.get("Path")


def test_an_agreed_rate_is_honoured_to_the_minor_unit(oauth_app: Flask, pisp: Partner) -> None:
    q = quote(pisp, SellAmount="100.00")
    body = consent_body("100.00", rate=agreed(q))
    created = staged(pisp, body, CONSENTS)["Data"]
    assert created["ExchangeRateInformation"]["ContractIdentification"] == q[
        "ContractIdentification"]  # fmt: skip
    assert created["Charges"] == [{"ChargeBearer": "BorneByDebtor", "Type": "UK.OBIE.CHAPSOut",
                                   "Amount": {"Amount": "2.50", "Currency": "GBP"}}]  # fmt: skip
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    funds = pisp.client.get(f"{CONSENTS}/{consent_id}/funds-confirmation", token)
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is True
    before = balance(oauth_app, pisp)
    paid = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    assert paid["Status"] == "ACSP"
    assert Decimal(repr(paid["ExchangeRateInformation"]["ExchangeRate"])) == Decimal(
        q["ExchangeRate"])  # fmt: skip
    assert before - balance(oauth_app, pisp) == Decimal("102.50")
    received = (Decimal("100.00") * Decimal(q["ExchangeRate"])).quantize(
        Decimal("0.01"), ROUND_FLOOR)  # fmt: skip
    assert q["AmountReceived"]["Amount"] == f"{received:f}"
    reader = pisp.client.client_credentials("payments")["access_token"]
    again = pisp.client.get(f"{PAYMENTS}/{paid['InternationalPaymentId']}", reader)["Data"]
    assert again["ExchangeRateInformation"] == paid["ExchangeRateInformation"]
    details = pisp.client.get(
        f"{PAYMENTS}/{paid['InternationalPaymentId']}/payment-details", reader)  # fmt: skip
    assert [s["Status"] for s in details["Data"]["PaymentStatus"]] == ["ACSP"]


def test_an_expired_quote_is_refused_and_pays_nothing(oauth_app: Flask, pisp: Partner) -> None:
    q = quote(pisp, BuyCurrency="JPY", SellAmount="20.00")
    body = consent_body("20.00", transfer="JPY", rate=agreed(q), DestinationCountryCode="JP",
                        CreditorAccount={"SchemeName": "UK.OBIE.BBAN", "Identification": "1234567",
                                         "Name": "Yamada KK"}, LocalInstrument="UK.OBIE.SWIFT",
                        CreditorAgent={"SchemeName": "UK.OBIE.BICFI",
                                       "Identification": "BOTKJPJTXXX"})  # fmt: skip
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    before = balance(oauth_app, pisp)
    database: Database = oauth_app.extensions["database"]
    with database.sessions() as session:
        oauth_app.extensions["sandbox"](session).advance_clock(
            pisp.organisation_id, dt.timedelta(minutes=5))  # fmt: skip
        session.commit()
    assert refused(pisp.client.post_signed, PAYMENTS, token, payment_body(consent_id, body)) == (
        400,
        "U002",
        "Data.Initiation.ExchangeRateInformation.ContractIdentification",
    )
    assert balance(oauth_app, pisp) == before


def test_an_actual_rate_in_kwd_fixes_the_amount_received(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("12.345", currency="KWD", transfer="KWD", DestinationCountryCode="KW",
                        CreditorAccount={"SchemeName": "UK.OBIE.IBAN",
                                         "Identification": "KW81CBKU0000000000001234560101",
                                         "Name": "Souk Co"},
                        rate={"UnitCurrency": "GBP", "RateType": "Actual"})  # fmt: skip
    body["Data"]["Initiation"].pop("CreditorAgent")
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    before = balance(oauth_app, pisp)
    paid = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    rate = Decimal(repr(paid["ExchangeRateInformation"]["ExchangeRate"]))
    assert paid["ExchangeRateInformation"]["RateType"] == "Actual"
    debited = before - balance(oauth_app, pisp)
    sell = debited - Decimal("2.50")
    # The least pound amount that buys 12.345 KWD at the rate applied.
    assert (sell * rate).quantize(Decimal("0.001"), ROUND_FLOOR) >= Decimal("12.345")
    assert ((sell - Decimal("0.01")) * rate).quantize(Decimal("0.001"), ROUND_FLOOR) < Decimal(
        "12.345")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"CurrencyOfTransfer": "GBP"}, ("U002", "Data.Initiation.CurrencyOfTransfer")),
        ({"CurrencyOfTransfer": "XAU"}, ("U023", "Data.Initiation.CurrencyOfTransfer")),
        (
            {"InstructedAmount": {"Amount": "10.00", "Currency": "USD"}},
            ("U002", "Data.Initiation.InstructedAmount.Currency"),
        ),
        (
            {"InstructedAmount": {"Amount": "10.001", "Currency": "GBP"}},
            ("U002", "Data.Initiation.InstructedAmount.Amount"),
        ),
        (
            {"InstructedAmount": {"Amount": "0.50", "Currency": "GBP"}},
            ("U002", "Data.Initiation.InstructedAmount"),
        ),
        ({"DestinationCountryCode": "US"}, ("U002", "Data.Initiation.DestinationCountryCode")),
        (
            {
                "CreditorAccount": {
                    "SchemeName": "UK.OBIE.IBAN",
                    "Identification": "DE89370400440532013001",
                    "Name": "X",
                }
            },
            ("U021", "Data.Initiation.CreditorAccount.Identification"),
        ),
        ({"LocalInstrument": "UK.OBIE.FPS"}, ("U026", "Data.Initiation.LocalInstrument")),
        (
            {
                "CreditorAccount": {
                    "SchemeName": "UK.OBIE.Wallet",
                    "Identification": "w-1",
                    "Name": "X",
                }
            },
            ("U027", "Data.Initiation.CreditorAccount.SchemeName"),
        ),
        (
            {
                "CreditorAccount": {
                    "SchemeName": "UK.OBIE.BBAN",
                    "Identification": "1234567",
                    "Name": "X",
                },
                "CreditorAgent": {"Name": "A bank"},
            },
            ("U001", "Data.Initiation.CreditorAgent"),
        ),
        (
            {"CreditorAgent": {"SchemeName": "UK.OBIE.BICFI", "Identification": "COBAXXFF"}},
            ("U002", "Data.Initiation.CreditorAgent.Identification"),
        ),
        (
            {"ExchangeRateInformation": {"UnitCurrency": "GBP", "RateType": "Agreed"}},
            ("U001", "Data.Initiation.ExchangeRateInformation.ContractIdentification"),
        ),
        (
            {
                "ExchangeRateInformation": {
                    "UnitCurrency": "GBP",
                    "RateType": "Agreed",
                    "ExchangeRate": 1.1,
                    "ContractIdentification": "fxq_x",
                }
            },
            ("U002", "Data.Initiation.ExchangeRateInformation.ContractIdentification"),
        ),
        (
            {
                "ExchangeRateInformation": {
                    "UnitCurrency": "GBP",
                    "RateType": "Actual",
                    "ExchangeRate": 1.1,
                }
            },
            ("U005", "Data.Initiation.ExchangeRateInformation.ExchangeRate"),
        ),
        (
            {"ExchangeRateInformation": {"UnitCurrency": "EUR", "RateType": "Indicative"}},
            ("U002", "Data.Initiation.ExchangeRateInformation.UnitCurrency"),
        ),
    ],
)
def test_consents_the_bank_refuses(
    pisp: Partner, change: dict[str, Any], expected: tuple[str, str]
) -> None:
    body = consent_body("10.00", **change)
    assert refused(staged, pisp, body, CONSENTS) == (400, *expected)


def test_an_agreed_rate_must_be_the_quote_s(pisp: Partner) -> None:
    q = quote(pisp, SellAmount="50.00")
    wrong_rate = agreed(q) | {"ExchangeRate": float(Decimal(q["ExchangeRate"]) + 1)}
    assert refused(staged, pisp, consent_body("50.00", rate=wrong_rate), CONSENTS) == (
        400,
        "U002",
        "Data.Initiation.ExchangeRateInformation.ExchangeRate",
    )
    assert refused(staged, pisp, consent_body("49.00", rate=agreed(q)), CONSENTS) == (
        400,
        "U002",
        "Data.Initiation.InstructedAmount",
    )
    usd = consent_body("50.00", transfer="USD", rate=agreed(q), DestinationCountryCode="US")
    usd["Data"]["Initiation"]["CreditorAccount"]["Identification"] = IBAN
    usd["Data"]["Initiation"].pop("DestinationCountryCode")
    assert refused(staged, pisp, usd, CONSENTS)[:2] == (400, "U002")


def test_reconciliation_after_payments_reports_no_break(oauth_app: Flask, pisp: Partner) -> None:
    for amount in ("5.00", "7.77"):
        body = consent_body(amount, rate={"UnitCurrency": "GBP", "RateType": "Actual"})
        consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
        pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))
    result = oauth_app.test_cli_runner().invoke(args=["ops", "fx-reconcile"])
    assert result.exit_code == 0, result.output
    journals = int(result.output.split(" FX journals")[0].split()[-1])
    assert journals >= 2 and result.output.rstrip().endswith(" 0 breaks")
    position = oauth_app.test_cli_runner().invoke(args=["ops", "fx-position", pisp.organisation_id])
    assert position.exit_code == 0, position.output
    assert "position GBP 12.77" in position.output and "fees     GBP 5.00" in position.output
    assert "P&L      GBP " in position.output
