"""``/accounts``: the accounts the customer shared, Basic or Detail by permission."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access, bp
from gateway.api.aisp.schemas import account_body
from gateway.api.common import check_fapi_headers, envelope
from gateway.consents.account_access import ACCOUNT_PERMISSIONS


@bp.get("/accounts")
def list_accounts() -> ResponseReturnValue:
    """GetAccounts: every account the consent covers."""
    grant = access.grant(ACCOUNT_PERMISSIONS, listing_accounts=True)
    check_fapi_headers()
    body = [account_body(a, grant.permissions) for a in grant.accounts()]
    return jsonify(envelope({"Account": body}))


@bp.get("/accounts/<account_id>")
def get_account(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountId: one consented account."""
    grant = access.grant(ACCOUNT_PERMISSIONS)
    check_fapi_headers()
    return jsonify(
        envelope({"Account": [account_body(grant.account(account_id), grant.permissions)]})
    )
