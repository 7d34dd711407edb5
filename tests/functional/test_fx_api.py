"""The FX API (``/open-banking/extensions/v1/fx``): rates, corridors and quotes with a
client-credentials token; every response is checked against the published document
(specs/openapi/fx-v1.json); each conversion is recomputed from the stated rate and exponents;
a lock expires on the sandbox's clock."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.api.fx import PREFIX
from gateway.core.fx_corridors import BY_ID
from gateway.core.money import EXPONENTS
from tests.common.oauth import ISSUER, Partner, register_partner


@pytest.fixture
def partner(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def call(http: FlaskClient, partner: Partner, method: str, path: str, body: Any = None,
         scope: str = "payments") -> TestResponse:  # fmt: skip
    token = partner.client.client_credentials(scope)["access_token"]
    headers = partner.client.resource_headers(method, f"{ISSUER}{PREFIX}{path}", token)
    return http.open(f"{PREFIX}{path}", method=method, headers=headers, json=body)


def quote_body(**data: str) -> dict[str, Any]:
    return {"Data": {"SellCurrency": "GBP", "BuyCurrency": "EUR", "Lock": "PT5M", **data}}


def advance(app: Flask, tenant: str, delta: dt.timedelta) -> None:
    with app.extensions["database"].sessions() as session:
        app.extensions["sandbox"](session).advance_clock(tenant, delta)
        session.commit()


def error(response: TestResponse) -> tuple[int, str, str | None]:
    detail = response.get_json()["Errors"][0]
    return response.status_code, detail["ErrorCode"], detail.get("Path")


def test_rates_against_the_unit_currency(http: FlaskClient, partner: Partner) -> None:
    response = call(http, partner, "GET", "/rates?UnitCurrency=EUR")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()["Data"]
    assert data["UnitCurrency"] == "EUR"
    quoted = {r["QuotedCurrency"] for r in data["Rate"]}
    assert {"GBP", "USD", "CNY", "JPY", "HKD", "SGD", "CHF"} <= quoted and "EUR" not in quoted
    assert error(call(http, partner, "GET", "/rates?UnitCurrency=XAU")) == (
        400, "U023", "UnitCurrency")  # fmt: skip


def test_corridors_say_when_money_arrives(http: FlaskClient, partner: Partner) -> None:
    response = call(http, partner, "GET", "/corridors")
    assert response.status_code == 200
    corridors = {c["CorridorId"]: c for c in response.get_json()["Data"]["Corridor"]}
    eur = corridors["GBP-EUR"]
    assert eur["CutOffTime"] == "16:00" and eur["TimeZone"] == "Europe/Brussels"
    # The sandbox starts on Wednesday 4 March 2026 at 10:00 UTC: before the cut-off, T+1.
    assert eur["ExpectedSettlementDate"] == "2026-03-05"
    assert corridors["GBP-KWD"]["MaximumAmount"] == {"Amount": "20000.00", "Currency": "GBP"}


@pytest.mark.parametrize(("buy", "places"), [("JPY", 0), ("KWD", 3), ("EUR", 2)])
def test_the_amount_received_is_the_stated_rate_in_the_buy_exponent(
    http: FlaskClient, partner: Partner, buy: str, places: int
) -> None:
    response = call(http, partner, "POST", "/quotes",
                    quote_body(BuyCurrency=buy, SellAmount="250.00"))  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()["Data"]
    rate = Decimal(data["ExchangeRate"])
    expected = (Decimal("250.00") * rate).quantize(Decimal(1).scaleb(-places), ROUND_FLOOR)
    assert data["AmountReceived"] == {"Amount": f"{expected:f}", "Currency": buy}
    assert EXPONENTS[buy] == places
    assert data["TotalDebited"] == {"Amount": "252.50", "Currency": "GBP"}
    assert data["RateType"] == "Agreed" and data["Status"] == "Locked"
    spread = BY_ID[f"GBP-{buy}"].spread_bps
    assert data["SpreadBasisPoints"] == spread
    assert rate <= Decimal(data["MidRate"]) * (10_000 - spread) / 10_000
    assert response.get_json()["Links"]["Self"].endswith(
        f"/quotes/{data['ContractIdentification']}"
    )


def test_a_fixed_buy_amount_is_bought_in_full(http: FlaskClient, partner: Partner) -> None:
    response = call(http, partner, "POST", "/quotes",
                    quote_body(BuyCurrency="JPY", BuyAmount="50000", Lock="None"))  # fmt: skip
    data = response.get_json()["Data"]
    assert data["FixedSide"] == "Buy" and data["RateType"] == "Indicative"
    assert "ExpirationDateTime" not in data
    sell, rate = Decimal(data["SellAmount"]["Amount"]), Decimal(data["ExchangeRate"])
    assert (sell * rate).to_integral_value(ROUND_FLOOR) >= 50000
    assert ((sell - Decimal("0.01")) * rate).to_integral_value(ROUND_FLOOR) < 50000


def test_a_lock_expires_on_the_sandbox_clock(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    created = call(http, partner, "POST", "/quotes", quote_body(SellAmount="10.00"))
    data = created.get_json()["Data"]
    ends = dt.datetime.fromisoformat(data["ExpirationDateTime"])
    assert ends - dt.datetime.fromisoformat(data["CreationDateTime"]) == dt.timedelta(minutes=5)
    path = f"/quotes/{data['ContractIdentification']}"
    assert call(http, partner, "GET", path).get_json()["Data"]["Status"] == "Locked"
    advance(oauth_app, partner.organisation_id, dt.timedelta(minutes=5))
    again = call(http, partner, "GET", path).get_json()["Data"]
    assert again["Status"] == "Expired"
    assert again["ExchangeRate"] == data["ExchangeRate"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"BuyCurrency": "XAU", "SellAmount": "10.00"}, ("U023", "Data.BuyCurrency")),
        ({"SellCurrency": "XXX", "SellAmount": "10.00"}, ("U023", "Data.SellCurrency")),
        (
            {"SellCurrency": "EUR", "BuyCurrency": "USD", "SellAmount": "10"},
            ("U002", "Data.BuyCurrency"),
        ),
        ({"SellAmount": "10.00", "DestinationCountry": "US"}, ("U002", "Data.DestinationCountry")),
        ({"SellAmount": "0.50"}, ("U002", "Data.SellAmount")),
        ({"SellAmount": "50000.01"}, ("U002", "Data.SellAmount")),
        ({"SellAmount": "1.005"}, ("U002", "Data.SellAmount")),
        ({"BuyCurrency": "JPY", "BuyAmount": "10.5"}, ("U002", "Data.BuyAmount")),
        ({"SellAmount": "10.00", "BuyAmount": "10.00"}, ("U002", "Data")),
        ({}, ("U002", "Data")),
        ({"SellAmount": "10.00", "Lock": "PT2H"}, ("U002", "Data.Lock")),
        ({"SellAmount": "ten"}, ("U002", "Data.SellAmount")),
        ({"SellAmount": "10.00", "Rate": "1"}, ("U005", "Data.Rate")),
    ],
)
def test_quotes_the_bank_refuses(
    http: FlaskClient, partner: Partner, data: dict[str, str], expected: tuple[str, str]
) -> None:
    response = call(http, partner, "POST", "/quotes", quote_body(**data))
    assert error(response) == (400, *expected)


def test_an_unknown_quote_is_a_400_u011(http: FlaskClient, partner: Partner) -> None:
    assert error(call(http, partner, "GET", "/quotes/fxq_unknown"))[:2] == (400, "U011")


def test_another_organisation_cannot_read_a_quote(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    created = call(http, partner, "POST", "/quotes", quote_body(SellAmount="10.00"))
    other = register_partner(oauth_app, http, roles=("PISP",))
    path = f"/quotes/{created.get_json()['Data']['ContractIdentification']}"
    assert error(call(http, other, "GET", path))[:2] == (400, "U011")


def test_a_token_without_the_payments_scope_is_refused(http: FlaskClient, partner: Partner) -> None:
    assert http.get(f"{PREFIX}/rates").status_code == 401
    assert call(http, partner, "GET", "/rates", scope="sandbox").status_code == 403
