"""The FX document: rates, corridors and quotes (our extension of the payment APIs).

Kept by hand next to the views it describes (:mod:`gateway.api.fx`); the error body and the
envelope's parts are the OBIE v4.0 reference's own components; the build checks the document
against the routes of the ``fx_api`` blueprint, both ways.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway.api.fx import PREFIX
from gateway.api.fx import bp as fx_bp
from gateway.api.fx.bodies import AMOUNT, COUNTRY, CURRENCY
from gateway.apidocs.extension import Extension, build_extension
from gateway.apidocs.idempotency import INTERACTION_ID, JSON, _error, _interaction_header
from gateway.core.fx import LOCKS, RATE_DIGITS
from gateway.oauth.scopes import SCOPES

TITLE = "Foreign exchange — Sandbox Bank"
VERSION = "1.0.0"
SCOPE = "payments"
FROM_REFERENCE = {
    "schemas": ("OBErrorResponse1", "OBError1", "OBExternalStatusReason1Code", "ISODateTime",
                "Links", "Meta"),
    "parameters": (INTERACTION_ID,),
}  # fmt: skip

DESCRIPTION = f"""\
Before a partner pays abroad it needs the rate, the fees and the day the money arrives. These
operations give them, with a client-credentials token of your app carrying the `{SCOPE}` scope.

## Rates and corridors

`GET /rates?UnitCurrency=GBP` gives the mid rate of every currency the bank converts: 1
`UnitCurrency` = `ExchangeRate` of the other. In the sandbox they are deterministic from your
sandbox's seed and move with its clock, minute by minute. `GET /corridors` lists the pairs the
bank pays, the countries each reaches, its limits (of the sell amount), its cut-off time in its
own time zone, its settlement days, spread and fee, and the settlement date of a payment made now.

## Quotes

`POST /quotes` names the sell and buy currencies and fixes one side: `SellAmount` or `BuyAmount`.
`Lock` is `None` (an indicative quote), `PT5M`, `PT1H` or `PT24H`: a locked quote's
`ContractIdentification`, cited by an international payment consent with `RateType` `Agreed`,
holds `ExchangeRate` until `ExpirationDateTime` on the sandbox's clock; after it the quote is
refused. `GET /quotes/{{ContractIdentification}}` reads it again, its `Status` now.

## Rounding (the same in the quote, the consent, the payment and the ledger)

- Every amount is a decimal string in its currency's ISO 4217 exponent (JPY 0, GBP 2, KWD and
  BHD 3). More decimal places than the currency has are refused, never rounded.
- Rates carry {RATE_DIGITS} significant digits: the mid rate rounds half-even; `ExchangeRate`,
  the customer's rate, is the mid less `SpreadBasisPoints`, rounded down.
- With `SellAmount` fixed, `AmountReceived` is `SellAmount` times `ExchangeRate`, rounded
  down to the buy currency's minor unit. With `BuyAmount` fixed, `SellAmount` is `BuyAmount`
  divided by `ExchangeRate`, rounded up to the sell currency's minor unit.
- `Fees` are in the sell currency; `TotalDebited` = `SellAmount` + `Fees`.

## Settlement date

The trade date is the day the request arrives in the corridor's time zone when that is a business
day of both currencies and before the cut-off, else the next such day; settlement is
`SettlementDays` business days later. Holidays come from each currency's calendar (England and
Wales, TARGET2, the Federal Reserve, the country's own).

## Errors

A currency the bank does not convert: `400` `U023`; a pair or country no corridor serves, an
amount outside the corridor's limits or with too many decimal places: `400` `U002` with the
field's `Path`; an unknown `ContractIdentification`: `400` `U011`.
"""

ERRORS = {
    "400Error": _error(
        "Bad request: an unsupported currency (U023), corridor or amount (U002), an unknown "
        "ContractIdentification (U011), a body that does not match (U002, U004, U005, U010)"
    ),
    "401Error": _error("No access token, or an invalid one, or not a client-credentials one"),
    "403Error": _error("The token lacks the payments scope"),
    "405Error": _error("The path does not take this method"),
    "406Error": _error("The response is JSON: the Accept header does not allow it"),
    "429Error": _error("Too many calls: retry after Retry-After seconds"),
    "500Error": _error("An unexpected error; quote the Id to support"),
    "503Error": _error("A service the gateway depends on is unavailable: retry after Retry-After"),
}


def _ok(schema: str, status: str = "200") -> dict[str, Any]:
    return {
        status: {
            "description": "Created" if status == "201" else "OK",
            "headers": {INTERACTION_ID: _interaction_header()},
            "content": {
                media: {"schema": {"$ref": f"#/components/schemas/{schema}"}} for media in JSON
            },
        },
        **{
            code: {"$ref": f"#/components/responses/{code}Error"}
            for code in ("400", "401", "403", "405", "406", "429", "500", "503")
        },
    }


def _operation(op_id: str, summary: str, schema: str, status: str = "200",
               params: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:  # fmt: skip
    return {
        "operationId": op_id, "summary": summary, "tags": ["Foreign exchange"],
        "parameters": [{"$ref": f"#/components/parameters/{INTERACTION_ID}"}, *params],
        "responses": _ok(schema, status),
    }  # fmt: skip


def _string(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern}


_RATE = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "description": "An exact decimal."}
_AMOUNT = {"$ref": "#/components/schemas/FxAmount"}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties,
            "additionalProperties": False}  # fmt: skip


def _envelope(data: str) -> dict[str, Any]:
    return _object(["Data", "Links", "Meta"], {
        "Data": {"$ref": f"#/components/schemas/{data}"},
        "Links": {"$ref": "#/components/schemas/Links"},
        "Meta": {"$ref": "#/components/schemas/Meta"},
    })  # fmt: skip


_QUOTE_FIELDS: dict[str, Any] = {
    "ContractIdentification": {"type": "string", "minLength": 1, "maxLength": 256},
    "CorridorId": {"type": "string"},
    "SellCurrency": _string(CURRENCY),
    "BuyCurrency": _string(CURRENCY),
    "FixedSide": {"type": "string", "enum": ["Sell", "Buy"]},
    "RateType": {"type": "string", "enum": ["Agreed", "Indicative"]},
    "Status": {"type": "string", "enum": ["Indicative", "Locked", "Expired"]},
    "UnitCurrency": _string(CURRENCY),
    "MidRate": _RATE,
    "ExchangeRate": _RATE,
    "SpreadBasisPoints": {"type": "integer", "minimum": 0},
    "Fees": _AMOUNT,
    "SellAmount": _AMOUNT,
    "TotalDebited": _AMOUNT,
    "AmountReceived": _AMOUNT,
    "Lock": {"type": "string", "enum": list(LOCKS)},
    "CreationDateTime": {"$ref": "#/components/schemas/ISODateTime"},
    "ExpirationDateTime": {"$ref": "#/components/schemas/ISODateTime"},
    "ExpectedSettlementDate": {"type": "string", "format": "date"},
}
SCHEMAS: dict[str, Any] = {
    "FxAmount": _object(["Amount", "Currency"], {
        "Amount": _string(AMOUNT), "Currency": _string(CURRENCY)}),
    "FxQuoteRequest": _object(["Data"], {"Data": _object(
        ["SellCurrency", "BuyCurrency", "Lock"], {
            "SellCurrency": _string(CURRENCY), "BuyCurrency": _string(CURRENCY),
            "SellAmount": _string(AMOUNT), "BuyAmount": _string(AMOUNT),
            "Lock": {"type": "string", "enum": list(LOCKS)},
            "DestinationCountry": _string(COUNTRY),
        })}),
    "FxQuoteData": _object(
        [name for name in _QUOTE_FIELDS if name != "ExpirationDateTime"], _QUOTE_FIELDS),
    "FxQuoteResponse": _envelope("FxQuoteData"),
    "FxRatesData": _object(["UnitCurrency", "RateDateTime", "Rate"], {
        "UnitCurrency": _string(CURRENCY),
        "RateDateTime": {"$ref": "#/components/schemas/ISODateTime"},
        "Rate": {"type": "array", "items": _object(["QuotedCurrency", "ExchangeRate"], {
            "QuotedCurrency": _string(CURRENCY), "ExchangeRate": _RATE})},
    }),
    "FxRatesResponse": _envelope("FxRatesData"),
    "FxCorridor": _object(
        ["CorridorId", "SellCurrency", "BuyCurrency", "SourceCountry", "DestinationCountry",
         "MinimumAmount", "MaximumAmount", "CutOffTime", "TimeZone", "SettlementDays",
         "SpreadBasisPoints", "Fees", "ExpectedSettlementDate"], {
            "CorridorId": {"type": "string"}, "SellCurrency": _string(CURRENCY),
            "BuyCurrency": _string(CURRENCY), "SourceCountry": _string(COUNTRY),
            "DestinationCountry": {"type": "array", "items": _string(COUNTRY)},
            "MinimumAmount": _AMOUNT, "MaximumAmount": _AMOUNT,
            "CutOffTime": _string(r"^\d{2}:\d{2}$"),
            "TimeZone": {"type": "string", "description": "An IANA time zone."},
            "SettlementDays": {"type": "integer", "minimum": 0},
            "SpreadBasisPoints": {"type": "integer", "minimum": 0}, "Fees": _AMOUNT,
            "ExpectedSettlementDate": {"type": "string", "format": "date"},
        }),
    "FxCorridorsData": _object(["Corridor"], {
        "Corridor": {"type": "array", "items": {"$ref": "#/components/schemas/FxCorridor"}}}),
    "FxCorridorsResponse": _envelope("FxCorridorsData"),
}  # fmt: skip

_UNIT = {
    "name": "UnitCurrency",
    "in": "query",
    "required": False,
    "schema": _string(CURRENCY),
    "description": "The unit currency (GBP by default).",
}
_CONTRACT = {
    "name": "ContractIdentification",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The quote's ContractIdentification.",
}
_CREATE = _operation("CreateFxQuote", "Price a conversion, locking its rate if asked",
                     "FxQuoteResponse", "201")  # fmt: skip
_CREATE["requestBody"] = {
    "required": True,
    "content": {
        media: {"schema": {"$ref": "#/components/schemas/FxQuoteRequest"}} for media in JSON
    },
}
PATHS: dict[str, Any] = {
    "/rates": {"get": _operation("GetFxRates", "Mid rates now", "FxRatesResponse",
                                 params=(_UNIT,))},
    "/corridors": {"get": _operation("GetFxCorridors", "The corridors the bank pays through",
                                     "FxCorridorsResponse")},
    "/quotes": {"post": _CREATE},
    "/quotes/{ContractIdentification}": {"get": _operation(
        "GetFxQuote", "A quote, its status now", "FxQuoteResponse", params=(_CONTRACT,))},
}  # fmt: skip


def build_fx(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the FX API; raises :class:`SpecError` when it and the routes
    ``app`` serves disagree."""
    return build_extension(
        app,
        Extension(
            title=TITLE, version=VERSION, description=DESCRIPTION, prefix=PREFIX,
            blueprint=fx_bp.name, what="FX", scheme="ClientCredentials",
            scheme_description="A client-credentials token of your app with the payments scope; "
            "a DPoP-bound one as `Authorization: DPoP <token>` with a DPoP proof (RFC 9449).",
            scopes={SCOPE: SCOPES[SCOPE]}, paths=PATHS, schemas=SCHEMAS, errors=ERRORS,
            from_reference=FROM_REFERENCE,
        ),
    )  # fmt: skip
