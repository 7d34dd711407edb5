"""The idempotency-key document: the lookup of a lost response (our extension of the payment
APIs), and the header every POST of the payment, VRP and funds-confirmation APIs takes.

Kept by hand next to the view it describes; the error body, the envelope's parts and the header
are the OBIE v4.0 reference's own components; the build checks the document against the routes
of the ``idempotency_api`` blueprint, both ways.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway.api.idempotency import PREFIX
from gateway.api.idempotency import bp as idempotency_bp
from gateway.api.idempotency.keys import (
    FUNDS_CONFIRMATIONS,
    HEADER,
    MAX_LENGTH,
    OPERATIONS,
    PAYMENTS,
    REPLAYED_HEADERS,
)
from gateway.apidocs.extension import Extension, build_extension
from gateway.oauth.scopes import SCOPES

TITLE = "Idempotency keys — Sandbox Bank"
VERSION = "1.0.0"
JSON = ("application/json; charset=utf-8", "application/json")
INTERACTION_ID = "x-fapi-interaction-id"
FROM_REFERENCE = {
    "schemas": ("OBErrorResponse1", "OBError1", "OBExternalStatusReason1Code", "ISODateTime",
                "Links", "Meta"),
    "parameters": (INTERACTION_ID, HEADER),
}  # fmt: skip
_KEY_SCHEMA = {"type": "string", "maxLength": MAX_LENGTH, "pattern": "^(?!\\s)(.*)(\\S)$"}

DESCRIPTION = f"""\
Every `POST` of the payment initiation, VRP and confirmation of funds APIs takes an
`{HEADER}` header (at most {MAX_LENGTH} characters, not starting or ending with white space; a
UUID is a good key). It lives 24 hours, for your app and the operation you send it to.

## Retrying

- **The same request again** (the same path, and a body that is the same JSON value: key order,
  spacing and escapes do not matter) is answered what the first one was: the same status, body
  and `x-jws-signature`, byte for byte, and nothing is created a second time. A retry that
  arrives while the first request is still being processed waits for it, then gets its answer.
- **Another request with a key already used** for this operation (another body, or another
  resource's path) is refused: `400` with `U006` and the header's name in `Path`. Nothing is done.
- A request that failed (any `4xx` or `5xx`) keeps nothing: retry it with the same key once the
  problem is fixed.
- Without the header the request is refused: `400` `U007`; a key too long or of the wrong form:
  `400` `U006`. A request still in progress that cannot be waited for: `409` `U029`, retry.

## Recovering a lost response

`GET /idempotency-keys/{{IdempotencyKey}}` (percent-encode the key in the path) returns what
each request your app sent with that key in the last 24 hours was answered: the operation, the
status, the headers kept ({", ".join(f"`{name}`" for name in REPLAYED_HEADERS)}) and the body
(`Body`, or `BodyBase64` for a body that is not JSON). `?operation=` narrows it to one
operation. Use a client-credentials token of the app (`POST /token` with
`grant_type=client_credentials`) with the `{PAYMENTS}` or the `{FUNDS_CONFIRMATIONS}` scope: it
reads the keys of the operations of the families its scopes cover. A key with nothing kept is a
`400` with `U011`, as an unknown resource id is in the Open Banking APIs.

This lookup is ours: the UK Open Banking standard has none (nor a path for it), so it lives under
`/open-banking/extensions/v1`, outside the standard's paths. A replay of the same request
(above) gives the same answer, and the exact bytes the signature was made over.
"""


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/OBErrorResponse1"}
    return {
        "description": description,
        "headers": {INTERACTION_ID: _interaction_header()},
        "content": {media: {"schema": schema} for media in JSON},
    }


def _interaction_header() -> dict[str, Any]:
    return {
        "description": "An RFC4122 UID used as a correlation id.",
        "required": True,
        "schema": {"type": "string"},
    }


ERRORS = {
    "400Error": _error(
        "Bad request: nothing kept for the key (U011), an invalid key or operation (U002), or "
        "a header, a parameter the gateway refuses"
    ),
    "401Error": _error("No access token, or an invalid one, or not a client-credentials one"),
    "403Error": _error("The token has neither scope, or not the scope of the operation asked"),
    "405Error": _error("The path does not take this method"),
    "406Error": _error("The response is JSON: the Accept header does not allow it"),
    "429Error": _error("Too many calls: retry after Retry-After seconds"),
    "500Error": _error("An unexpected error; quote the Id to support"),
    "503Error": _error("A service the gateway depends on is unavailable: retry after Retry-After"),
}

PATHS: dict[str, Any] = {
    "/idempotency-keys/{IdempotencyKey}": {
        "get": {
            "operationId": "GetIdempotencyKey",
            "summary": "The responses kept for an idempotency key",
            "tags": ["Idempotency keys"],
            "parameters": [
                {"$ref": f"#/components/parameters/{INTERACTION_ID}"},
                {
                    "name": "IdempotencyKey",
                    "in": "path",
                    "required": True,
                    "description": f"The `{HEADER}` the requests were sent with.",
                    "schema": _KEY_SCHEMA,
                },
                {
                    "name": "operation",
                    "in": "query",
                    "required": False,
                    "description": "Only the response of this operation (its resource's path).",
                    "schema": {"type": "string", "enum": list(OPERATIONS)},
                },
            ],
            "responses": {
                "200": {
                    "description": "What each request sent with the key was answered",
                    "headers": {INTERACTION_ID: _interaction_header()},
                    "content": {
                        media: {"schema": {"$ref": "#/components/schemas/IdempotencyKeyResponse"}}
                        for media in JSON
                    },
                },
                **{
                    code: {"$ref": f"#/components/responses/{code}Error"}
                    for code in ("400", "401", "403", "405", "406", "429", "500", "503")
                },
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "KeptResponse": {
        "type": "object",
        "required": ["Operation", "CreationDateTime", "ExpirationDateTime", "Status", "Headers"],
        "properties": {
            "Operation": {
                "type": "string",
                "enum": list(OPERATIONS),
                "description": "The operation the request was sent to (its resource's path).",
            },
            "CreationDateTime": {"$ref": "#/components/schemas/ISODateTime"},
            "ExpirationDateTime": {"$ref": "#/components/schemas/ISODateTime"},
            "Status": {"type": "integer", "description": "The response's HTTP status."},
            "Headers": {
                "type": "object",
                "description": "The response's headers that a replay repeats.",
                "additionalProperties": {"type": "string"},
            },
            "Body": {"description": "The response's body, when it is JSON."},
            "BodyBase64": {
                "type": "string",
                "format": "byte",
                "description": "The response's body, base64-encoded, when it is not JSON.",
            },
        },
        "additionalProperties": False,
    },
    "IdempotencyKeyData": {
        "type": "object",
        "required": ["IdempotencyKey", "Responses"],
        "properties": {
            "IdempotencyKey": _KEY_SCHEMA,
            "Responses": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/components/schemas/KeptResponse"},
            },
        },
        "additionalProperties": False,
    },
    "IdempotencyKeyResponse": {
        "type": "object",
        "required": ["Data", "Links", "Meta"],
        "properties": {
            "Data": {"$ref": "#/components/schemas/IdempotencyKeyData"},
            "Links": {"$ref": "#/components/schemas/Links"},
            "Meta": {"$ref": "#/components/schemas/Meta"},
        },
        "additionalProperties": False,
    },
}


def build_idempotency(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the idempotency-key lookup; raises :class:`SpecError` when it
    and the routes ``app`` serves disagree. The header the POSTs take is published with the
    lookup, as the standard declares it."""
    return build_extension(
        app,
        Extension(
            title=TITLE, version=VERSION, description=DESCRIPTION, prefix=PREFIX,
            blueprint=idempotency_bp.name, what="idempotency", scheme="ClientCredentials",
            scheme_description="A client-credentials token of your app with either scope; a "
            "DPoP-bound one as `Authorization: DPoP <token>` with a DPoP proof (RFC 9449).",
            scopes={scope: SCOPES[scope] for scope in (PAYMENTS, FUNDS_CONFIRMATIONS)},
            paths=PATHS, schemas=SCHEMAS, errors=ERRORS, from_reference=FROM_REFERENCE,
            keep=(("parameters", HEADER),),
        ),
    )  # fmt: skip
