"""International scheduled payments (OBIE v4.0): booked for a day, converted when the tenant's
clock executes them, at the rate the RateType gives: an agreed quote's locked rate to the minor
unit (refused once its lock has ended), or the rate of that moment (Actual), reported. JPY
(exponent 0) and KWD (exponent 3) amounts; a used quote refused; the books reconcile.

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

from gateway.consents.models import Consent
from gateway.core.fx_orders import Conversion
from gateway.store.database import Database
from partners.example_client import GatewayError
from tests.common.clock import SANDBOX_START
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, payment_body, staged
from tests.functional.test_pisp_domestic import advance
from tests.functional.test_pisp_international import (
    agreed,
    balance,
    consent_body,
    quote,
    refused,
)

START = dt.datetime.fromisoformat(SANDBOX_START)
CONSENTS = f"{PISP}/international-scheduled-payment-consents"
PAYMENTS = f"{PISP}/international-scheduled-payments"
JAPAN = {
    "DestinationCountryCode": "JP", "LocalInstrument": "UK.OBIE.SWIFT",
    "CreditorAccount": {"SchemeName": "UK.OBIE.BBAN", "Identification": "1234567",
                        "Name": "Yamada KK"},
    "CreditorAgent": {"SchemeName": "UK.OBIE.BICFI", "Identification": "BOTKJPJTXXX"},
}  # fmt: skip
KUWAIT = {
    "DestinationCountryCode": "KW",
    "CreditorAccount": {"SchemeName": "UK.OBIE.IBAN",
                        "Identification": "KW81CBKU0000000000001234560101", "Name": "Al Noor"},
    "CreditorAgent": {"SchemeName": "UK.OBIE.BICFI", "Identification": "CBKUKWKWXXX"},
}  # fmt: skip


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def scheduled(amount: str, currency: str = "GBP", transfer: str = "EUR", days: int = 1,
              rate: dict[str, Any] | None = None, **initiation: Any) -> dict[str, Any]:  # fmt: skip
    """An ``OBWriteInternationalScheduledConsent5`` for ``days`` after the sandbox's start."""
    body = consent_body(amount, currency, transfer, rate, **initiation)
    body["Data"] = {"Permission": "Create", **body["Data"]}
    when = (START + dt.timedelta(days=days)).isoformat()
    body["Data"]["Initiation"]["RequestedExecutionDateTime"] = when
    return body


def conversions(app: Flask, partner: Partner, instruction: str) -> list[Conversion]:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        bank = app.extensions["bank_core"](session)
        return list(bank.conversions(partner.organisation_id, instruction))


def reconciled(app: Flask) -> tuple[int, tuple[str, ...]]:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        found = app.extensions["bank_core"](session).reconcile()
        return found.conversions, found.breaks


def executed(app: Flask, partner: Partner, order_id: str) -> list[Conversion]:
    """The conversions the bank made for an order (its payment details name the bank's
    instruction)."""
    reader = partner.client.client_credentials("payments")["access_token"]
    steps = partner.client.get(f"{PAYMENTS}/{order_id}/payment-details", reader)
    return conversions(app, partner, steps["Data"]["PaymentStatus"][-1]["PaymentTransactionId"])


def booked(app: Flask, partner: Partner, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The order made for ``body``, and a client-credentials token to read it."""
    consent_id, token = authorised(app, partner, body, CONSENTS)
    order = partner.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    assert order["Status"] == "ACCP"
    return order, partner.client.client_credentials("payments")["access_token"]


def test_an_actual_rate_is_taken_when_the_payment_executes_in_yen(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = scheduled("20.00", transfer="JPY", days=2, **JAPAN)
    created = staged(pisp, body, CONSENTS)["Data"]
    assert created["ExchangeRateInformation"]["RateType"] == "Actual"
    assert created["CutOffDateTime"] and created["Status"] == "AWAU"
    order, reader = booked(oauth_app, pisp, body)
    path = f"{PAYMENTS}/{order['InternationalScheduledPaymentId']}"
    before = balance(oauth_app, pisp)
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=1))
    assert pisp.client.get(path, reader)["Data"]["Status"] == "ACCP"
    assert balance(oauth_app, pisp) == before
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=1))
    paid = pisp.client.get(path, reader)["Data"]
    # Executed at the day's booking time (06:00), settled in the next cycle since.
    assert paid["Status"] == "ACSC"
    instruction = pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"]
    assert [s["Status"] for s in instruction] == ["ACCP", "ACSP", "ACSC"]
    [made] = conversions(oauth_app, pisp, instruction[-1]["PaymentTransactionId"])
    assert made.rate_type == "Actual" and made.executed_at.date() == START.date() + dt.timedelta(2)
    assert Decimal(repr(paid["ExchangeRateInformation"]["ExchangeRate"])) == made.rate
    assert made.buy.amount == (Decimal("20.00") * made.rate).quantize(Decimal(1), ROUND_FLOOR)
    assert made.buy.amount == made.buy.amount.to_integral_value()
    assert made.sell.amount == Decimal("20.00") and made.fee.amount == Decimal("2.50")
    assert before - balance(oauth_app, pisp) == Decimal("22.50")
    assert str(made.rate) in instruction[1]["StatusDetail"]["StatusReasonDescription"]
    assert reconciled(oauth_app)[1] == ()


def test_an_agreed_rate_is_honoured_on_the_day_to_the_minor_unit_in_dinars(
    oauth_app: Flask, pisp: Partner
) -> None:
    q = quote(pisp, BuyCurrency="KWD", BuyAmount="12.345", Lock="PT24H",
              DestinationCountry="KW")  # fmt: skip
    body = scheduled("12.345", "KWD", "KWD", rate=agreed(q), **KUWAIT)
    consent_id, token = authorised(oauth_app, pisp, body, CONSENTS)
    funds = pisp.client.get(f"{CONSENTS}/{consent_id}/funds-confirmation", token)
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is True
    order = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    before = balance(oauth_app, pisp)
    advance(oauth_app, pisp.organisation_id, dt.timedelta(hours=20))
    reader = pisp.client.client_credentials("payments")["access_token"]
    paid = pisp.client.get(f"{PAYMENTS}/{order['InternationalScheduledPaymentId']}", reader)
    rate = paid["Data"]["ExchangeRateInformation"]
    assert (rate["RateType"], rate["ContractIdentification"]) == (
        "Agreed", q["ContractIdentification"])  # fmt: skip
    [made] = executed(oauth_app, pisp, paid["Data"]["InternationalScheduledPaymentId"])
    assert made.rate == Decimal(q["ExchangeRate"]) and made.buy.amount == Decimal("12.345")
    assert made.sell.amount == Decimal(q["SellAmount"]["Amount"])
    assert before - balance(oauth_app, pisp) == Decimal(q["TotalDebited"]["Amount"])
    # The quote served this payment: another consent citing it is refused.
    assert refused(staged, pisp, scheduled("12.345", "KWD", "KWD", days=2, rate=agreed(q),
                                           **KUWAIT), CONSENTS) == (
        409, "U029", "Data.Initiation.ExchangeRateInformation.ContractIdentification")  # fmt: skip
    assert reconciled(oauth_app)[1] == ()


def test_an_agreed_quote_must_stay_locked_until_the_payment_is_booked(
    oauth_app: Flask, pisp: Partner
) -> None:
    """A rate that cannot be honoured on the day is refused when the consent is staged: the
    day's payments are booked at 06:00 UTC, and a 24-hour lock taken at 10:00 ends before the
    day after tomorrow's booking (it reaches tomorrow's: the test above pays at it)."""
    q = quote(pisp, SellAmount="50.00", Lock="PT24H")
    with pytest.raises(GatewayError) as caught:
        staged(pisp, scheduled("50.00", days=2, rate=agreed(q)), CONSENTS)
    assert caught.value.status == 400
    [error] = caught.value.body["Errors"]
    assert error["ErrorCode"] == "U002"
    assert error["Path"] == "Data.Initiation.ExchangeRateInformation.ContractIdentification"
    assert error["Message"] == (
        f"The quote's lock ends at {q['ExpirationDateTime']}, before the payment is made at "
        f"{(START + dt.timedelta(days=2)).date()}T06:00:00+00:00"
    )
    # Nothing was staged.
    database: Database = oauth_app.extensions["database"]
    with database.sessions() as session:
        assert (
            session.scalars(select(Consent).where(Consent.client_id == pisp.client_id)).all() == []
        )


def test_the_day_must_be_after_today_and_the_quote_locked_and_unused(
    oauth_app: Flask, pisp: Partner
) -> None:
    assert refused(staged, pisp, scheduled("20.00", days=0), CONSENTS) == (
        400, "U003", "Data.Initiation.RequestedExecutionDateTime")  # fmt: skip
    assert refused(staged, pisp, scheduled("20.00", days=400), CONSENTS)[1] == "U003"
    assert refused(staged, pisp, scheduled("20.00", transfer="GBP"), CONSENTS)[1] == "U002"
    assert refused(staged, pisp, scheduled("20.00", transfer="XAU"), CONSENTS)[1] == "U023"
    indicative = quote(pisp, SellAmount="20.00", Lock="None")
    assert refused(staged, pisp, scheduled("20.00", rate=agreed(indicative)), CONSENTS) == (
        400, "U002", "Data.Initiation.ExchangeRateInformation.ContractIdentification")  # fmt: skip
    # A five-minute lock cannot reach tomorrow's booking.
    q = quote(pisp, SellAmount="30.00", Lock="PT5M")
    assert refused(staged, pisp, scheduled("30.00", rate=agreed(q)), CONSENTS) == (
        400, "U002", "Data.Initiation.ExchangeRateInformation.ContractIdentification")  # fmt: skip


def test_an_unknown_scheduled_payment_is_a_400(oauth_app: Flask, pisp: Partner) -> None:
    reader = pisp.client.client_credentials("payments")["access_token"]
    assert refused(pisp.client.get, f"{PAYMENTS}/isp-nope", reader)[:2] == (400, "U011")
    assert refused(pisp.client.get, f"{CONSENTS}/nope", reader)[:2] == (400, "U011")
