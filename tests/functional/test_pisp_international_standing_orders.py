"""International standing orders (OBIE v4.0): every payment converted at the rate when the
tenant's clock executes it (Actual: v4.0 gives a standing order no ExchangeRateInformation),
each conversion kept and reported; pounds fixed or the amount received fixed (JPY, exponent 0;
KWD, exponent 3); every journal balances and the books reconcile.

Every response is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.core import fx
from gateway.core.money import Money
from tests.common.clock import SANDBOX_START
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, payment_body, staged
from tests.functional.test_pisp_domestic import advance
from tests.functional.test_pisp_international import IBAN, balance, refused
from tests.functional.test_pisp_international_scheduled import (
    JAPAN,
    KUWAIT,
    conversions,
    reconciled,
)

START = dt.datetime.fromisoformat(SANDBOX_START)
CONSENTS = f"{PISP}/international-standing-order-consents"
ORDERS = f"{PISP}/international-standing-orders"


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def standing(amount: str, currency: str = "GBP", transfer: str = "EUR", count: str = "3",
             **initiation: Any) -> dict[str, Any]:  # fmt: skip
    """A weekly ``OBWriteInternationalStandingOrderConsent6``, first paid the day after the
    sandbox's start."""
    return {
        "Data": {"Permission": "Create", "Initiation": {
            "MandateRelatedInformation": {
                "Frequency": {"Type": "WEEK"},
                "FirstPaymentDateTime": (START + dt.timedelta(days=1)).isoformat(),
            },
            "NumberOfPayments": count, "ChargeBearer": "BorneByDebtor",
            "CurrencyOfTransfer": transfer, "DestinationCountryCode": "DE",
            "InstructedAmount": {"Amount": amount, "Currency": currency},
            "CreditorAccount": {"SchemeName": "UK.OBIE.IBAN", "Identification": IBAN,
                                "Name": "Muster GmbH"},
            "RemittanceInformation": {"Reference": "RENT-DE-4"},
            **initiation,
        }},
        "Risk": {"PaymentContextCode": "TransferToThirdParty"},
    }  # fmt: skip


def set_up(app: Flask, partner: Partner, body: dict[str, Any]) -> tuple[str, str]:
    """The standing order made for ``body``: its path and a token to read it."""
    consent_id, token = authorised(app, partner, body, CONSENTS)
    made = partner.client.post_signed(ORDERS, token, payment_body(consent_id, body))["Data"]
    assert made["Status"] == "INCO"
    assert made["Charges"][0]["Amount"] == {"Amount": "2.50", "Currency": "GBP"}
    reader = partner.client.client_credentials("payments")["access_token"]
    return f"{ORDERS}/{made['InternationalStandingOrderId']}", reader


def test_each_payment_converts_pounds_at_the_rate_when_it_executes(
    oauth_app: Flask, pisp: Partner
) -> None:
    created = staged(pisp, standing("40.00"), CONSENTS)["Data"]
    assert created["Charges"][0]["ChargeBearer"] == "BorneByDebtor"
    assert "ExchangeRateInformation" not in created
    path, reader = set_up(oauth_app, pisp, standing("40.00"))
    before = balance(oauth_app, pisp)
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=16))
    steps = pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"]
    assert [s["Status"] for s in steps] == ["ACCP", "ACSP", "ACSC", "ACSP", "ACSC", "ACSP",
                                            "ACSC"]  # fmt: skip
    made = conversions(oauth_app, pisp, steps[0]["PaymentTransactionId"])
    assert [c.executed_at.date() for c in made] == [
        START.date() + dt.timedelta(days=d) for d in (1, 8, 15)]  # fmt: skip
    for conversion, step in zip(made, [s for s in steps if s["Status"] == "ACSP"], strict=True):
        assert conversion.rate_type == "Actual" and conversion.sell.amount == Decimal("40.00")
        assert conversion.buy == fx.converted(Money(Decimal("40.00"), "GBP"), conversion.rate,
                                              "EUR")  # fmt: skip
        assert str(conversion.rate) in step["StatusDetail"]["StatusReasonDescription"]
    assert len({c.rate for c in made}) > 1  # the feed moved between the payments
    assert before - balance(oauth_app, pisp) == Decimal("127.50")
    assert pisp.client.get(path, reader)["Data"]["Status"] == "INCO"
    assert reconciled(oauth_app)[1] == ()


@pytest.mark.parametrize(
    ("amount", "transfer", "where", "step"),
    [("5000", "JPY", JAPAN, Decimal(1)), ("7.125", "KWD", KUWAIT, Decimal("0.001"))],
)
def test_the_amount_received_is_fixed_in_its_own_precision(
    oauth_app: Flask, pisp: Partner, amount: str, transfer: str, where: dict[str, Any],
    step: Decimal,
) -> None:  # fmt: skip
    where = {k: v for k, v in where.items() if k != "LocalInstrument"}
    body = standing(amount, transfer, transfer, count="2", **where)
    path, reader = set_up(oauth_app, pisp, body)
    before = balance(oauth_app, pisp)
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=9))
    steps = pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"]
    made = conversions(oauth_app, pisp, steps[0]["PaymentTransactionId"])
    assert len(made) == 2
    for conversion in made:
        assert conversion.buy == Money(Decimal(amount).quantize(step), transfer)
        # The least pounds that buy it at the rate: a penny less buys less.
        assert fx.converted(conversion.sell, conversion.rate, transfer).amount >= Decimal(amount)
        less = Money(conversion.sell.amount - Decimal("0.01"), "GBP")
        assert fx.converted(less, conversion.rate, transfer).amount < Decimal(amount)
        assert conversion.buy.amount == (conversion.buy.amount / step).quantize(
            Decimal(1), ROUND_FLOOR) * step  # fmt: skip
    debited = sum((c.total_debited.amount for c in made), Decimal(0))
    assert before - balance(oauth_app, pisp) == debited
    assert reconciled(oauth_app)[1] == ()


def test_a_standing_order_abroad_refuses_what_the_bank_cannot_follow(
    oauth_app: Flask, pisp: Partner
) -> None:
    past = standing("40.00")
    past["Data"]["Initiation"]["MandateRelatedInformation"]["FirstPaymentDateTime"] = (
        START - dt.timedelta(days=2)).isoformat()  # fmt: skip
    mandate = "Data.Initiation.MandateRelatedInformation"
    assert refused(staged, pisp, past, CONSENTS) == (400, "U003", f"{mandate}.FirstPaymentDateTime")
    assert refused(staged, pisp, standing("40.00", transfer="GBP"), CONSENTS)[1] == "U002"
    assert refused(staged, pisp, standing("40.00", count="0"), CONSENTS) == (
        400, "U002", "Data.Initiation.NumberOfPayments")  # fmt: skip
    assert refused(staged, pisp, standing("40.005"), CONSENTS)[1] in ("U002", "U010")
    bad_iban = standing("40.00", CreditorAccount={"SchemeName": "UK.OBIE.IBAN",
                                                  "Identification": "DE00370400440532013000",
                                                  "Name": "Muster GmbH"})  # fmt: skip
    assert refused(staged, pisp, bad_iban, CONSENTS)[1] == "U021"
    reader = pisp.client.client_credentials("payments")["access_token"]
    assert refused(pisp.client.get, f"{ORDERS}/iso-nope", reader)[:2] == (400, "U011")
