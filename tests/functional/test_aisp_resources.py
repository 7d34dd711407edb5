"""Account information (OBIE v4.0 AIS) beyond accounts and balances: beneficiaries, direct debits,
standing orders, scheduled payments, parties, products and offers, per account and in bulk.

Every response is validated against the reference file by the conforming test client; entries
are also checked against the Basic or Detail variant of their schema, which the response schemas
only name as a union.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.common.ais import AIS, Consented, authorised, read, refusal
from tests.common.obie import conforms_to

BASIC = ["ReadAccountsBasic", "ReadBeneficiariesBasic", "ReadDirectDebits",
         "ReadStandingOrdersBasic", "ReadScheduledPaymentsBasic", "ReadStatementsBasic",
         "ReadProducts", "ReadOffers"]  # fmt: skip
DETAIL = ["ReadAccountsDetail", "ReadBeneficiariesDetail", "ReadDirectDebits",
          "ReadStandingOrdersDetail", "ReadScheduledPaymentsDetail", "ReadStatementsDetail",
          "ReadParty", "ReadPartyPSU", "ReadProducts", "ReadOffers"]  # fmt: skip
# Per-account operations, with the permission each needs (an account the consent does not
# cover: test_aisp_unknown_ids).
PER_ACCOUNT = [
    ("beneficiaries", "ReadBeneficiariesBasic"),
    ("direct-debits", "ReadDirectDebits"),
    ("standing-orders", "ReadStandingOrdersBasic"),
    ("scheduled-payments", "ReadScheduledPaymentsBasic"),
    ("statements", "ReadStatementsBasic"),
    ("party", "ReadParty"),
    ("parties", "ReadParty"),
    ("product", "ReadProducts"),
    ("offers", "ReadOffers"),
]


@pytest.fixture(scope="module")
def basic(oauth_app: Flask) -> Consented:
    """A partner whose customer shared the Basic clusters of three accounts."""
    return authorised(oauth_app, oauth_app.test_client(), BASIC)


@pytest.fixture(scope="module")
def detail(oauth_app: Flask) -> Consented:
    """A partner whose customer shared the Detail clusters (and parties) of three accounts."""
    return authorised(oauth_app, oauth_app.test_client(), DETAIL)


@pytest.fixture(scope="module")
def bare(oauth_app: Flask) -> Consented:
    """A partner whose customer shared only the accounts' basic details."""
    return authorised(oauth_app, oauth_app.test_client(), ["ReadAccountsBasic"])


def entries(consented: Consented, resource: str, key: str) -> list[dict[str, Any]]:
    """The entries of ``resource`` of the everyday account (the third one shared)."""
    everyday = consented[2][-1]
    found: list[dict[str, Any]] = read(consented, f"/accounts/{everyday}/{resource}")["Data"][key]
    assert found and {e["AccountId"] for e in found} == {everyday}
    return found


def test_beneficiaries_basic_hide_the_creditor_account(basic: Consented) -> None:
    for entry in entries(basic, "beneficiaries", "Beneficiary"):
        conforms_to("OBBeneficiary5Basic", entry)
        assert "CreditorAccount" not in entry
        assert entry["BeneficiaryType"] in ("Trusted", "Ordinary")


def test_beneficiaries_detail_show_the_creditor_account(detail: Consented) -> None:
    for entry in entries(detail, "beneficiaries", "Beneficiary"):
        conforms_to("OBBeneficiary5Detail", entry)
        assert entry["CreditorAccount"]["SchemeName"] == "UK.OBIE.SortCodeAccountNumber"
        assert len(entry["CreditorAccount"]["Identification"]) == 14


def test_bulk_beneficiaries_cover_every_consented_account(detail: Consented) -> None:
    every = read(detail, "/beneficiaries")["Data"]["Beneficiary"]
    one = entries(detail, "beneficiaries", "Beneficiary")
    assert {e["AccountId"] for e in every} <= set(detail[2])
    assert [e for e in every if e["AccountId"] == detail[2][-1]] == one


def test_direct_debits_carry_mandate_and_last_payment(basic: Consented) -> None:
    mandates = entries(basic, "direct-debits", "DirectDebit")
    for mandate in mandates:
        assert mandate["DirectDebitStatusCode"] == "ACTV" and mandate["Name"]
        assert mandate["MandateRelatedInformation"]["Frequency"] == {"Type": "NotKnown"}
    assert any("PreviousPaymentAmount" in m and "PreviousPaymentDateTime" in m for m in mandates)
    every = read(basic, "/direct-debits")["Data"]["DirectDebit"]
    assert {m["DirectDebitId"] for m in mandates} <= {m["DirectDebitId"] for m in every}


def test_standing_orders_basic(basic: Consented) -> None:
    orders = entries(basic, "standing-orders", "StandingOrder")
    for order in orders:
        conforms_to("OBStandingOrder6Basic", order)
        assert order["StandingOrderStatusCode"] == "ACTV"
        assert order["MandateRelatedInformation"]["Frequency"] == {"Type": "MNTH"}
        assert order["NextPaymentDateTime"] > order["MandateRelatedInformation"][
            "FirstPaymentDateTime"]  # fmt: skip
        assert order["NextPaymentAmount"] == order["FirstPaymentAmount"]
        assert "CreditorAccount" not in order
    references = [
        o["RemittanceInformation"]["Structured"][0]["CreditorReferenceInformation"]["Reference"]
        for o in orders
    ]
    assert "RENT" in references


def test_standing_orders_detail_and_bulk(detail: Consented) -> None:
    orders = entries(detail, "standing-orders", "StandingOrder")
    for order in orders:
        conforms_to("OBStandingOrder6Detail", order)
        assert order["CreditorAccount"]["Name"]
    every = read(detail, "/standing-orders")["Data"]["StandingOrder"]
    assert {o["StandingOrderId"] for o in orders} <= {o["StandingOrderId"] for o in every}


def test_scheduled_payments_basic_and_detail(basic: Consented, detail: Consented) -> None:
    for entry in entries(basic, "scheduled-payments", "ScheduledPayment"):
        conforms_to("OBScheduledPayment3Basic", entry)
        assert entry["ScheduledType"] == "Execution" and entry["Reference"] == "BIRTHDAY"
        assert entry["InstructedAmount"] == {"Amount": "50.00", "Currency": "GBP"}
    for entry in entries(detail, "scheduled-payments", "ScheduledPayment"):
        conforms_to("OBScheduledPayment3Detail", entry)
    every = read(detail, "/scheduled-payments")["Data"]["ScheduledPayment"]
    assert {e["AccountId"] for e in every} == {detail[2][-1]}


def test_the_customers_own_party(detail: Consented) -> None:
    party = read(detail, "/party")["Data"]["Party"]
    assert party["PartyType"] == "Sole" and party["LegalStructure"] == "UK.OBIE.Individual"
    assert party["Address"][0]["AddressType"] == "HOME" and party["Address"][0]["Country"] == "GB"
    assert "Relationships" not in party


def test_account_party_is_the_owner_and_parties_include_it(detail: Consented) -> None:
    account = detail[2][-1]
    owner = read(detail, f"/accounts/{account}/party")["Data"]["Party"]
    assert owner["PartyId"] == read(detail, "/party")["Data"]["Party"]["PartyId"]
    assert owner["Relationships"]["Account"]["Id"] == account
    assert owner["Relationships"]["Account"]["Related"].endswith(f"{AIS}/accounts/{account}")
    parties = read(detail, f"/accounts/{account}/parties")["Data"]["Party"]
    assert owner["PartyId"] in {p["PartyId"] for p in parties}


def test_related_account_is_on_the_public_url(
    oauth_app: Flask, detail: Consented, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Behind a proxy the gateway is reached at GATEWAY_ISSUER, not at the address it listens on.
    partner, token, accounts = detail
    public = "https://api.bank.example"
    monkeypatch.setitem(oauth_app.config, "ISSUER", public)
    path = f"{AIS}/accounts/{accounts[-1]}/party"
    headers = partner.client.resource_headers("GET", public + path, token)
    answer = oauth_app.test_client().get(path, headers=headers)
    assert answer.status_code == 200, answer.json
    related = answer.json["Data"]["Party"]["Relationships"]["Account"]["Related"]
    assert related == f"{public}{AIS}/accounts/{accounts[-1]}"


def test_products_name_the_product_type(detail: Consented) -> None:
    saver, card, everyday = detail[2]
    products = read(detail, "/products")["Data"]["Product"]
    by_account = {p["AccountId"]: p for p in products}
    assert set(by_account) == {saver, card, everyday}
    assert by_account[everyday]["ProductType"] == "PersonalCurrentAccount"
    assert by_account[saver]["ProductType"] == "Other"
    assert by_account[saver]["OtherProductType"]["Description"] == "Savings account"
    one = read(detail, f"/accounts/{everyday}/product")["Data"]["Product"]
    assert one == [by_account[everyday]]


def test_offers_are_an_empty_list(basic: Consented) -> None:
    assert read(basic, f"/accounts/{basic[2][0]}/offers")["Data"] == {"Offer": []}
    assert read(basic, "/offers")["Data"] == {"Offer": []}


@pytest.mark.parametrize(("resource", "permission"), PER_ACCOUNT)
def test_missing_permission_is_403(bare: Consented, resource: str, permission: str) -> None:
    status, body = refusal(bare, f"/accounts/{bare[2][0]}/{resource}")
    assert status == 403 and body["Errors"][0]["ErrorCode"] == "U042"
    assert permission in body["Errors"][0]["Message"]


@pytest.mark.parametrize(
    "path", ["/beneficiaries", "/direct-debits", "/standing-orders", "/scheduled-payments",
             "/statements", "/products", "/offers", "/party"],
)  # fmt: skip
def test_bulk_without_the_permission_is_403(bare: Consented, path: str) -> None:
    status, body = refusal(bare, path)
    assert status == 403 and body["Errors"][0]["ErrorCode"] == "U042"


def test_party_psu_needs_read_party_psu(basic: Consented) -> None:
    status, body = refusal(basic, "/party")
    assert status == 403 and "ReadPartyPSU" in body["Errors"][0]["Message"]
