"""What the per-account and bulk read operations share: authorise, then list the items of one
consented account or of every consented account in the OBIE envelope.

A per-account operation answers 400 U011 for an account the consent does not cover, as every
AIS operation does (:meth:`gateway.api.aisp.Grant.covers`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access
from gateway.api.common import check_fapi_headers, envelope
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account

# The response entries of one account, given what the token may read.
Reader = Callable[[Grant, Account], list[dict[str, Any]]]


def one_account(
    permissions: Sequence[str], key: str, account_id: str, read: Reader
) -> ResponseReturnValue:
    """``{"Data": {key: [...]}}`` of one consented account."""
    grant = access.grant(permissions)
    check_fapi_headers()
    account = grant.account(account_id)
    return jsonify(envelope({key: read(grant, account)}))


def every_account(permissions: Sequence[str], key: str, read: Reader) -> ResponseReturnValue:
    """``{"Data": {key: [...]}}`` of every account the consent covers, in consent order."""
    grant = access.grant(permissions, listing_accounts=True)
    check_fapi_headers()
    items: list[dict[str, Any]] = []
    for account in grant.accounts():
        items.extend(read(grant, account))
    return jsonify(envelope({key: items}))
