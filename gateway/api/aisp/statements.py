"""Statements: ``/accounts/{AccountId}/statements`` (one or all of an account's), ``/statements``
(every consented account's), a statement's transactions and its file.

``ReadStatementsBasic`` shows a statement's period; ``ReadStatementsDetail`` adds its amounts
(starting and closing balances, total credits and debits) and gives the PDF file, which carries
them. A statement's transactions are the account's entries booked in its period, within the
consent's transaction window and under its transaction permissions, exactly as
``/transactions`` shows them: the operation needs both a statements and a transactions
permission.

The consent's transaction window bounds statements too: OBIE AIS v4.0 (Account and Transaction
API Profile, "Transaction To/From Date Time") restricts the AISP to "statements which are
completely within this period"; any other statement is, for this consent, not there.

A statement id the consent does not reach (outside its window, of another account, or never
issued) is answered as an account it does not cover is: 400 U011, as the OBIE Read/Write Data
API Profile v4.0 requires for a resource id that does not exist ("400 (Bad Request) v/s 404 (Not
Found)"; see :meth:`gateway.api.aisp.Grant.covers`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access, bp, listing
from gateway.api.aisp.statement_file import MEDIA_TYPE, statement_pdf
from gateway.api.aisp.transactions import (
    TRANSACTION_PERMISSIONS,
    booking_window,
    page_cursor,
    page_token,
    query_datetime,
    read_page,
    transactions_response,
)
from gateway.api.common import amount, check_fapi_headers, credit_debit, envelope, iso
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account, Statement, Transaction, TransactionCursor
from gateway.core.money import Money
from gateway.edge.errors import ApiError

STATEMENT_PERMISSIONS = ("ReadStatementsBasic", "ReadStatementsDetail")
FILE_PERMISSIONS = ("ReadStatementsDetail",)


def _amount(kind: str, money: Money, indicator: str | None = None) -> dict[str, Any]:
    return {
        "CreditDebitIndicator": indicator or credit_debit(money),
        "Type": kind,
        "Amount": amount(money),
    }


def statement_body(statement: Statement, detail: bool) -> dict[str, Any]:
    """``OBStatement2`` Detail (with ``StatementAmount``) or Basic of a monthly statement."""
    body: dict[str, Any] = {
        "AccountId": statement.account_id,
        "StatementId": statement.id,
        "Type": "RegularPeriodic",
        "StartDateTime": iso(statement.start),
        "EndDateTime": iso(statement.end),
        "CreationDateTime": iso(statement.creation),
    }
    if detail:
        # OBInternalStatementAmountType1Code; totals are amounts of their own direction.
        body["StatementAmount"] = [
            _amount("UK.OBIE.StartingBalance", statement.opening_balance),
            _amount("UK.OBIE.TotalCredits", statement.total_credits, "Credit"),
            _amount("UK.OBIE.TotalDebits", statement.total_debits, "Debit"),
            _amount("UK.OBIE.ClosingBalance", statement.closing_balance),
        ]
    return body


def _within(statement: Statement, window: tuple[dt.datetime | None, dt.datetime | None]) -> bool:
    """Whether the statement's whole period lies in ``window`` (either end may be open)."""
    start, end = window
    return (start is None or statement.start >= start) and (end is None or statement.end <= end)


def _consented(grant: Grant, account_id: str) -> list[Statement]:
    """The account's statements that lie completely in the consent's transaction window,
    newest first."""
    window = booking_window(grant)
    return [s for s in grant.bank.statements(grant.tenant, account_id) if _within(s, window)]


def _statements(grant: Grant, account: Account) -> list[dict[str, Any]]:
    """The account's consented statements whose start and end both lie between
    ``fromStatementDateTime`` and ``toStatementDateTime`` (either may be absent), newest first
    (OBIE AIS v4.0 Statements, Filtering)."""
    query = query_datetime("fromStatementDateTime"), query_datetime("toStatementDateTime")
    detail = grant.has("ReadStatementsDetail")
    return [statement_body(s, detail) for s in _consented(grant, account.id) if _within(s, query)]


def _find(grant: Grant, account_id: str, statement_id: str) -> tuple[Account, Statement]:
    """The consented account and its statement ``statement_id``, within the consent's window;
    400 U011 otherwise."""
    account = grant.account(account_id)
    for statement in _consented(grant, account_id):
        if statement.id == statement_id:
            return account, statement
    # The profile's 400 for an id that does not exist, although the reference lists 404 here.
    raise ApiError.one("U011", "No statement with this id for this account", status=400)


def _booked(items: tuple[Transaction, ...]) -> list[Transaction]:
    # A statement lists what was booked in its period; pending entries are not on it.
    return [t for t in items if t.status == "Booked"]


def _all_entries(grant: Grant, statement: Statement) -> Iterator[Transaction]:
    """Every entry the consent may see in the statement's period, newest first."""
    window = booking_window(grant, statement.start, statement.end)
    after: TransactionCursor | None = None
    while True:
        page = read_page(grant, statement.account_id, window, after)
        yield from _booked(page.items)
        if page.next_cursor is None:
            return
        after = page.next_cursor


@bp.get("/accounts/<account_id>/statements")
def account_statements(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdStatements, filtered by the statement date-time parameters."""
    return listing.one_account(STATEMENT_PERMISSIONS, "Statement", account_id, _statements)


@bp.get("/statements")
def all_statements() -> ResponseReturnValue:
    """GetStatements: the statements of every consented account."""
    return listing.every_account(STATEMENT_PERMISSIONS, "Statement", _statements)


@bp.get("/accounts/<account_id>/statements/<statement_id>")
def get_statement(account_id: str, statement_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdStatementsStatementId."""
    grant = access.grant(STATEMENT_PERMISSIONS)
    check_fapi_headers()
    _account, statement = _find(grant, account_id, statement_id)
    body = statement_body(statement, grant.has("ReadStatementsDetail"))
    return jsonify(envelope({"Statement": [body]}))


@bp.get("/accounts/<account_id>/statements/<statement_id>/transactions")
def statement_transactions(account_id: str, statement_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdStatementsStatementIdTransactions: one page of the entries booked in
    the statement's period."""
    grant = access.grant(STATEMENT_PERMISSIONS)
    grant.require(TRANSACTION_PERMISSIONS)
    check_fapi_headers()
    _account, statement = _find(grant, account_id, statement_id)
    window = booking_window(grant, statement.start, statement.end)
    page = read_page(grant, account_id, window, page_cursor())
    token = None if page.next_cursor is None else page_token(page.next_cursor)
    return transactions_response(grant, _booked(page.items), token)


@bp.get("/accounts/<account_id>/statements/<statement_id>/file")
def statement_file(account_id: str, statement_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdStatementsStatementIdFile: the statement as a PDF.

    The reference file lists only JSON media types (with an empty ``File`` object) for this
    response, a known gap of the OBIE documents: the specification describes the statement "in
    non-json (file) format". The gateway answers ``application/pdf`` to any ``Accept`` that
    admits it, and 406 otherwise.
    """
    grant = access.grant(FILE_PERMISSIONS)
    check_fapi_headers()
    account, statement = _find(grant, account_id, statement_id)
    if request.accept_mimetypes and request.accept_mimetypes.best_match([MEDIA_TYPE]) is None:
        raise ApiError.one("U006", f"The statement file is {MEDIA_TYPE}", path="Accept", status=406)
    entries = None
    if set(TRANSACTION_PERMISSIONS) & set(grant.permissions):
        entries = list(reversed(list(_all_entries(grant, statement))))
    pdf = statement_pdf(account, statement, entries, detail=grant.has("ReadTransactionsDetail"))
    response = Response(pdf, mimetype=MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{statement.id}.pdf"'
    return response
