"""Confirmation of funds (OBIE v4.0 CBPII): consents by client credentials, the customer's
agreement, and funds confirmations with a token of the authorization code grant.

Every response here is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from partners.example_client import GatewayError
from tests.common.cbpii import (
    CONFIRMATIONS,
    CONSENTS,
    authorised,
    balances,
    cbpii_partner,
    customer_accounts,
    debtor,
    first_error,
    refusal,
)
from tests.common.clock import bank_now
from tests.common.fapi import rows
from tests.common.oauth import approve_in_browser, register_partner


def _later(app: Flask, tenant: str, **delta: float) -> str:
    """A date-time ``delta`` after the tenant's bank time, as a partner writes it."""
    return (bank_now(app, tenant) + dt.timedelta(**delta)).isoformat(timespec="seconds")


# -- the consent resource ---------------------------------------------------------------------


def test_consent_lifecycle_by_client_credentials(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    expiry = _later(oauth_app, partner.organisation_id, days=90)
    named = {**debtor(account), "Name": "Mx Account Holder"}
    created = partner.client.create_funds_confirmation_consent(named, expiry)
    data = created["Data"]
    assert data["Status"] == "AWAU" and data["ConsentId"].startswith("cof-")
    assert data["DebtorAccount"] == named
    assert data["ExpirationDateTime"] == expiry
    assert data["CreationDateTime"] == data["StatusUpdateDateTime"]
    # Links.Self of a created consent names the consent, as for account-access consents.
    consent_url = f"http://localhost{CONSENTS}/{data['ConsentId']}"
    assert created["Links"]["Self"] == consent_url
    token = partner.client.client_credentials("fundsconfirmations")["access_token"]
    read = partner.client.get(f"{CONSENTS}/{data['ConsentId']}", token)
    assert read["Data"] == data and read["Links"]["Self"] == consent_url

    partner.client.delete(f"{CONSENTS}/{data['ConsentId']}", token)
    cancelled = partner.client.get(f"{CONSENTS}/{data['ConsentId']}", token)["Data"]
    assert cancelled["Status"] == "CANC"
    # A second DELETE changes nothing and still answers 204.
    partner.client.delete(f"{CONSENTS}/{data['ConsentId']}", token)
    assert partner.client.get(f"{CONSENTS}/{data['ConsentId']}", token)["Data"] == cancelled


def test_a_consent_without_an_expiry_is_open_ended(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    account = customer_accounts(oauth_app, partner.organisation_id)[0]
    data = partner.client.create_funds_confirmation_consent(debtor(account))["Data"]
    assert "ExpirationDateTime" not in data


def test_the_consent_lives_on_the_bank_clock(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    expiry = _later(oauth_app, partner.organisation_id, days=2)
    given = authorised(oauth_app, http, partner, expiration=expiry)
    assert given.confirm("1.00")["Data"]["FundsAvailable"] is True
    moved = oauth_app.test_cli_runner().invoke(
        args=["sandbox", "advance", "--tenant", partner.organisation_id, "--days", "3"]
    )
    assert moved.exit_code == 0, moved.output
    # Past ExpirationDateTime on the bank's clock: EXPD for the resource, U009 for a
    # confirmation, and no refresh of its tokens.
    token = partner.client.client_credentials("fundsconfirmations")["access_token"]
    read = partner.client.get(f"{CONSENTS}/{given.consent_id}", token)["Data"]
    assert read["Status"] == "EXPD"
    assert read["StatusUpdateDateTime"] == read["ExpirationDateTime"]
    status, body = refusal(given.confirm, "1.00")
    assert (status, first_error(body)) == (400, ("U009", "Data.ConsentId"))
    assert "EXPD" in body["Errors"][0]["Message"]
    status, body = refusal(partner.client.refresh, given.tokens["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")


# -- confirming funds ---------------------------------------------------------------------------


def test_funds_are_confirmed_from_the_available_balance_and_nothing_moves(
    oauth_app: Flask, http: FlaskClient
) -> None:
    given = authorised(oauth_app, http)
    tenant = given.partner.organisation_id
    before = balances(oauth_app, tenant, given.account.id)
    spendable = before.available.amount + before.credit_line.amount
    assert spendable > 0, "the first test customer's first account has money"

    enough = given.confirm(f"{spendable:f}", reference="card-auth-1")
    data = enough["Data"]
    assert data["FundsAvailable"] is True
    assert data["ConsentId"] == given.consent_id and data["Reference"] == "card-auth-1"
    assert data["InstructedAmount"] == {"Amount": f"{spendable:f}", "Currency": "GBP"}
    assert data["FundsConfirmationId"].startswith("fc-")
    assert enough["Links"]["Self"] == f"http://localhost{CONFIRMATIONS}"

    too_much = given.confirm(f"{spendable + Decimal('0.01'):f}")["Data"]
    assert too_much["FundsAvailable"] is False
    # A confirmation reserves nothing: the balances are as they were.
    after = balances(oauth_app, tenant, given.account.id)
    assert (after.booked, after.held, after.available) == (
        before.booked, before.held, before.available,
    )  # fmt: skip
    kept = rows(
        oauth_app,
        "SELECT reference, amount_minor, currency, funds_available FROM gw_funds_confirmation "
        "WHERE consent_id = :c ORDER BY amount_minor",
        c=given.consent_id,
    )
    assert [(r["amount_minor"], bool(r["funds_available"])) for r in kept] == [
        (int(spendable * 100), True),
        (int(spendable * 100) + 1, False),
    ]


def test_a_reference_is_used_once_per_consent(oauth_app: Flask, http: FlaskClient) -> None:
    given = authorised(oauth_app, http)
    given.confirm("1.00", reference="order-42")
    status, body = refusal(given.confirm, "2.00", reference="order-42")
    assert (status, first_error(body)) == (400, ("U013", "Data.Reference"))
    # Another consent of the same partner may use it.
    other = authorised(oauth_app, http, given.partner, account=1)
    assert other.confirm("1.00", reference="order-42")["Data"]["Reference"] == "order-42"


def test_the_consent_id_must_be_the_tokens(oauth_app: Flask, http: FlaskClient) -> None:
    given = authorised(oauth_app, http)
    other = authorised(oauth_app, http, given.partner, account=1)
    for consent_id in (other.consent_id, "cof-nosuch"):
        status, body = refusal(
            given.partner.client.confirm_funds, given.token, consent_id, "1.00", "GBP"
        )
        assert (status, first_error(body)) == (400, ("U008", "Data.ConsentId"))


@pytest.mark.parametrize(
    ("amount", "currency", "path"),
    [
        ("1.00", "EUR", "Data.InstructedAmount.Currency"),  # not the account's currency
        ("1.001", "GBP", "Data.InstructedAmount.Amount"),  # GBP has two decimal places
        ("0.00", "GBP", "Data.InstructedAmount.Amount"),
        ("0", "GBP", "Data.InstructedAmount.Amount"),
        ("1,00", "GBP", "Data.InstructedAmount.Amount"),  # the reference's pattern
        ("-1.00", "GBP", "Data.InstructedAmount.Amount"),
        ("1.00", "gbp", "Data.InstructedAmount.Currency"),
        # The reference's patterns as JSON Schema reads them: ASCII digits, the whole string.
        ("1.00\n", "GBP", "Data.InstructedAmount.Amount"),
        ("\u0661.\u0660\u0660", "GBP", "Data.InstructedAmount.Amount"),
        ("1.00", "GBP\n", "Data.InstructedAmount.Currency"),
    ],
)
def test_an_amount_the_account_cannot_be_asked_about_is_refused(
    oauth_app: Flask, http: FlaskClient, amount: str, currency: str, path: str
) -> None:
    given = authorised(oauth_app, http)
    status, body = refusal(given.confirm, amount, currency)
    assert (status, first_error(body)) == (400, ("U002", path))
    assert len(body["Errors"]) == 1


def test_a_request_without_its_fields_is_refused_with_their_paths(
    oauth_app: Flask, http: FlaskClient
) -> None:
    given = authorised(oauth_app, http)
    client = given.partner.client
    cases = [
        ({"Data": {"ConsentId": given.consent_id, "InstructedAmount": {"Amount": "1",
          "Currency": "GBP"}}}, ("U004", "Data.Reference")),
        ({"Data": {"ConsentId": given.consent_id, "Reference": "r"}},
         ("U004", "Data.InstructedAmount")),
        ({"Data": {"ConsentId": given.consent_id, "Reference": "r" * 36,
                   "InstructedAmount": {"Amount": "1", "Currency": "GBP"}}},
         ("U002", "Data.Reference")),
        ({"Data": {"ConsentId": given.consent_id, "Reference": "r", "Extra": 1,
                   "InstructedAmount": {"Amount": "1", "Currency": "GBP"}}},
         ("U005", "Data.Extra")),
    ]  # fmt: skip
    for body, expected in cases:
        status, error = refusal(client.post, CONFIRMATIONS, given.token, body)
        assert (status, first_error(error)) == (400, expected), body


def test_the_consent_endpoints_take_a_client_credentials_token_and_confirmations_a_customers(
    oauth_app: Flask, http: FlaskClient
) -> None:
    given = authorised(oauth_app, http)
    client = given.partner.client
    status, body = refusal(client.get, f"{CONSENTS}/{given.consent_id}", given.token)
    assert status == 401 and "client credentials token" in body["Errors"][0]["Message"]
    own = client.client_credentials("fundsconfirmations")["access_token"]
    status, body = refusal(client.confirm_funds, own, given.consent_id, "1.00", "GBP")
    assert status == 401 and "authorization code grant" in body["Errors"][0]["Message"]


def test_an_account_information_token_cannot_confirm_funds(
    oauth_app: Flask, http: FlaskClient
) -> None:
    from tests.common.ais import authorised as ais_authorised

    partner = register_partner(oauth_app, http, roles=("AISP", "CBPII"))
    _partner, token, _accounts = ais_authorised(oauth_app, http, ["ReadAccountsBasic"], partner)
    status, body = refusal(partner.client.confirm_funds, token, "aac-x", "1.00", "GBP")
    assert (status, first_error(body)[0]) == (403, "U042")
    assert "fundsconfirmations scope" in body["Errors"][0]["Message"]
    accounts_only = partner.client.client_credentials("accounts")["access_token"]
    status, body = refusal(partner.client.get, f"{CONSENTS}/cof-x", accounts_only)
    assert (status, first_error(body)[0]) == (403, "U042")


def test_deleting_the_consent_revokes_its_tokens(oauth_app: Flask, http: FlaskClient) -> None:
    given = authorised(oauth_app, http)
    client = given.partner.client
    assert given.confirm("1.00")["Data"]["FundsAvailable"] is True
    token = client.client_credentials("fundsconfirmations")["access_token"]
    client.delete(f"{CONSENTS}/{given.consent_id}", token)
    status, _body = refusal(given.confirm, "1.00")
    assert status == 401
    status, body = refusal(client.refresh, given.tokens["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")


# -- unknown ids: 400 U011, never 404 --------------------------------------------------------------


def test_a_consent_id_that_is_not_this_clients_funds_confirmation_consent_is_400_u011(
    oauth_app: Flask, http: FlaskClient
) -> None:
    mine = cbpii_partner(oauth_app, http)
    theirs = authorised(oauth_app, http)
    aisp = register_partner(oauth_app, http, roles=("AISP", "CBPII"))
    account_access = aisp.client.create_account_access_consent(["ReadAccountsBasic"])
    token = mine.client.client_credentials("fundsconfirmations")["access_token"]
    for consent_id in ("cof-nosuch", theirs.consent_id, account_access["Data"]["ConsentId"]):
        for call in (mine.client.get, mine.client.delete):
            status, body = refusal(call, f"{CONSENTS}/{consent_id}", token)
            assert (status, first_error(body)[0]) == (400, "U011"), (consent_id, call)
    # Nothing happened to the other partner's consent.
    assert theirs.confirm("1.00")["Data"]["FundsAvailable"] is True


def test_a_method_the_resource_does_not_take_is_405(oauth_app: Flask) -> None:
    # A plain client: the reference has no PUT operation to check the answer against.
    response = FlaskClient(oauth_app).put(f"{CONSENTS}/cof-x")
    assert response.status_code == 405
    assert response.json is not None and response.json["Errors"][0]["ErrorCode"] == "U010"
    assert "DELETE" in response.headers["Allow"]


def test_a_response_the_client_cannot_accept_is_406(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    token = partner.client.client_credentials("fundsconfirmations")["access_token"]
    headers = partner.client.resource_headers("GET", f"http://localhost{CONSENTS}/x", token)
    response = http.get(f"{CONSENTS}/x", headers={**headers, "Accept": "text/html"})
    assert response.status_code == 406


def test_approving_binds_the_named_account(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    second = customer_accounts(oauth_app, partner.organisation_id)[1]
    created = partner.client.create_funds_confirmation_consent(debtor(second))
    consent_id = created["Data"]["ConsentId"]
    request_uri, _verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="fundsconfirmations"
    )
    url = partner.client.authorization_url(request_uri)
    answer = approve_in_browser(oauth_app, oauth_app.test_client(), url, partner.organisation_id)
    assert "code" in answer
    sql = "SELECT status, account_ids FROM gw_consent WHERE id = :c"
    bound = rows(oauth_app, sql, c=consent_id)
    assert bound[0]["status"] == "AUTH"
    assert second.id in str(bound[0]["account_ids"])


# -- the consent request's rules ---------------------------------------------------------------

GOOD_SCAN = {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "40000012345678"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Schemes that name no account of this bank: U027 UK.OBIE.Unsupported.Scheme.
        ({"DebtorAccount": {**GOOD_SCAN, "SchemeName": "UK.OBIE.BBAN"}},
         ("U027", "Data.DebtorAccount.SchemeName")),
        ({"DebtorAccount": {**GOOD_SCAN, "SchemeName": "UK.OBIE.Paym"}},
         ("U027", "Data.DebtorAccount.SchemeName")),
        ({"DebtorAccount": {**GOOD_SCAN, "SchemeName": "UK.OBIE.Wallet"}},
         ("U027", "Data.DebtorAccount.SchemeName")),
        # An identification that cannot be one in its scheme: U021.
        ({"DebtorAccount": {**GOOD_SCAN, "Identification": "400000123456"}},
         ("U021", "Data.DebtorAccount.Identification")),
        ({"DebtorAccount": {"SchemeName": "UK.OBIE.IBAN",
                            "Identification": "GB00OBSB40000012345678"}},
         ("U021", "Data.DebtorAccount.Identification")),
        ({"DebtorAccount": {"SchemeName": "UK.OBIE.PAN", "Identification": "4000-0052"}},
         ("U021", "Data.DebtorAccount.Identification")),
        # The schema's rules: U004 missing, U005 unexpected, U002 invalid.
        ({}, ("U004", "Data.DebtorAccount")),
        ({"DebtorAccount": {"Identification": "40000012345678"}},
         ("U004", "Data.DebtorAccount.SchemeName")),
        ({"DebtorAccount": GOOD_SCAN, "Permissions": ["ReadBalances"]},
         ("U005", "Data.Permissions")),
        ({"DebtorAccount": {**GOOD_SCAN, "SecondaryIdentification": "x" * 35}},
         ("U002", "Data.DebtorAccount.SecondaryIdentification")),
        ({"DebtorAccount": {**GOOD_SCAN, "Proxy": {"Identification": "07700900123",
                                                   "Code": "NONE"}}},
         ("U002", "Data.DebtorAccount.Proxy.Code")),
        ({"DebtorAccount": GOOD_SCAN, "ExpirationDateTime": "2099-01-01T00:00:00"},
         ("U002", "Data.ExpirationDateTime")),
        # In the past on the bank's clock: U003.
        ({"DebtorAccount": GOOD_SCAN, "ExpirationDateTime": "2026-03-01T00:00:00+00:00"},
         ("U003", "Data.ExpirationDateTime")),
    ],
)  # fmt: skip
def test_a_consent_request_that_breaks_a_rule_is_refused(
    oauth_app: Flask, http: FlaskClient, data: dict[str, object], expected: tuple[str, str]
) -> None:
    partner = cbpii_partner(oauth_app, http)
    token = partner.client.client_credentials("fundsconfirmations")["access_token"]
    status, body = refusal(partner.client.post, CONSENTS, token, {"Data": data})
    assert (status, first_error(body)) == (400, expected)
    sql = "SELECT id FROM gw_consent WHERE client_id = :c"
    assert not rows(oauth_app, sql, c=partner.client_id)


def test_a_risk_section_is_not_part_of_this_consent(oauth_app: Flask, http: FlaskClient) -> None:
    partner = cbpii_partner(oauth_app, http)
    token = partner.client.client_credentials("fundsconfirmations")["access_token"]
    body = {"Data": {"DebtorAccount": GOOD_SCAN}, "Risk": {}}
    status, error = refusal(partner.client.post, CONSENTS, token, body)
    assert (status, first_error(error)) == (400, ("U005", "Risk"))


def test_an_iban_with_spaces_and_a_proxy_is_accepted_as_sent(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = cbpii_partner(oauth_app, http)
    named = {"SchemeName": "UK.OBIE.IBAN", "Identification": "GB29 NWBK 6016 1331 9268 19",
             "Proxy": {"Identification": "07700900123", "Code": "TELE"}}  # fmt: skip
    data = partner.client.create_funds_confirmation_consent(named)["Data"]
    assert data["DebtorAccount"] == named


# -- headers and bodies, as every API of the gateway checks them ---------------------------------


@pytest.mark.parametrize(
    ("extra", "body", "status", "expected"),
    [
        ({"x-fapi-auth-date": "Sun, 10 Sep 2017 19:43:31"}, None, 400,
         ("U006", "x-fapi-auth-date")),
        ({"x-fapi-customer-ip-address": "host.example"}, None, 400,
         ("U006", "x-fapi-customer-ip-address")),
        ({"Content-Type": "text/plain"}, b"{}", 415, ("U006", "Content-Type")),
        ({"Content-Type": "application/json"}, b"{not json", 400, ("U010", None)),
    ],
)  # fmt: skip
def test_headers_and_bodies_that_cannot_be_read_are_refused(
    oauth_app: Flask,
    http: FlaskClient,
    extra: dict[str, str],
    body: bytes | None,
    status: int,
    expected: tuple[str, str | None],
) -> None:
    partner = cbpii_partner(oauth_app, http)
    token = partner.client.client_credentials("fundsconfirmations")["access_token"]
    url = f"http://localhost{CONSENTS}"
    headers = {**partner.client.resource_headers("POST", url, token), **extra}
    headers.setdefault("Content-Type", "application/json")
    data = body if body is not None else b'{"Data": {"DebtorAccount": {}}}'
    response = http.post(CONSENTS, headers=headers, data=data)
    assert response.status_code == status
    assert response.json is not None
    assert first_error(response.json) == expected


def test_requests_racing_with_one_reference_get_one_answer(
    oauth_app: Flask, http: FlaskClient
) -> None:
    # On PostgreSQL the inserts meet at the unique (consent, reference) key, the later waiting
    # for the first to commit; on SQLite writers take turns and the later sees the first's row.
    given = authorised(oauth_app, http)
    racers = 6
    barrier = threading.Barrier(racers)
    answers: list[tuple[int, str | None]] = []

    def race() -> None:
        barrier.wait()
        try:
            given.confirm("1.00", reference="raced")
            answers.append((201, None))
        except GatewayError as refused:
            answers.append((refused.status, first_error(refused.body)[0]))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers, key=str) == [(201, None)] + [(400, "U013")] * (racers - 1)
    kept = rows(
        oauth_app,
        "SELECT id FROM gw_funds_confirmation WHERE consent_id = :c AND reference = 'raced'",
        c=given.consent_id,
    )
    assert len(kept) == 1
