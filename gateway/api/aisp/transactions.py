"""``/accounts/{AccountId}/transactions`` and ``/transactions``: history, newest first.

The consent's transaction window and the request's ``fromBookingDateTime`` /
``toBookingDateTime`` bound the booking dates; ``ReadTransactionsCredits`` / ``Debits`` decide
which entries are visible and ``Basic`` / ``Detail`` how much of each. Pages hold
:data:`PAGE_SIZE` entries; ``Links.Next`` carries an opaque keyset cursor on (booking time, id),
so a page deep in a long history costs what the first one does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access, bp
from gateway.api.common import amount, check_fapi_headers, credit_debit, envelope, iso
from gateway.core import CreditDebit, Transaction, TransactionCursor
from gateway.edge.errors import ApiError

PAGE_SIZE = 100
TRANSACTION_PERMISSIONS = ("ReadTransactionsBasic", "ReadTransactionsDetail")
ISSUER = "OBSandboxBank"


def _when(name: str) -> dt.datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError.one("U002", f"{name} must be an ISO 8601 date-time", path=name) from None
    # OBIE: "If the Date Time contains a timezone, the ASPSP must ignore the timezone component."
    return value.replace(tzinfo=dt.UTC)


def _window(grant: access.Grant) -> tuple[dt.datetime | None, dt.datetime | None]:
    starts = [t for t in (_when("fromBookingDateTime"),) if t]
    ends = [t for t in (_when("toBookingDateTime"),) if t]
    for name, bucket in (("TransactionFromDateTime", starts), ("TransactionToDateTime", ends)):
        if grant.consent.data.get(name):
            bucket.append(dt.datetime.fromisoformat(grant.consent.data[name]))
    return (max(starts) if starts else None, min(ends) if ends else None)


def _direction(permissions: list[str]) -> CreditDebit | None:
    credits = "ReadTransactionsCredits" in permissions
    debits = "ReadTransactionsDebits" in permissions
    return None if credits and debits else "Credit" if credits else "Debit"


def _cursor() -> TransactionCursor | None:
    token = request.args.get("page")
    if token is None:
        return None
    try:
        when, _, ident = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
        return TransactionCursor(dt.datetime.fromisoformat(when), int(ident))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError.one("U002", "page is not a cursor this server issued", path="page") from None


def _encode(cursor: TransactionCursor) -> str:
    raw = f"{cursor.booking_datetime.isoformat()}|{cursor.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


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
        if t.counterparty:
            party = {"Name": t.counterparty.name[:350]}
            if t.counterparty.scheme and t.counterparty.identification:
                party |= {"SchemeName": t.counterparty.scheme,
                          "Identification": t.counterparty.identification}  # fmt: skip
            body["CreditorAccount" if t.credit_debit == "Debit" else "DebtorAccount"] = party
    return body


@bp.get("/accounts/<account_id>/transactions")
def account_transactions(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdTransactions: one page of the account's history."""
    grant = access.grant(TRANSACTION_PERMISSIONS)
    check_fapi_headers()
    grant.account(account_id)
    start, end = _window(grant)
    page = grant.bank.transactions(
        grant.tenant,
        account_id,
        booked_from=start,
        booked_to=end,
        after=_cursor(),
        limit=PAGE_SIZE,
        direction=_direction(grant.permissions),
    )
    detail = "ReadTransactionsDetail" in grant.permissions
    links: dict[str, str] = {}
    if page.next_cursor is not None:
        query = {k: v for k, v in request.args.items() if k != "page"}
        query["page"] = _encode(page.next_cursor)
        links["Next"] = f"{request.base_url}?{urlencode(query)}"
    items = [transaction_body(t, detail) for t in page.items]
    return jsonify(envelope({"Transaction": items}, meta={}, **links))
