"""The financing API (``/open-banking/financing/v1``): a lending marketplace lists the loan
products and prices loans with a client-credentials token (scope ``financing``). Every response
is checked against the published document (specs/openapi/financing-v1.json); every quote's APR
is recomputed from its own cash flows and its schedule re-added, as a partner would check them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.core import apr
from tests.common.clock import bank_now
from tests.common.oauth import ISSUER, Partner, register_partner

API = "/open-banking/financing/v1"
D = Decimal


def call(
    http: FlaskClient, partner: Partner, token: str, method: str, path: str, body: Any = None,
    **kwargs: Any,
) -> TestResponse:  # fmt: skip
    headers = partner.client.resource_headers(method, f"{ISSUER}{API}{path}", token)
    return http.open(f"{API}{path}", method=method, headers=headers, json=body, **kwargs)


@pytest.fixture
def lender(oauth_app: Flask, http: FlaskClient) -> tuple[Partner, str]:
    """A lending marketplace (role FINANCING) and its financing client-credentials token."""
    partner = register_partner(oauth_app, http, roles=("FINANCING",))
    return partner, str(partner.client.client_credentials("financing")["access_token"])


def quote(http: FlaskClient, lender: tuple[Partner, str], **data: Any) -> TestResponse:
    body = {"Data": {"ProductId": "personal-loan", "Amount": {"Amount": "10000.00",
            "Currency": "GBP"}, "Term": 24} | data}  # fmt: skip
    return call(http, *lender, "POST", "/quotes", body)


def error(response: TestResponse) -> dict[str, Any]:
    body: dict[str, Any] = response.json or {}
    assert body["Id"] == response.headers["x-fapi-interaction-id"]
    first: dict[str, Any] = body["Errors"][0]
    return first


def amount(value: dict[str, str]) -> Decimal:
    assert value["Currency"] == "GBP"
    return D(value["Amount"])


def check_quote(data: dict[str, Any]) -> None:
    """What a partner (or an auditor) can recompute from the quote alone."""
    flows = data["CashFlows"]
    drawdowns = [(amount(f["Amount"]), D(f["Time"])) for f in flows if f["Type"] == "Drawdown"]
    repayments = [(amount(f["Amount"]), D(f["Time"])) for f in flows if f["Type"] == "Repayment"]
    start = dt.date.fromisoformat(data["DrawdownDate"])
    for flow in flows:
        exact = apr.years_between(start, dt.date.fromisoformat(flow["Date"]))
        assert abs(exact - D(flow["Time"])) < D("1e-10")
    assert D(data["APR"]) == apr.solve(drawdowns, repayments)
    assert drawdowns == [(amount(data["TotalAmountOfCredit"]), D(0))]
    balance = amount(data["Principal"])
    for line in data["Instalments"]:
        interest = (balance * D(line["PeriodicRate"])).quantize(D("0.01"))
        assert amount(line["Interest"]) == interest  # half to even, as Decimal rounds
        parts = amount(line["Principal"]) + amount(line["Interest"]) + amount(line["Fees"])
        assert amount(line["Amount"]) == parts
        balance -= amount(line["Principal"])
        assert amount(line["Balance"]) == balance
    assert balance == 0
    total = sum(amount(line["Amount"]) for line in data["Instalments"])
    assert amount(data["TotalAmountPayable"]) == total == sum(a for a, _ in repayments)
    assert amount(data["TotalChargeForCredit"]) == total - amount(data["TotalAmountOfCredit"])


# -- products ------------------------------------------------------------------------------------


def test_the_products_are_listed(http: FlaskClient, lender: tuple[Partner, str]) -> None:
    response = call(http, *lender, "GET", "/products")
    assert response.status_code == 200, response.json
    body = response.json or {}
    products = {p["ProductId"]: p for p in body["Data"]["Product"]}
    assert list(products) == ["personal-loan", "sme-term-loan", "revolving-credit-line"]
    sme = products["sme-term-loan"]
    assert sme["Amortisation"] == "EqualPrincipal" and sme["DayCount"] == "30/360"
    assert sme["ArrangementFee"]["Treatment"] == "DeductedFromLoan"
    assert sme["Eligibility"]["MinimumTradingMonths"] == 24
    personal = products["personal-loan"]
    assert personal["ArrangementFee"]["Treatment"] == "AddedToLoan"
    assert [b["NominalRate"] for b in personal["PricingBands"]] == ["6.9", "12.9", "19.9"]
    assert personal["MinimumAmount"] == {"Amount": "1000.00", "Currency": "GBP"}
    assert body["Links"]["Self"] == f"{ISSUER}{API}/products"
    assert "RateLimit-Limit" in response.headers


def test_one_product(http: FlaskClient, lender: tuple[Partner, str]) -> None:
    response = call(http, *lender, "GET", "/products/revolving-credit-line")
    assert response.status_code == 200, response.json
    [product] = (response.json or {})["Data"]["Product"]
    assert product["ProductType"] == "RevolvingCreditLine"


def test_an_unknown_product_is_400_resource_not_found(
    http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    response = call(http, *lender, "GET", "/products/mortgage")
    assert response.status_code == 400
    assert error(response)["ErrorCode"] == "U011"


# -- quotes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "value", "term"),
    [("personal-loan", "10000.00", 24), ("personal-loan", "1000.00", 60),
     ("sme-term-loan", "50000.00", 36), ("sme-term-loan", "250000.00", 12),
     ("revolving-credit-line", "1500.00", 12), ("revolving-credit-line", "10000.00", 36)],
)  # fmt: skip
def test_every_quote_agrees_with_its_own_cash_flows(
    http: FlaskClient, lender: tuple[Partner, str], product: str, value: str, term: int
) -> None:
    response = quote(http, lender, ProductId=product, Amount={"Amount": value, "Currency": "GBP"},
                     Term=term)  # fmt: skip
    assert response.status_code == 200, response.json
    data = (response.json or {})["Data"]
    check_quote(data)
    assert len(data["Instalments"]) == term
    assert data["RepresentativeExample"]["RepresentativeAPR"] == data["APR"]


def test_an_sme_quote_on_30_360(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    """50,000 over 36 months at 10.5% (band B), equal principal, 30/360: the 2% fee (1,000) is
    deducted, so the customer receives 49,000 and repays 50,000 plus interest."""
    response = quote(http, lender, ProductId="sme-term-loan",
                     Amount={"Amount": "50000.00", "Currency": "GBP"}, Term=36)  # fmt: skip
    data = (response.json or {})["Data"]
    today = bank_now(oauth_app, lender[0].organisation_id).date()
    assert data["DrawdownDate"] == today.isoformat()
    assert data["ArrangementFee"] == {"Amount": {"Amount": "1000.00", "Currency": "GBP"},
                                      "Treatment": "DeductedFromLoan"}  # fmt: skip
    assert amount(data["TotalAmountOfCredit"]) == D("49000.00")
    first = data["Instalments"][0]
    assert amount(first["Interest"]) == D("437.50")  # 50,000 * 10.5% / 12
    assert amount(first["Principal"]) == D("1388.89")
    assert D(data["APR"]) > D("10.5")


def test_a_band_and_a_first_repayment_date(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    today = bank_now(oauth_app, lender[0].organisation_id).date()
    first = (today + dt.timedelta(days=45)).isoformat()
    response = quote(http, lender, PricingBand="A", FirstRepaymentDate=first)
    assert response.status_code == 200, response.json
    data = (response.json or {})["Data"]
    assert (data["PricingBand"], data["NominalRate"]) == ("A", "6.9")
    assert data["FirstRepaymentDate"] == data["Instalments"][0]["DueDate"] == first
    check_quote(data)


def test_quotes_follow_the_sandbox_clock(
    oauth_app: Flask, http: FlaskClient, lender: tuple[Partner, str]
) -> None:
    partner, _ = lender
    before = (quote(http, lender).json or {})["Data"]["DrawdownDate"]
    token = str(partner.client.client_credentials("sandbox")["access_token"])
    headers = partner.client.resource_headers(
        "POST", f"{ISSUER}/open-banking/sandbox/v1/clock/advance", token
    )
    moved = http.post("/open-banking/sandbox/v1/clock/advance", headers=headers,
                      json={"Data": {"Days": 10}})  # fmt: skip
    assert moved.status_code == 200, moved.json
    after = (quote(http, lender).json or {})["Data"]["DrawdownDate"]
    assert dt.date.fromisoformat(after) == dt.date.fromisoformat(before) + dt.timedelta(days=10)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"Amount": {"Amount": "999.99", "Currency": "GBP"}}, "Data.Amount"),
        ({"Amount": {"Amount": "25000.01", "Currency": "GBP"}}, "Data.Amount"),
        ({"Amount": {"Amount": "1000.001", "Currency": "GBP"}}, "Data.Amount"),
        ({"Amount": {"Amount": "1000.00", "Currency": "EUR"}}, "Data.Amount.Currency"),
        ({"Term": 61}, "Data.Term"),
        ({"Term": 11}, "Data.Term"),
        ({"PricingBand": "Z"}, "Data.PricingBand"),
        ({"FirstRepaymentDate": "2000-01-01"}, "Data.FirstRepaymentDate"),
        ({"FirstRepaymentDate": "2099-01-01"}, "Data.FirstRepaymentDate"),
        ({"Amount": {"Amount": "-5", "Currency": "GBP"}}, "Data.Amount.Amount"),
        ({"Amount": {"Amount": "1000", "Currency": "gbp"}}, "Data.Amount.Currency"),
        ({"Term": "24"}, "Data.Term"),
        ({"FirstRepaymentDate": "next month"}, "Data.FirstRepaymentDate"),
    ],
)
def test_what_the_product_does_not_lend_is_a_field_invalid(
    http: FlaskClient, lender: tuple[Partner, str], data: dict[str, Any], path: str
) -> None:
    response = quote(http, lender, **data)
    assert response.status_code == 400, response.json
    first = error(response)
    assert (first["ErrorCode"], first.get("Path")) == ("U002", path)


def test_an_unknown_product_in_a_quote(http: FlaskClient, lender: tuple[Partner, str]) -> None:
    response = quote(http, lender, ProductId="mortgage")
    assert response.status_code == 400
    first = error(response)
    assert (first["ErrorCode"], first["Path"]) == ("U011", "Data.ProductId")


def test_missing_and_unknown_fields(http: FlaskClient, lender: tuple[Partner, str]) -> None:
    missing = call(http, *lender, "POST", "/quotes", {"Data": {"ProductId": "personal-loan"}})
    assert missing.status_code == 400
    assert error(missing)["ErrorCode"] == "U004"
    unknown = quote(http, lender, Colour="blue")
    assert unknown.status_code == 400
    assert (error(unknown)["ErrorCode"], error(unknown)["Path"]) == (
        "U005", "Data.Colour"
    )  # fmt: skip


def test_a_body_that_is_not_json(http: FlaskClient, lender: tuple[Partner, str]) -> None:
    response = call(http, *lender, "POST", "/quotes", data="{", content_type="application/json")
    assert response.status_code == 400
    assert error(response)["ErrorCode"] == "U010"
    wrong = call(http, *lender, "POST", "/quotes", data="x", content_type="text/plain")
    assert wrong.status_code == 415
    assert error(wrong)["ErrorCode"] == "U006"


# -- access --------------------------------------------------------------------------------------


def test_a_token_without_the_financing_scope_is_403(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP", "FINANCING"))
    token = str(partner.client.client_credentials("accounts")["access_token"])
    response = call(http, partner, token, "GET", "/products")
    assert response.status_code == 403
    assert error(response)["ErrorCode"] == "U042"


def test_no_token_is_401(http: FlaskClient) -> None:
    response = http.get(f"{API}/products")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
