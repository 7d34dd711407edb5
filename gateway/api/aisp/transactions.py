"""``/accounts/{AccountId}/transactions`` and ``/transactions``: history, newest first.

The consent's transaction window and the request's ``fromBookingDateTime`` /
``toBookingDateTime`` bound the booking dates; ``ReadTransactionsCredits`` / ``Debits`` decide
which entries are visible and ``Basic`` / ``Detail`` how much of each. Pages hold
:data:`PAGE_SIZE` entries; ``Links.Next`` carries an opaque keyset cursor on (booking time, id),
so a page deep in a long history costs what the first one does. ``/transactions`` walks the
consented accounts in id order and its cursor also names the account it stopped in.

Statements reuse :func:`read_page`, :func:`booking_window` and :func:`transactions_response`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access, bp
from gateway.api.common import (
    amount,
    check_fapi_headers,
    credit_debit,
    envelope,
    iso,
    this_url_with,
)
from gateway.consents.account_access import Grant
from gateway.core.accounts import (
    CurrencyExchange,
    Transaction,
    TransactionCursor,
    TransactionPage,
)
from gateway.core.values import CreditDebit
from gateway.edge.errors import ApiError

PAGE_SIZE = 100
TRANSACTION_PERMISSIONS = ("ReadTransactionsBasic", "ReadTransactionsDetail")
ISSUER = "OBSandboxBank"


def query_datetime(name: str) -> dt.datetime | None:
    """The date-time query parameter ``name``, read as UTC; 400 U002 if it is not ISO 8601."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError.one("U002", f"{name} must be an ISO 8601 date-time", path=name) from None
    # OBIE: "If the Date Time contains a timezone, the ASPSP must ignore the timezone component."
    return value.replace(tzinfo=dt.UTC)


def booking_window(
    grant: Grant, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The booking window ``start``..``end`` narrowed to the consent's transaction window."""
    starts = [t for t in (start,) if t]
    ends = [t for t in (end,) if t]
    for name, bucket in (("TransactionFromDateTime", starts), ("TransactionToDateTime", ends)):
        if grant.consent.data.get(name):
            bucket.append(dt.datetime.fromisoformat(grant.consent.data[name]))
    return (max(starts) if starts else None, min(ends) if ends else None)


def _request_window(grant: Grant) -> tuple[dt.datetime | None, dt.datetime | None]:
    start, end = query_datetime("fromBookingDateTime"), query_datetime("toBookingDateTime")
    return booking_window(grant, start, end)


def _direction(permissions: list[str]) -> CreditDebit | None:
    credits = "ReadTransactionsCredits" in permissions
    debits = "ReadTransactionsDebits" in permissions
    return None if credits and debits else "Credit" if credits else "Debit"


def read_page(
    grant: Grant,
    account_id: str,
    window: tuple[dt.datetime | None, dt.datetime | None],
    after: TransactionCursor | None,
    limit: int = PAGE_SIZE,
) -> TransactionPage:
    """A page of the entries of ``account_id`` booked in ``window`` that the consent may see
    (only credits or only debits unless it carries both permissions)."""
    start, end = window
    return grant.bank.transactions(
        grant.tenant,
        account_id,
        booked_from=start,
        booked_to=end,
        after=after,
        limit=limit,
        direction=_direction(grant.permissions),
    )


def _token() -> list[str] | None:
    """The ``|``-separated fields of the ``page`` cursor, if one was sent."""
    token = request.args.get("page")
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode().split("|")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None


def _bad_cursor() -> ApiError:
    return ApiError.one("U002", "page is not a cursor this server issued", path="page")


def _cursor_of(when: str, ident: str) -> TransactionCursor:
    """The position a cursor names: an aware booking time and a posting id that fits a BIGINT,
    as the server writes them (anything else was not issued here: 400, not a database error)."""
    try:
        moment, number = dt.datetime.fromisoformat(when), int(ident)
        if moment.tzinfo is None or not 0 < number < 2**63:
            raise ValueError(when, ident)
        return TransactionCursor(moment.astimezone(dt.UTC), number)
    except (ValueError, OverflowError):
        raise _bad_cursor() from None


def _encode(*fields: str) -> str:
    return base64.urlsafe_b64encode("|".join(fields).encode()).decode()


def page_cursor() -> TransactionCursor | None:
    """The keyset cursor of a single account's history that ``page`` carries, if any."""
    fields = _token()
    if fields is None:
        return None
    if len(fields) != 2:
        raise _bad_cursor()
    return _cursor_of(*fields)


def page_token(cursor: TransactionCursor) -> str:
    """The ``page`` parameter that continues a single account's history after ``cursor``."""
    return _encode(cursor.booking_datetime.isoformat(), str(cursor.id))


def transaction_body(t: Transaction, detail: bool) -> dict[str, Any]:
    """``OBTransaction6`` (Detail) or ``OBTransaction6Basic``."""
    body: dict[str, Any] = {"AccountId": t.account_id, "TransactionId": t.id}
    if t.reference:
        body["TransactionReference"] = t.reference
    body.update(
        CreditDebitIndicator=t.credit_debit,
        Status="BOOK" if t.status == "Booked" else "PDNG",
        BookingDateTime=iso(t.booking_datetime),
    )
    if t.value_datetime:
        body["ValueDateTime"] = iso(t.value_datetime)
    if detail and t.information:
        body["TransactionInformation"] = t.information[:500]
    body["Amount"] = amount(t.amount)
    if t.bank_transaction_code:
        code, subcode = t.bank_transaction_code
        body["BankTransactionCode"] = {"Code": code, "SubCode": subcode}
    if t.proprietary_code:
        body["ProprietaryBankTransactionCode"] = {"Code": t.proprietary_code, "Issuer": ISSUER}
    if detail:
        if t.balance_after is not None:
            body["Balance"] = {
                "CreditDebitIndicator": credit_debit(t.balance_after),
                "Type": "ITBD",
                "Amount": amount(t.balance_after),
            }
        if t.merchant:
            body["MerchantDetails"] = {"MerchantName": t.merchant.name[:350]}
            if t.merchant.category_code:
                body["MerchantDetails"]["MerchantCategoryCode"] = t.merchant.category_code
        if t.currency_exchange:
            body["CurrencyExchange"] = currency_exchange(t.currency_exchange)
        if t.counterparty:
            party = {"Name": t.counterparty.name[:350]}
            if t.counterparty.scheme and t.counterparty.identification:
                party |= {"SchemeName": t.counterparty.scheme,
                          "Identification": t.counterparty.identification}  # fmt: skip
            body["CreditorAccount" if t.credit_debit == "Debit" else "DebtorAccount"] = party
    return body


def transactions_response(
    grant: Grant, items: Sequence[Transaction], next_page: str | None
) -> ResponseReturnValue:
    """``OBReadTransaction6`` of ``items`` (Detail or Basic by permission), with ``Links.Next``
    carrying ``next_page`` as the ``page`` parameter when there is more."""
    links: dict[str, str] = {}
    if next_page is not None:
        links["Next"] = this_url_with("page", next_page)
    detail = grant.has("ReadTransactionsDetail")
    body = [transaction_body(t, detail) for t in items]
    return jsonify(envelope({"Transaction": body}, meta={}, **links))


@bp.get("/accounts/<account_id>/transactions")
def account_transactions(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdTransactions: one page of the account's history."""
    grant = access.grant(TRANSACTION_PERMISSIONS)
    check_fapi_headers()
    grant.covers(account_id)  # the bank core reads the account with its history
    page = read_page(grant, account_id, _request_window(grant), page_cursor())
    token = None if page.next_cursor is None else page_token(page.next_cursor)
    return transactions_response(grant, page.items, token)


@bp.get("/transactions")
def all_transactions() -> ResponseReturnValue:
    """GetTransactions: one page of the histories of every consented account, account after
    account in id order; the cursor holds the account's index and the position in its history."""
    grant = access.grant(TRANSACTION_PERMISSIONS)
    check_fapi_headers()
    window = _request_window(grant)
    account_ids = sorted(grant.consent.account_ids)
    index, after = _bulk_cursor(len(account_ids))
    items: list[Transaction] = []
    token = None
    while index < len(account_ids):
        page = read_page(grant, account_ids[index], window, after, PAGE_SIZE - len(items))
        items.extend(page.items)
        if page.next_cursor is not None:
            token = _bulk_token(index, page.next_cursor)
            break
        index, after = index + 1, None
        if len(items) == PAGE_SIZE:
            token = _bulk_token(index, None) if index < len(account_ids) else None
            break
    return transactions_response(grant, items, token)


def _bulk_cursor(accounts: int) -> tuple[int, TransactionCursor | None]:
    """(index of the account, position in its history) that ``page`` carries; (0, start)."""
    fields = _token()
    if fields is None:
        return 0, None
    if len(fields) != 3 or not fields[0].isdecimal() or int(fields[0]) >= accounts:
        raise _bad_cursor()
    index, when, ident = fields
    return int(index), (_cursor_of(when, ident) if when else None)


def _bulk_token(index: int, cursor: TransactionCursor | None) -> str:
    if cursor is None:
        return _encode(str(index), "", "")
    return _encode(str(index), cursor.booking_datetime.isoformat(), str(cursor.id))


def currency_exchange(found: CurrencyExchange) -> dict[str, Any]:
    """``OBCurrencyExchange5``: the conversion behind a transaction."""
    return {
        "SourceCurrency": found.source_currency, "TargetCurrency": found.target_currency,
        "UnitCurrency": found.unit_currency, "ExchangeRate": float(found.rate),
        "ContractIdentification": found.contract_id, "QuotationDate": iso(found.quoted_at),
        "InstructedAmount": amount(found.instructed),
    }  # fmt: skip
