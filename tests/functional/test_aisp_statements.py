"""Account information (OBIE v4.0 AIS): statements, a statement's transactions and file, and the
bulk ``/transactions``. Every response is validated against the reference file by the conforming
test client (the statement file for its status and headers: it is a PDF)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from tests.common.ais import AIS, Consented, authorised, read, refusal
from tests.common.obie import conforms_to

TRANSACTIONS = ["ReadTransactionsBasic", "ReadTransactionsCredits", "ReadTransactionsDebits"]
DETAIL = ["ReadAccountsBasic", "ReadStatementsDetail", "ReadTransactionsDetail",
          "ReadTransactionsCredits", "ReadTransactionsDebits"]  # fmt: skip


@pytest.fixture(scope="module")
def detail(oauth_app: Flask) -> Consented:
    """Statements and transactions in detail, of three accounts."""
    return authorised(oauth_app, oauth_app.test_client(), DETAIL)


@pytest.fixture(scope="module")
def basic(oauth_app: Flask) -> Consented:
    """Basic statements and basic transactions, credits only."""
    permissions = ["ReadAccountsBasic", "ReadStatementsBasic", "ReadTransactionsBasic",
                   "ReadTransactionsCredits"]  # fmt: skip
    return authorised(oauth_app, oauth_app.test_client(), permissions)


@pytest.fixture(scope="module")
def statements_only(oauth_app: Flask) -> Consented:
    """Statements in detail, no transactions."""
    return authorised(
        oauth_app, oauth_app.test_client(), ["ReadAccountsBasic", "ReadStatementsDetail"]
    )


def download(consented: Consented, path: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    """GET a file through the conforming client, with ``accept`` as the Accept header."""
    partner, token, _accounts = consented
    url = f"{partner.client.issuer}{AIS}{path}"
    headers = partner.client.resource_headers("GET", url, token) | {"Accept": accept}
    return partner.client.transport("GET", url, headers, None)


def statements(consented: Consented, account: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = read(consented, f"/accounts/{account}/statements")["Data"][
        "Statement"
    ]
    assert found
    return found


def all_pages(consented: Consented, path: str) -> list[dict[str, Any]]:
    """Every transaction of a paged listing, following Links.Next."""
    seen: list[dict[str, Any]] = []
    url = f"{AIS}{path}"
    while url:
        page = read(consented, url.replace("http://localhost", "").removeprefix(AIS))
        seen.extend(page["Data"]["Transaction"])
        url = page["Links"].get("Next", "")
    return seen


def signed(entry: dict[str, Any]) -> Decimal:
    value = Decimal(entry["Amount"]["Amount"])
    return -value if entry["CreditDebitIndicator"] == "Debit" else value


def test_statement_detail_amounts_add_up(detail: Consented) -> None:
    for statement in statements(detail, detail[2][-1]):
        conforms_to("OBStatement2Detail", statement)
        assert statement["Type"] == "RegularPeriodic"
        assert statement["StartDateTime"] < statement["EndDateTime"] < statement[
            "CreationDateTime"]  # fmt: skip
        amounts = {a["Type"]: a for a in statement["StatementAmount"]}
        assert amounts["UK.OBIE.TotalCredits"]["CreditDebitIndicator"] == "Credit"
        assert amounts["UK.OBIE.TotalDebits"]["CreditDebitIndicator"] == "Debit"
        closing = sum(signed(amounts[f"UK.OBIE.{kind}"])
                      for kind in ("StartingBalance", "TotalCredits", "TotalDebits"))  # fmt: skip
        assert closing == signed(amounts["UK.OBIE.ClosingBalance"])


def test_statement_basic_has_no_amounts(basic: Consented) -> None:
    for statement in statements(basic, basic[2][-1]):
        conforms_to("OBStatement2Basic", statement)
        assert "StatementAmount" not in statement


def test_one_statement_and_bulk_statements(detail: Consented) -> None:
    account = detail[2][-1]
    listed = statements(detail, account)
    one = read(detail, f"/accounts/{account}/statements/{listed[0]['StatementId']}")
    assert one["Data"]["Statement"] == [listed[0]]
    every = read(detail, "/statements")["Data"]["Statement"]
    assert {s["AccountId"] for s in every} == set(detail[2])
    assert [s for s in every if s["AccountId"] == account] == listed


def test_statements_filtered_by_date(detail: Consented) -> None:
    account = detail[2][-1]
    listed = statements(detail, account)
    month = listed[1]
    start, end = month["StartDateTime"][:19], month["EndDateTime"][:19]
    path = f"/accounts/{account}/statements?fromStatementDateTime={start}&toStatementDateTime={end}"
    assert read(detail, path)["Data"]["Statement"] == [month]


def test_statement_filter_keeps_statements_wholly_between_its_bounds(detail: Consented) -> None:
    # OBIE AIS v4.0 Statements, Filtering: StartDateTime and EndDateTime both between the bounds.
    account = detail[2][-1]
    listed = statements(detail, account)
    month = listed[1]
    start = dt.datetime.fromisoformat(month["StartDateTime"])
    end = dt.datetime.fromisoformat(month["EndDateTime"])
    later = (start + dt.timedelta(days=1)).isoformat()[:19]
    earlier = (end - dt.timedelta(days=1)).isoformat()[:19]
    after = read(detail, f"/accounts/{account}/statements?fromStatementDateTime={later}")
    assert [s["StatementId"] for s in after["Data"]["Statement"]] == [listed[0]["StatementId"]]
    before = read(detail, f"/accounts/{account}/statements?toStatementDateTime={earlier}")
    assert [s["StatementId"] for s in before["Data"]["Statement"]] == [
        s["StatementId"] for s in listed[2:]
    ]


def test_consent_window_hides_statements_not_wholly_inside_it(
    oauth_app: Flask, detail: Consented
) -> None:
    # OBIE AIS v4.0 profile, Transaction To/From Date Time: only statements "completely within"
    # the consent's period; the others are not there for it, in lists, reads, entries and files.
    partner, _token, accounts = detail
    account = accounts[-1]
    listed = statements(detail, account)
    # From the second day of the fourth-newest month to the end of the second-newest.
    start = dt.datetime.fromisoformat(listed[3]["StartDateTime"]) + dt.timedelta(days=1)
    windowed = authorised(
        oauth_app, oauth_app.test_client(), DETAIL, partner,
        transaction_from=start.isoformat(), transaction_to=listed[1]["EndDateTime"],
    )  # fmt: skip
    assert windowed[2] == accounts
    inside = [s["StatementId"] for s in listed[1:3]]
    assert [s["StatementId"] for s in statements(windowed, account)] == inside
    every = read(windowed, "/statements")["Data"]["Statement"]
    assert {s["StatementId"] for s in every if s["AccountId"] == account} == set(inside)
    assert read(windowed, f"/accounts/{account}/statements/{inside[0]}")["Data"]["Statement"]
    for outside in (listed[0], listed[3]):
        for suffix in ("", "/transactions", "/file"):
            path = f"/accounts/{account}/statements/{outside['StatementId']}{suffix}"
            status, body = refusal(windowed, path)
            assert status == 400 and body["Errors"][0]["ErrorCode"] == "U011"


def test_statement_transactions_are_those_booked_in_its_period(detail: Consented) -> None:
    account = detail[2][-1]
    statement = statements(detail, account)[1]
    start, end = statement["StartDateTime"], statement["EndDateTime"]
    entries = all_pages(
        detail, f"/accounts/{account}/statements/{statement['StatementId']}/transactions"
    )
    assert entries
    for entry in entries:
        conforms_to("OBTransaction6Detail", entry)
        assert start <= entry["BookingDateTime"] <= end and entry["Status"] == "BOOK"
    window = f"fromBookingDateTime={start[:19]}&toBookingDateTime={end[:19]}"
    same = all_pages(detail, f"/accounts/{account}/transactions?{window}")
    assert [e["TransactionId"] for e in entries] == [e["TransactionId"] for e in same]
    amounts = {a["Type"]: a for a in statement["StatementAmount"]}
    credits = sum(signed(e) for e in entries if e["CreditDebitIndicator"] == "Credit")
    assert credits == signed(amounts["UK.OBIE.TotalCredits"])


def test_statement_transactions_follow_the_transaction_permissions(basic: Consented) -> None:
    account = basic[2][-1]
    statement = statements(basic, account)[1]["StatementId"]
    body = read(basic, f"/accounts/{account}/statements/{statement}/transactions")
    entries = body["Data"]["Transaction"]
    assert entries and {e["CreditDebitIndicator"] for e in entries} == {"Credit"}
    for entry in entries:
        conforms_to("OBTransaction6Basic", entry)


def test_statement_transactions_need_a_transaction_permission(
    statements_only: Consented,
) -> None:
    account = statements_only[2][-1]
    statement = statements(statements_only, account)[0]["StatementId"]
    status, body = refusal(
        statements_only, f"/accounts/{account}/statements/{statement}/transactions"
    )
    assert status == 403 and "ReadTransactionsBasic" in body["Errors"][0]["Message"]


def test_statement_file_is_a_pdf(detail: Consented) -> None:
    account = detail[2][-1]
    statement = statements(detail, account)[1]
    path = f"/accounts/{account}/statements/{statement['StatementId']}/file"
    status, headers, content = download(detail, path, "application/pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    assert statement["StatementId"].encode() in content
    assert b"Closing balance" in content and b"Paid out" in content
    # Any Accept that admits a PDF gets one; one that does not is refused.
    assert download(detail, path, "*/*")[0] == 200
    assert download(detail, path, "application/json")[0] == 406


def test_statement_file_without_transactions(statements_only: Consented) -> None:
    account = statements_only[2][-1]
    statement = statements(statements_only, account)[0]["StatementId"]
    path = f"/accounts/{account}/statements/{statement}/file"
    status, _headers, content = download(statements_only, path, "application/pdf")
    assert status == 200 and b"consent does not share them" in content


def test_statement_file_needs_statements_detail(basic: Consented) -> None:
    account = basic[2][-1]
    statement = statements(basic, account)[0]["StatementId"]
    status, _body = refusal(basic, f"/accounts/{account}/statements/{statement}/file")
    assert status == 403


def test_bulk_transactions_page_through_every_account(detail: Consented) -> None:
    window = "fromBookingDateTime=2000-01-01T00:00:00"
    every = all_pages(detail, f"/transactions?{window}")
    ids = [(e["AccountId"], e["TransactionId"]) for e in every]
    assert len(ids) == len(set(ids)) > 100
    for account in detail[2]:
        own = all_pages(detail, f"/accounts/{account}/transactions?{window}")
        assert [e for e in every if e["AccountId"] == account] == own
    # Accounts come one after another, in id order.
    order = [e["AccountId"] for e in every]
    assert sorted(dict.fromkeys(order)) == list(dict.fromkeys(order)) == sorted(detail[2])


def test_bulk_transactions_reject_a_forged_cursor(detail: Consented) -> None:
    status, body = refusal(detail, "/transactions?page=Zm9v")
    assert status == 400 and body["Errors"][0]["Path"] == "page"


def test_bulk_transactions_need_a_transaction_permission(statements_only: Consented) -> None:
    status, _body = refusal(statements_only, "/transactions")
    assert status == 403
