"""Money arriving from abroad (the sandbox trigger ``POST /payments-from-abroad``) and the
conversions the customer sees: the credit converted into the account's currency, recomputed
here from the stated rate and exponent to the minor unit, read back through AIS with its
``CurrencyExchange`` block (validated against the reference by the conforming client); an
outgoing payment abroad shows its conversion on the debtor's transaction too; the books
reconcile with the vostro legs.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.ais import AIS, Consented, authorised
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import authorised as pisp_authorised
from tests.common.pisp import payment_body
from tests.functional.test_pisp_international import CONSENTS, PAYMENTS, agreed, consent_body, quote
from tests.functional.test_pisp_international_scheduled import reconciled
from tests.functional.test_sandbox_api import call, error, sandbox_token

PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail",
               "ReadTransactionsCredits", "ReadTransactionsDebits"]  # fmt: skip


@pytest.fixture
def partner(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("AISP", "PISP"))


def arrival(account_id: str, amount: str, currency: str, **data: Any) -> dict[str, Any]:
    return {"Data": {"AccountId": account_id, "DebtorName": "Muster GmbH", "Reference": "INV-9",
                     "InstructedAmount": {"Amount": amount, "Currency": currency},
                     "DebtorAccount": "DE89370400440532013000", **data}}  # fmt: skip


def gbp_account(consented: Consented) -> str:
    partner, token, _ = consented
    accounts = partner.client.get(f"{AIS}/accounts", token)["Data"]["Account"]
    return str(next(a["AccountId"] for a in accounts if a["Currency"] == "GBP"))


def booked(consented: Consented, account_id: str) -> Decimal:
    partner, token, _ = consented
    found = partner.client.get(f"{AIS}/accounts/{account_id}/balances", token)["Data"]["Balance"]
    value = next(b for b in found if b["Type"] == "ITBD")
    sign = 1 if value["CreditDebitIndicator"] == "Credit" else -1
    return sign * Decimal(value["Amount"]["Amount"])


def converted(consented: Consented, account_id: str, reference: str) -> dict[str, Any]:
    partner, token, _ = consented
    found = partner.client.get(f"{AIS}/accounts/{account_id}/transactions", token)
    [entry] = [t for t in found["Data"]["Transaction"]
               if t.get("TransactionReference") == reference
               and "CurrencyExchange" in t]  # fmt: skip
    return dict(entry)


@pytest.mark.parametrize(
    ("amount", "currency", "exponent"),
    [("250.00", "EUR", 2), ("10000", "JPY", 0), ("12.345", "KWD", 3), ("99.99", "USD", 2)],
)
def test_money_from_abroad_is_credited_converted_at_the_stated_rate(
    oauth_app: Flask, http: FlaskClient, partner: Partner, amount: str, currency: str,
    exponent: int,
) -> None:  # fmt: skip
    consented = authorised(oauth_app, http, PERMISSIONS, partner)
    account = gbp_account(consented)
    before = booked(consented, account)
    response = call(http, partner, sandbox_token(partner), "POST", "/payments-from-abroad",
                    arrival(account, amount, currency))  # fmt: skip
    assert response.status_code == 201, response.json
    made = (response.json or {})["Data"]
    exchange = made["CurrencyExchange"]
    rate = Decimal(repr(exchange["ExchangeRate"]))
    assert Decimal(amount).as_tuple().exponent == -exponent
    expected = (Decimal(amount) * rate).quantize(Decimal("0.01"), ROUND_FLOOR)
    assert made["CreditedAmount"] == {"Amount": f"{expected:f}", "Currency": "GBP"}
    assert made["InstructedAmount"] == {"Amount": amount, "Currency": currency}
    assert booked(consented, account) - before == expected
    entry = converted(consented, account, "INV-9")
    assert entry["CreditDebitIndicator"] == "Credit"
    assert entry["Amount"] == {"Amount": f"{expected:f}", "Currency": "GBP"}
    assert entry["CurrencyExchange"] == exchange
    assert (exchange["SourceCurrency"], exchange["TargetCurrency"], exchange["UnitCurrency"]) == (
        currency, "GBP", currency)  # fmt: skip
    assert exchange["InstructedAmount"] == {"Amount": amount, "Currency": currency}
    assert entry["DebtorAccount"]["Name"] == "Muster GmbH"
    conversions, breaks = reconciled(oauth_app)
    assert conversions >= 1 and breaks == ()


def test_an_outgoing_payment_abroad_shows_its_conversion_to_the_debtor(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    q = quote(partner, SellAmount="100.00")
    body = consent_body("100.00", rate=agreed(q))
    consent_id, token = pisp_authorised(oauth_app, partner, body, CONSENTS)
    partner.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))
    consented = authorised(oauth_app, http, PERMISSIONS, partner)
    entry = next(
        converted(consented, account, "INV-7") for account in consented[2]
        if any(t.get("TransactionReference") == "INV-7" for t in partner.client.get(
            f"{AIS}/accounts/{account}/transactions", consented[1])["Data"]["Transaction"])
    )  # fmt: skip
    assert entry["CreditDebitIndicator"] == "Debit"
    assert entry["Amount"] == {"Amount": "102.50", "Currency": "GBP"}
    exchange = entry["CurrencyExchange"]
    assert exchange["ContractIdentification"] == q["ContractIdentification"]
    assert Decimal(repr(exchange["ExchangeRate"])) == Decimal(q["ExchangeRate"])
    assert (exchange["SourceCurrency"], exchange["TargetCurrency"]) == ("GBP", "EUR")
    assert exchange["InstructedAmount"] == {"Amount": "100.00", "Currency": "GBP"}


def test_what_the_bank_cannot_credit_is_refused_and_books_nothing(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    consented = authorised(oauth_app, http, PERMISSIONS, partner)
    account = gbp_account(consented)
    before = booked(consented, account)
    token = sandbox_token(partner)
    cases = [
        (arrival("acc-nope", "10.00", "EUR"), "U011", "Data.AccountId"),
        (arrival(account, "10.00", "GBP"), "U023", "Data.InstructedAmount.Currency"),
        (arrival(account, "10.00", "XAU"), "U023", "Data.InstructedAmount.Currency"),
        (arrival(account, "12.3456", "KWD"), "U002", "Data.InstructedAmount.Amount"),
        (arrival(account, "12.5", "JPY"), "U002", "Data.InstructedAmount.Amount"),
        (arrival(account, "0.00", "EUR"), "U002", "Data.InstructedAmount.Amount"),
    ]
    for body, code, path in cases:
        response = call(http, partner, token, "POST", "/payments-from-abroad", body)
        assert response.status_code == 400, (body, response.json)
        assert (error(response)["ErrorCode"], error(response).get("Path")) == (code, path), body
    missing = arrival(account, "10.00", "EUR")
    del missing["Data"]["DebtorName"]
    response = call(http, partner, token, "POST", "/payments-from-abroad", missing)
    assert response.status_code == 400 and error(response)["ErrorCode"] in ("U004", "U010")
    assert booked(consented, account) == before
