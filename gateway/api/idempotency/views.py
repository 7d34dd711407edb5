"""``GET /idempotency-keys/{IdempotencyKey}``: what the requests a partner sent with a key were
answered, for a partner whose answer was lost (a timeout, a dropped connection).

OBIE v4.0 has no such lookup (UAE Open Finance has one); it is ours, so it lives outside OBIE's
paths. With a client-credentials token of the partner's app carrying the ``payments`` or the
``fundsconfirmations`` scope, it lists the app's unexpired uses of the key in the operations of
those families, or in the one named by ``operation``. An unknown key is a 400 ``U011`` as OBIE
answers an unknown resource id (Read/Write Data API Profile v4.0, "400 (Bad Request) v/s 404
(Not Found)").
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.common import envelope, iso
from gateway.api.idempotency import bp, guard, keys, store
from gateway.api.idempotency.models import IdempotencyKey
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session
from gateway.oauth import scopes, tokens
from gateway.oauth.protector import current_token

CLIENT_TOKEN = ("client_credentials",)
# The families whose keys a lookup may read, by scope.
FAMILIES = (keys.PAYMENTS, keys.FUNDS_CONFIRMATIONS)


@bp.get("/idempotency-keys/<path:idempotency_key>")
def lookup(idempotency_key: str) -> ResponseReturnValue:
    """The responses kept for the token's app with this key (see the module's docstring)."""
    key = idempotency_key
    token = _client_token()
    problem = keys.problem(key)
    if problem is not None:
        raise ApiError.one("U002", problem.replace(keys.HEADER, "IdempotencyKey"),
                           path="IdempotencyKey")  # fmt: skip
    operations = _operations(token)
    rows = store.lookup(get_session(), token.client_id, key, operations, now=guard.now())
    if not rows:
        raise ApiError.one(
            "U011", "No response is kept for this idempotency key (unknown, or older than 24 hours)"
        )
    data = {"IdempotencyKey": key, "Responses": [kept(row) for row in rows]}
    return jsonify(envelope(data))


def _client_token() -> tokens.AccessToken:
    """The request's client-credentials token, if it carries a scope of :data:`FAMILIES`."""
    for scope in FAMILIES:
        try:
            return current_token(scope=scope, grant_types=CLIENT_TOKEN)
        except ApiError as refused:
            if refused.status != 403:
                raise
    raise ApiError.one(
        "U042", "the token carries neither the payments nor the fundsconfirmations scope",
        status=403,
    )  # fmt: skip


def _operations(token: tokens.AccessToken) -> list[str]:
    """The operations the lookup reads: the ``operation`` asked for, or every one of the
    families the token's scopes cover."""
    granted = set(scopes.split(token.scope))
    asked = request.args.get("operation")
    if asked is None:
        return [name for name, scope in keys.OPERATIONS.items() if scope in granted]
    if asked not in keys.OPERATIONS:
        raise ApiError.one(
            "U002", f"operation must be one of {', '.join(keys.OPERATIONS)}", path="operation"
        )
    if keys.OPERATIONS[asked] not in granted:
        raise ApiError.one(
            "U042", f"the token lacks the {keys.OPERATIONS[asked]} scope", status=403
        )
    return [asked]


def kept(row: IdempotencyKey) -> dict[str, Any]:
    """One use of the key: its operation, when it lives, and the response it was answered."""
    answer: dict[str, Any] = {
        "Operation": row.operation,
        "CreationDateTime": iso(row.created_at),
        "ExpirationDateTime": iso(row.expires_at),
        "Status": row.status,
        "Headers": dict(row.headers or {}),
    }
    body = row.body or b""
    if body:
        try:
            answer["Body"] = json.loads(body)
        except ValueError:
            answer["BodyBase64"] = base64.b64encode(body).decode("ascii")
    return answer
