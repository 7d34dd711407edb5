"""The sandbox API's document, kept by hand next to the views it describes.

Its request bodies are generated (apispec) from the marshmallow schemas that validate them; the
error body and the envelope's parts are the OBIE v4.0 reference's own components; the build checks
the document against the routes of the ``sandbox_api`` blueprint, both ways.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from gateway.api.sandbox import PREFIX
from gateway.api.sandbox import bp as sandbox_bp
from gateway.api.sandbox.arrivals import ArrivalRequest
from gateway.api.sandbox.schemas import MAX_DAYS, AdvanceRequest, ResetRequest
from gateway.apidocs.common import SpecError
from gateway.apidocs.extension import Extension, build_extension
from gateway.oauth.scopes import SANDBOX, SANDBOX_DESCRIPTION

TITLE = "Sandbox API — Sandbox Bank"
VERSION = "1.0.0"
JSON = ("application/json; charset=utf-8", "application/json")
INTERACTION_ID = "x-fapi-interaction-id"
# What the document takes from the OBIE reference, as it is there.
FROM_REFERENCE = {
    "schemas": ("OBErrorResponse1", "OBError1", "OBExternalStatusReason1Code", "ISODateTime",
                "Links", "Meta"),
    "parameters": (INTERACTION_ID,),
}  # fmt: skip

DESCRIPTION = f"""\
Your organisation's sandbox bank, scripted: read its clock, move it forward, reset it to its
seed. It is what the **Sandbox** section of your organisation's page in the developer portal
does, for your CI.

## Access

A client-credentials token of one of your organisation's **sandbox** apps with the `sandbox`
scope (`POST /token` with `grant_type=client_credentials&scope=sandbox`, authenticated as for
any token; a DPoP-bound app presents it with a DPoP proof, as on every API). The token acts on its
own organisation's sandbox, never another's: there is no sandbox id to pass. Production apps have
no sandbox and are refused (`403`). The calls count against the app's rate limits.

## What each call does

- `GET /clock`: the sandbox's current time, with how many test customers and accounts it holds.
  Safe to repeat. A sandbox not made yet is made first (some seconds), as every API does.
- `POST /clock/advance` with `{{"Data": {{"Days": 1, "Hours": 6}}}}`: moves the clock forward
  by whole days and hours (at least one hour, at most {MAX_DAYS} days a call) and runs what falls
  due on the way: standing orders, scheduled payments, card authorisations settling. The answer
  gives the time before and after and how many of each kind ran (`Executed`) or were refused
  (`Rejected`, such as a payment the balance could not cover). **Not idempotent**: each call
  moves the clock again, so a retry after a lost answer moves it twice. Read `GET /clock` before
  retrying, or start from a reset.
- `POST /payments-from-abroad` with `{{"Data": {{"AccountId": "...", "InstructedAmount":
  {{"Amount": "250.00", "Currency": "EUR"}}, "DebtorName": "Muster GmbH", "Reference": "INV-9"}}}}`:
  a partner abroad pays into one of your test customers' accounts in a foreign currency. The
  bank converts it into the account's currency at the rate now (the feed's mid rate less the
  corridor's spread, rounded down to the account currency's minor unit), books it through its
  vostro in one journal balanced per currency, and answers `201` with the amount credited and
  the conversion. The account's transaction carries the same `CurrencyExchange` block on the
  AIS API. `U011` for an account the sandbox does not have, `U023` for a currency the bank does
  not convert (or the account's own), `U002` for more decimals than the currency has.
- `POST /reset` (no body, or `{{"Data": {{}}}}`): throws the sandbox's data away and generates it
  again from its seed, with the clock back at real time. Idempotent: the same seed gives the same
  customers, accounts, ids and history, so consents and account ids in your tests stay valid
  (balances and transactions return to the seed's). It takes some seconds.

A script that needs a known starting point resets, then advances.

## Errors

OBIE `OBErrorResponse1` bodies with codes of the OB internal code set: `U004` a missing field,
`U005` an unknown one, `U002` an invalid value (negative, zero in all, too large, not a whole
number), `U010` a body that is not JSON or a method the path does not take, `U006` a wrong
`Content-Type` or `Accept`; a missing, invalid or wrong kind of token is a `401` with a
`WWW-Authenticate` challenge; a token without the `sandbox` scope, or of a production app, a
`403`. Every response carries `x-fapi-interaction-id` (yours, when you send a UUID).
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


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {INTERACTION_ID: _interaction_header()},
        "content": {
            media: {"schema": {"$ref": f"#/components/schemas/{schema}"}} for media in JSON
        },
    }


ERRORS = {
    "400Error": _error(
        "Bad request: a header, a parameter or the body the gateway refuses (a control "
        "character, a body that is not JSON or not valid)"
    ),
    "401Error": _error("No access token, or an invalid one, or not a client-credentials one"),
    "403Error": _error("The token lacks the sandbox scope, or its app is a production one"),
    "405Error": _error("The path does not take this method"),
    "406Error": _error("The response is JSON: the Accept header does not allow it"),
    "415Error": _error("The body must be application/json"),
    "429Error": _error("Too many calls: retry after Retry-After seconds"),
    "500Error": _error("An unexpected error; quote the Id to support"),
    "503Error": _error("A service the gateway depends on is unavailable: retry after Retry-After"),
}


def _responses(ok: dict[str, Any], *errors: str, status: str = "200") -> dict[str, Any]:
    # Any call can be refused for what it sends (400) or for the state of the stores (503).
    statuses = ("400", *errors)
    refused = ("401", "403", "405", "406", "429", "500", "503")
    return {
        status: ok,
        **{code: {"$ref": f"#/components/responses/{code}Error"} for code in (*statuses, *refused)},
    }


def _operation(operation_id: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["Sandbox"],
        "parameters": [{"$ref": f"#/components/parameters/{INTERACTION_ID}"}],
        "responses": responses,
    }


def _body(schema: str, *, required: bool) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"required": required, "content": {"application/json": {"schema": ref}}}


PATHS: dict[str, Any] = {
    "/clock": {
        "get": _operation(
            "GetSandboxClock",
            "The sandbox's current time",
            _responses(_ok("SandboxClockResponse", "The sandbox's clock")),
        )
    },
    "/clock/advance": {
        "post": _operation(
            "AdvanceSandboxClock",
            "Move the clock forward and run what falls due",
            _responses(_ok("SandboxAdvanceResponse", "The clock moved"), "415"),
        )
        | {"requestBody": _body("AdvanceRequest", required=True)}
    },
    "/reset": {
        "post": _operation(
            "ResetSandbox",
            "Reset the sandbox to its seed",
            _responses(_ok("SandboxClockResponse", "The sandbox as reset"), "415"),
        )
        | {"requestBody": _body("ResetRequest", required=False)}
    },
    "/payments-from-abroad": {
        "post": _operation(
            "CreateSandboxPaymentFromAbroad",
            "A partner abroad pays into a customer's account in a foreign currency",
            _responses(
                _ok("SandboxArrivalResponse", "The account credited, converted"),
                "415",
                status="201",
            ),
        )
        | {"requestBody": _body("ArrivalRequest", required=True)}
    },
}


def _envelope(data: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Data", "Links", "Meta"],
        "properties": {
            "Data": {"$ref": f"#/components/schemas/{data}"},
            "Links": {"$ref": "#/components/schemas/Links"},
            "Meta": {"$ref": "#/components/schemas/Meta"},
        },
        "additionalProperties": False,
    }


_ID = {"type": "string", "description": "Your organisation's id, which names its sandbox."}
_TIME = {"$ref": "#/components/schemas/ISODateTime"}
_MONEY = {
    "type": "object",
    "required": ["Amount", "Currency"],
    "properties": {"Amount": {"type": "string"}, "Currency": {"type": "string"}},
}
_COUNTS = {
    "type": "object",
    "description": "How many of each kind of due work, by kind (StandingOrder, ...).",
    "additionalProperties": {"type": "integer", "minimum": 1},
}
SCHEMAS: dict[str, Any] = {
    "SandboxClock": {
        "type": "object",
        "required": ["SandboxId", "DateTime", "Customers", "Accounts"],
        "properties": {
            "SandboxId": _ID,
            "DateTime": _TIME | {"description": "The sandbox's current time."},
            "Customers": {"type": "integer", "description": "Test customers in the sandbox."},
            "Accounts": {"type": "integer", "description": "Their accounts."},
        },
        "additionalProperties": False,
    },
    "SandboxAdvance": {
        "type": "object",
        "required": ["SandboxId", "PreviousDateTime", "DateTime", "Advanced", "Executed",
                     "Rejected"],
        "properties": {
            "SandboxId": _ID,
            "PreviousDateTime": _TIME | {"description": "The time before the move."},
            "DateTime": _TIME | {"description": "The time after it."},
            "Advanced": {
                "type": "object",
                "description": "How far the clock moved, in whole days and hours.",
                "required": ["Days", "Hours"],
                "properties": {"Days": {"type": "integer"}, "Hours": {"type": "integer"}},
                "additionalProperties": False,
            },
            "Executed": _COUNTS,
            "Rejected": _COUNTS,
        },
        "additionalProperties": False,
    },
    "SandboxArrival": {
        "type": "object",
        "required": ["SandboxId", "AccountId", "Reference", "BookingDateTime", "InstructedAmount",
                     "CreditedAmount", "CurrencyExchange"],
        "properties": {
            "SandboxId": _ID,
            "AccountId": {"type": "string", "description": "The account credited."},
            "Reference": {"type": "string", "description": "The payer's reference."},
            "BookingDateTime": _TIME | {"description": "When the credit was booked."},
            "InstructedAmount": _MONEY | {"description": "What the partner abroad paid."},
            "CreditedAmount": _MONEY | {"description": "What the account was credited, in its "
                                                      "currency (rounded down)."},
            "CurrencyExchange": {"$ref": "#/components/schemas/SandboxCurrencyExchange"},
        },
        "additionalProperties": False,
    },
    "SandboxCurrencyExchange": {
        "type": "object",
        "description": "The conversion, as the account's transaction shows it on the AIS API "
        "(OBIE v4.0 OBCurrencyExchange5).",
        "required": ["SourceCurrency", "TargetCurrency", "UnitCurrency", "ExchangeRate",
                     "ContractIdentification", "QuotationDate", "InstructedAmount"],
        "properties": {
            "SourceCurrency": {"type": "string", "pattern": "^[A-Z]{3,3}$"},
            "TargetCurrency": {"type": "string", "pattern": "^[A-Z]{3,3}$"},
            "UnitCurrency": {"type": "string", "pattern": "^[A-Z]{3,3}$"},
            "ExchangeRate": {"type": "number", "description": "1 UnitCurrency in the other."},
            "ContractIdentification": {"type": "string", "maxLength": 35},
            "QuotationDate": _TIME,
            "InstructedAmount": _MONEY,
        },
        "additionalProperties": False,
    },
    "SandboxArrivalResponse": _envelope("SandboxArrival"),
    "SandboxClockResponse": _envelope("SandboxClock"),
    "SandboxAdvanceResponse": _envelope("SandboxAdvance"),
}  # fmt: skip


def build_sandbox(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the sandbox API; raises :class:`SpecError` when it and the
    routes ``app`` serves disagree."""
    return build_extension(
        app,
        Extension(
            title=TITLE, version=VERSION, description=DESCRIPTION, prefix=PREFIX,
            blueprint=sandbox_bp.name, what="sandbox", scheme="SandboxClientCredentials",
            scheme_description="A client-credentials token of a sandbox app with the sandbox "
            "scope; a DPoP-bound one as `Authorization: DPoP <token>` with a DPoP proof "
            "(RFC 9449).",
            scopes={SANDBOX: SANDBOX_DESCRIPTION}, paths=PATHS,
            schemas=SCHEMAS | _request_schemas(), errors=ERRORS, from_reference=FROM_REFERENCE,
        ),
    )  # fmt: skip


def _request_schemas() -> dict[str, Any]:
    """The request bodies' schemas, generated from the marshmallow classes that validate them."""
    spec = APISpec(
        title=TITLE, version=VERSION, openapi_version="3.0.3", plugins=[MarshmallowPlugin()]
    )
    for schema in (AdvanceRequest, ResetRequest, ArrivalRequest):
        spec.components.schema(schema.__name__, schema=schema)
    generated: dict[str, Any] = spec.to_dict()["components"]["schemas"]
    advance = generated.get("AdvanceData")
    if advance is None:
        raise SpecError("the advance request's Data is not generated as AdvanceData")
    advance["description"] = (
        f"Whole days and hours, at least one hour in all and at most {MAX_DAYS} days; at least "
        "one of the two."
    )
    return generated
