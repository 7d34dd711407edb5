"""``/accounts/{AccountId}/balances`` and ``/balances``: booked and available balances."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access, bp
from gateway.api.common import amount, check_fapi_headers, credit_debit, envelope, iso
from gateway.core.accounts import Account, Balances

BALANCE_PERMISSIONS = ("ReadBalances",)


def balance_entries(account: Account, balances: Balances) -> list[dict[str, Any]]:
    """``ITBD`` (interim booked) and ``ITAV`` (interim available, credit line not included)."""
    when = iso(balances.as_of)
    entries = []
    for code, money in (("ITBD", balances.booked), ("ITAV", balances.available)):
        entry: dict[str, Any] = {
            "AccountId": account.id,
            "CreditDebitIndicator": credit_debit(money),
            "Type": code,
            "DateTime": when,
            "Amount": amount(money),
        }
        if balances.credit_line.amount > 0:
            kind = "Credit" if account.account_subtype in ("CreditCard", "Loan") else "Pre-Agreed"
            entry["CreditLine"] = [
                {"Included": False, "Type": kind, "Amount": amount(balances.credit_line)}
            ]
        entries.append(entry)
    return entries


@bp.get("/accounts/<account_id>/balances")
def account_balances(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdBalances."""
    grant = access.grant(BALANCE_PERMISSIONS)
    check_fapi_headers()
    account = grant.account(account_id)
    entries = balance_entries(account, grant.bank.balances(grant.tenant, account_id))
    return jsonify(envelope({"Balance": entries}))


@bp.get("/balances")
def all_balances() -> ResponseReturnValue:
    """GetBalances: the balances of every consented account."""
    grant = access.grant(BALANCE_PERMISSIONS, listing_accounts=True)
    check_fapi_headers()
    entries: list[dict[str, Any]] = []
    for account in grant.accounts():
        entries.extend(balance_entries(account, grant.bank.balances(grant.tenant, account.id)))
    return jsonify(envelope({"Balance": entries}))
