"""Account information (OBIE v4.0 AIS): consents, accounts, balances, transactions.

Every response here is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from gateway.store.database import Database
from tests.common.ais import AIS, authorised
from tests.common.clock import SANDBOX_START, bank_now
from tests.common.oauth import approve_in_browser, register_partner

EVERYTHING = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits",
              "ReadTransactionsDebits", "ReadTransactionsDetail"]  # fmt: skip


def test_consent_lifecycle_by_client_credentials(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP",))
    expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).isoformat(timespec="seconds")
    created = partner.client.create_account_access_consent(EVERYTHING, expiration=expiry)
    data = created["Data"]
    assert data["Status"] == "AWAU" and data["Permissions"] == EVERYTHING
    # Links.Self of a created consent names the consent, as the specification's examples do.
    consent_url = f"http://localhost{AIS}/account-access-consents/{data['ConsentId']}"
    assert created["Links"]["Self"] == consent_url
    token = partner.client.client_credentials("accounts")["access_token"]
    read = partner.client.get(f"{AIS}/account-access-consents/{data['ConsentId']}", token)
    assert read["Data"]["ConsentId"] == data["ConsentId"]
    assert read["Links"]["Self"] == consent_url
    assert read["Data"]["ExpirationDateTime"].startswith(expiry[:19])


@pytest.mark.parametrize(
    ("permissions", "reason"),
    [
        (["ReadAccountsBasic", "ReadTransactionsDetail"], "Transaction permissions need"),
        (["ReadAccountsBasic", "ReadTransactionsCredits"], "Transaction permissions need"),
        (["ReadAccountsBasic", "ReadAccountsBasic"], "repeated"),
        (["ReadAccountsBasic", "ReadEverything"], "Must be one of"),
        ([], "Shorter than minimum length"),
        # At least ReadAccountsBasic or ReadAccountsDetail (OBIE AIS v4.0 profile, Permissions).
        (["ReadBalances"], "must include ReadAccountsBasic or ReadAccountsDetail"),
        (["ReadPAN"], "must include ReadAccountsBasic or ReadAccountsDetail"),
    ],
)
def test_consent_permission_rules(
    oauth_app: Flask, http: FlaskClient, permissions: list[str], reason: str
) -> None:
    from partners.example_client import GatewayError

    partner = register_partner(oauth_app, http, roles=("AISP",))
    with pytest.raises(GatewayError) as refused:
        partner.client.create_account_access_consent(permissions)
    assert refused.value.status == 400
    (error,) = refused.value.body["Errors"]
    assert error["ErrorCode"] == "U002" and reason in error["Message"]
    assert error["Path"].startswith("Data.Permissions")


def test_a_malformed_key_is_echoed_in_a_400(oauth_app: Flask, http: FlaskClient) -> None:
    from partners.example_client import GatewayError

    partner = register_partner(oauth_app, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]
    # A lone surrogate is valid JSON text but no Unicode: the error that names it still answers.
    body = {"Data": {"Permissions": ["ReadAccountsBasic"], "\ud800": 1}, "Risk": {}}
    with pytest.raises(GatewayError) as refused:
        partner.client.post(f"{AIS}/account-access-consents", token, body)
    assert refused.value.status == 400
    assert refused.value.body["Errors"][0]["ErrorCode"] == "U005"
    assert refused.value.body["Errors"][0]["Path"] == "Data.\ud800"


def test_consent_expiry_in_the_past_is_refused(oauth_app: Flask, http: FlaskClient) -> None:
    from partners.example_client import GatewayError

    partner = register_partner(oauth_app, http, roles=("AISP",))
    with pytest.raises(GatewayError) as refused:
        partner.client.create_account_access_consent(
            ["ReadAccountsBasic"], expiration="2020-01-01T00:00:00+00:00"
        )
    assert refused.value.body["Errors"][0] == {
        "ErrorCode": "U003",
        "Message": "ExpirationDateTime must be in the future",
        "Path": "Data.ExpirationDateTime",
    }


def test_consent_lives_on_the_bank_clock(oauth_app: Flask, http: FlaskClient) -> None:
    from partners.example_client import GatewayError

    partner = register_partner(oauth_app, http, roles=("AISP",))
    bank_today = bank_now(oauth_app, partner.organisation_id)
    expiry = (bank_today + dt.timedelta(days=2)).isoformat(timespec="seconds")
    # Before the sandbox's clock moves: one consent authorised, with its tokens, one awaiting.
    consent_id = partner.client.create_account_access_consent(EVERYTHING, expiry)["Data"][
        "ConsentId"
    ]
    request_uri, verifier, _state = partner.client.push_authorization_request(consent_id)
    url = partner.client.authorization_url(request_uri)
    answer = approve_in_browser(oauth_app, oauth_app.test_client(), url, partner.organisation_id)
    issued = partner.client.exchange_code(answer["code"], verifier)
    waiting = partner.client.create_account_access_consent(EVERYTHING, expiry)["Data"]["ConsentId"]
    waiting_uri, _verifier, _state = partner.client.push_authorization_request(waiting)

    moved = oauth_app.test_cli_runner().invoke(
        args=["sandbox", "advance", "--tenant", partner.organisation_id, "--days", "3"]
    )
    assert moved.exit_code == 0, moved.output
    # Past ExpirationDateTime on the bank's clock (the wall clock is not there yet): expired
    # for the consent resource, the account APIs, the token endpoint and the consent page.
    client_token = partner.client.client_credentials("accounts")["access_token"]
    read = partner.client.get(f"{AIS}/account-access-consents/{consent_id}", client_token)
    assert read["Data"]["Status"] == "EXPD"
    assert read["Data"]["StatusUpdateDateTime"] == read["Data"]["ExpirationDateTime"]
    with pytest.raises(GatewayError) as refused:
        partner.client.get(f"{AIS}/accounts", issued["access_token"])
    assert refused.value.status == 403
    with pytest.raises(GatewayError) as refused:
        partner.client.refresh(issued["refresh_token"])
    assert refused.value.status == 400 and refused.value.body["error"] == "invalid_grant"
    page = oauth_app.test_client().get(partner.client.authorization_url(waiting_uri))
    assert page.status_code == 303
    assert parse_qs(urlsplit(page.headers["Location"]).query)["error_description"] == [
        "the consent is EXPD, not awaiting authorisation"
    ]


def test_balances_of_a_consented_account(oauth_app: Flask, http: FlaskClient) -> None:
    partner, token, accounts = authorised(oauth_app, http, EVERYTHING)
    balances = partner.client.get(f"{AIS}/accounts/{accounts[0]}/balances", token)
    types = {b["Type"] for b in balances["Data"]["Balance"]}
    assert types == {"ITBD", "ITAV"}
    everything = partner.client.get(f"{AIS}/balances", token)["Data"]["Balance"]
    assert {b["AccountId"] for b in everything} == set(accounts)


def test_transactions_page_through_the_whole_history(oauth_app: Flask, http: FlaskClient) -> None:
    partner, token, accounts = authorised(oauth_app, http, EVERYTHING)
    seen: list[str] = []
    url = f"{AIS}/accounts/{accounts[-1]}/transactions"
    pages = 0
    while url:
        page = partner.client.get(url.replace("http://localhost", ""), token)
        seen.extend(t["TransactionId"] for t in page["Data"]["Transaction"])
        url = page["Links"].get("Next", "")
        pages += 1
    assert pages > 1 and len(seen) == len(set(seen))


def test_links_name_the_public_url_with_the_query_as_sent(
    oauth_app: Flask, http: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner, token, accounts = authorised(oauth_app, http, EVERYTHING)
    # Behind a proxy the gateway is reached at GATEWAY_ISSUER, not at the address it listens on.
    public = "https://api.bank.example"
    monkeypatch.setitem(oauth_app.config, "ISSUER", public)
    path = f"{AIS}/accounts/{accounts[-1]}/transactions"
    query = "fromBookingDateTime=2020-01-01T00%3A00%3A00%2B00%3A00"
    headers = partner.client.resource_headers("GET", public + path, token)
    answer = http.get(f"{path}?{query}", headers=headers)
    assert answer.status_code == 200, answer.json
    links = answer.json["Links"]
    assert links["Self"] == f"{public}{path}?{query}"
    following, _, more = links["Next"].partition("?")
    assert following == public + path
    assert "fromBookingDateTime=2020-01-01T00%3A00%3A00%2B00%3A00" in more and "page=" in more
    # A literal "%" (no escape after it) is escaped so that Self stays a URI.
    headers = partner.client.resource_headers("GET", public + path, token)
    stray = http.get(f"{path}?{query}&note=100%", headers=headers)
    assert stray.json["Links"]["Self"] == f"{public}{path}?{query}&note=100%25"
    # Next keeps the query as sent (repeated and unknown parameters too), with page replaced.
    headers = partner.client.resource_headers("GET", public + path, token)
    sent = "note=a&note=b&x=%ff&pag%65=" + following_page(links["Next"])
    again = http.get(f"{path}?{sent}", headers=headers).json["Links"]["Next"]
    assert again.startswith(f"{public}{path}?note=a&note=b&x=%ff&page=")
    assert again.count("page=") == 1 and again != f"{public}{path}?{sent}"
    # Raw UTF-8 in the query is percent-encoded (an IRI is not a URI).
    headers = partner.client.resource_headers("GET", public + path, token)
    sent = "note=café".encode().decode("latin-1")  # WSGI carries the raw bytes as latin-1
    raw = http.get(path, headers=headers, environ_overrides={"QUERY_STRING": sent})
    assert raw.json["Links"]["Self"] == f"{public}{path}?note=caf%C3%A9"


def following_page(url: str) -> str:
    """The page parameter of a Links.Next URL."""
    return parse_qs(urlsplit(url).query)["page"][0]


def test_credits_only_consent_shows_only_credits(oauth_app: Flask, http: FlaskClient) -> None:
    permissions = ["ReadAccountsBasic", "ReadTransactionsBasic", "ReadTransactionsCredits"]
    partner, token, accounts = authorised(oauth_app, http, permissions)
    body = partner.client.get(f"{AIS}/accounts/{accounts[-1]}/transactions", token)
    entries = body["Data"]["Transaction"]
    assert entries and {t["CreditDebitIndicator"] for t in entries} == {"Credit"}
    # Basic: no narrative, no running balance, no counterparty.
    assert not any("TransactionInformation" in t or "Balance" in t for t in entries)


def test_booking_window_filters_transactions(oauth_app: Flask, http: FlaskClient) -> None:
    partner, token, accounts = authorised(oauth_app, http, EVERYTHING)
    today = bank_now(oauth_app, partner.organisation_id).date()
    start, end = today - dt.timedelta(days=40), today - dt.timedelta(days=10)
    body = partner.client.get(
        f"{AIS}/accounts/{accounts[-1]}/transactions?fromBookingDateTime={start}T00:00:00"
        f"&toBookingDateTime={end}T23:59:59",
        token,
    )
    entries = body["Data"]["Transaction"]
    assert entries
    for entry in entries:
        assert str(start) <= entry["BookingDateTime"][:10] <= str(end)


def test_consent_window_bounds_transactions(oauth_app: Flask, http: FlaskClient) -> None:
    # OBIE AIS v4.0 profile, Transaction To/From Date Time: the AISP "must be restricted to
    # accessing transactions within this period", whatever booking window it asks for.
    today = dt.datetime.fromisoformat(SANDBOX_START)
    start, end = today - dt.timedelta(days=60), today - dt.timedelta(days=30)
    partner, token, accounts = authorised(
        oauth_app, http, EVERYTHING,
        transaction_from=start.isoformat(), transaction_to=end.isoformat(),
    )  # fmt: skip
    for query in ("", "?fromBookingDateTime=2000-01-01T00:00:00&toBookingDateTime=2100-01-01"):
        booked: list[str] = []
        url = f"{AIS}/accounts/{accounts[-1]}/transactions{query}"
        while url:
            page = partner.client.get(url.replace("http://localhost", ""), token)
            booked.extend(t["BookingDateTime"] for t in page["Data"]["Transaction"])
            url = page["Links"].get("Next", "")
        assert booked
        assert all(start <= dt.datetime.fromisoformat(b) <= end for b in booked)


def test_missing_permission_is_403(oauth_app: Flask, http: FlaskClient) -> None:
    from partners.example_client import GatewayError

    partner, token, accounts = authorised(oauth_app, http, ["ReadAccountsBasic"])
    with pytest.raises(GatewayError) as refused:
        partner.client.get(f"{AIS}/accounts/{accounts[0]}/balances", token)
    assert refused.value.status == 403


def test_client_credentials_token_cannot_read_accounts(oauth_app: Flask, http: FlaskClient) -> None:
    from partners.example_client import GatewayError

    partner = register_partner(oauth_app, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]
    with pytest.raises(GatewayError) as refused:
        partner.client.get(f"{AIS}/accounts", token)
    assert refused.value.status == 401
    # The refusal says which token this API needs, not merely that this one will not do.
    message = refused.value.body["Errors"][0]["Message"]
    assert "a consent the customer authorised" in message
    assert "authorization code grant" in message and "client credentials token" in message


def test_a_customers_token_cannot_create_a_consent_and_is_told_which_it_needs(
    oauth_app: Flask, http: FlaskClient
) -> None:
    from partners.example_client import GatewayError

    partner, token, _accounts = authorised(oauth_app, http, ["ReadAccountsBasic"])
    body = {"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}
    with pytest.raises(GatewayError) as refused:
        partner.client.post(f"{AIS}/account-access-consents", token, body)
    assert refused.value.status == 401
    assert "needs a client credentials token" in refused.value.body["Errors"][0]["Message"]


def test_a_method_the_resource_does_not_take_is_405_u010_with_allow(oauth_app: Flask) -> None:
    # A plain client: the reference has no PUT operation to check the answer against.
    response = FlaskClient(oauth_app).put(f"{AIS}/accounts")
    assert response.status_code == 405
    assert (response.json or {})["Errors"][0]["ErrorCode"] == "U010"
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET"}


@pytest.mark.parametrize(
    ("path", "cold", "warm"),
    [
        # The token with its app and consent; the accounts with the tenant's clock. Once the
        # worker keeps the token with them (gateway.oauth.token_cache): nothing.
        ("/accounts", 2, 0),
        # The token...; the clock; the account's key; its pending holds; a page of postings.
        ("/accounts/{account}/transactions", 5, 4),
    ],
)
def test_reading_takes_plain_statements_and_no_transaction(
    oauth_app: Flask, http: FlaskClient, path: str, cold: int, warm: int
) -> None:
    partner, token, accounts = authorised(oauth_app, http, EVERYTHING)
    url = AIS + path.format(account=accounts[0])
    partner.client.get(url, token)  # any due sandbox work runs here, not below
    database: Database = oauth_app.extensions["database"]
    begun: list[object] = []
    statements: list[str] = []

    def on_begin(conn: object) -> None:
        begun.append(conn)

    def on_statement(*args: Any) -> None:
        statements.append(args[2])

    def reads() -> int:
        statements.clear()
        event.listen(database.engine, "begin", on_begin)
        event.listen(database.read_engine, "before_cursor_execute", on_statement)
        try:
            answer = partner.client.get(url, token)["Data"]
        finally:
            event.remove(database.engine, "begin", on_begin)
            event.remove(database.read_engine, "before_cursor_execute", on_statement)
        assert answer["Account" if path == "/accounts" else "Transaction"]
        return len(statements)

    oauth_app.extensions["token_cache"].clear()
    assert reads() == cold, statements
    reads()  # the worker knew no epoch on the cold call: it keeps the token from this one
    assert reads() == warm, statements
    assert begun == []  # no BEGIN, no COMMIT, no pre-ping: the unit of work never opened
