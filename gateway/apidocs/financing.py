"""The financing API's document, kept by hand next to the views it describes.

Its request body is generated (apispec) from the marshmallow schema that validates it; the
response shapes are :mod:`gateway.apidocs.financing_schemas`; the error body and the envelope's
parts are the OBIE v4.0 reference's own components. The build checks the document against the
routes of the ``financing`` blueprint, both ways.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from gateway.api.financing import PREFIX
from gateway.api.financing import bp as financing_bp
from gateway.api.financing.loan_schemas import AcceptanceRequest
from gateway.api.financing.schemas import ApplicationRequest, QuoteRequest
from gateway.apidocs.extension import Extension, build_extension
from gateway.apidocs.financing_loan_schemas import LOAN_SCHEMAS
from gateway.apidocs.financing_schemas import SCHEMAS
from gateway.oauth.scopes import SCOPES

TITLE = "Financing API — Sandbox Bank"
VERSION = "1.0.0"
SCOPE = "financing"
JSON = ("application/json; charset=utf-8", "application/json")
INTERACTION_ID = "x-fapi-interaction-id"
FROM_REFERENCE = {
    "schemas": ("OBErrorResponse1", "OBError1", "OBExternalStatusReason1Code", "ISODateTime",
                "Links", "Meta"),
    "parameters": (INTERACTION_ID, "x-fapi-auth-date", "x-fapi-customer-ip-address"),
}  # fmt: skip

DESCRIPTION = """\
Loan products and quotes of the Sandbox Bank, for lending marketplaces, SME platforms and shops
that offer its credit in their own products. No open banking standard covers loan origination:
this API follows OBIE's conventions (the `Data`/`Links`/`Meta` envelope, `OBErrorResponse1`
errors with codes of the OB internal code set, amounts as decimal strings with their currency).

## Access

A client-credentials token with the `financing` scope (`POST /token` with
`grant_type=client_credentials&scope=financing`); the scope comes with the `FINANCING` role of
your organisation. A DPoP-bound app presents it with a DPoP proof, as on every API.

## Products

`GET /products` lists the personal loan, the SME term loan and the revolving credit line: amount
and term ranges, the fixed nominal rate of each risk-based pricing band, the arrangement fee
(added to the loan or deducted from it) and the late fee, the repayment frequency, the
amortisation (equal instalments; equal principal for the SME loan), the day count (`30/360` or
`Actual/365`) and the eligibility rules.

## Quotes

`POST /quotes` prices an amount over a term (months) of a product, in a pricing band (the
representative one unless you name another) with an optional first repayment date (one period
after today by default, at most 31 days later than that). The drawdown is the bank's today. The
answer holds:

- every instalment: date, amount, principal, interest, fees, the balance after it, and the
  periodic rate its interest was charged at (the nominal rate times the period's day-count
  fraction). Interest is the opening balance at that rate, rounded to the minor unit (half to
  even); the last instalment absorbs every rounding, so the balance ends at zero;
- every cash flow with its date and its time in years from the drawdown (whole months as
  twelfths, left-over days over 365, Directive 2008/48/EC Annex I, I(c));
- the APR, fees included, solving sum C(1+X)^-t = sum D(1+X)^-s over those cash flows, stated
  to one decimal place (Annex I, I(d); FCA CONC App 1.1);
- the representative example with the elements of CONC 3.5.5R.

Quotes are not stored: the answer is `200`, and the same request on the same day gets the same
quote. A quote is not an offer: the credit decision comes with an application.

## Applications

`POST /loan-applications` with `{"Data": {"Loan": {...as a quote...}, "ExpirationDateTime":
...}}` applies for a loan on a customer's behalf: the loan is priced now and the application is a
consent (`201`, status `AWAU`) the customer authorises at the bank. Push an authorization request
with scope `openid financing` naming its `ConsentId` as `openbanking_intent_id` and send the
customer to `/authorize`: the bank's page shows the loan, its APR and its schedule, and the
customer chooses the account it is paid into, agreeing that the bank reads that account's
transaction history to decide (`AUTH`), or declines (`RJCT`). `GET
/loan-applications/{ConsentId}` reads it, its status on the bank's clock (`EXPD` once
`ExpirationDateTime` passes unanswered).

## Offers and acceptance

A decided application shows `Data.Decision` and `Data.Offers`: one offer for `Approve` (the
loan applied for), one per condition for `ApproveWithConditions` (a lower amount or a longer
term), none for `Refer` or `Decline`; each priced, valid 30 days from the decision on the bank's
clock. `POST /loan-applications/{ConsentId}/acceptance` with `{"Data": {"OfferId": ...}}` and an
`x-idempotency-key` draws the loan down (`201`, the loan): a loan account for the customer (in
account information, `AccountTypeCode` `LOAN`), the amount of credit paid into the account they
chose, the arrangement fee as the product says, in one balanced journal.

## Loans

`GET /loans`, `/loans/{LoanId}`, its `/schedule`, `/payments` and `/balances`; `POST
/loans/{LoanId}/early-repayment` (with an `x-idempotency-key`) settles it with interest to date.
Instalments fall due on the bank's clock and are collected from the account the loan was paid
into; short funds leave the loan in arrears (days past due in buckets 1-29, 30-59, 60-89, 90+),
with the product's late fee and a retry every day.

## Errors

`400` with `U002` (`Field.Invalid`) for an amount, currency, term, band or date the product does
not lend, with the field in `Path`; `U004`/`U005` a missing or unknown field; `U010` a body that
is not JSON; `U011` an unknown product id; `415`/`406` the wrong `Content-Type` or `Accept`; a
missing or invalid token `401`, one without the `financing` scope `403`. Accepting an offer:
`U009` for an application not `AUTH`, undecided, referred or declined; `U011` an unknown
`OfferId`; `U003` an expired offer; `409` `U029` once an offer was accepted. A loan: `U011` an
unknown id; `409` `U029` early repayment of a settled loan or without the money.
"""


def _interaction_header() -> dict[str, Any]:
    return {
        "description": "An RFC4122 UID used as a correlation id.",
        "required": True,
        "schema": {"type": "string"},
    }


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/OBErrorResponse1"}
    return {
        "description": description,
        "headers": {INTERACTION_ID: _interaction_header()},
        "content": {media: {"schema": schema} for media in JSON},
    }


def _ok(schema: str, description: str, status: str = "200") -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {
        "x-status": status,
        "description": description,
        "headers": {INTERACTION_ID: _interaction_header()},
        "content": {media: {"schema": ref} for media in JSON},
    }


ERRORS = {
    "400Error": _error("Bad request: a header, a parameter or the body refused, an unknown "
                       "product, an amount or term the product does not lend"),
    "401Error": _error("No access token, or an invalid one, or not a client-credentials one"),
    "403Error": _error("The token lacks the financing scope"),
    "405Error": _error("The path does not take this method"),
    "406Error": _error("The response is JSON: the Accept header does not allow it"),
    "409Error": _error("The application's offer was accepted already, or the loan is settled "
                       "or cannot be settled from its repayment account"),
    "415Error": _error("The body must be application/json"),
    "429Error": _error("Too many calls: retry after Retry-After seconds"),
    "500Error": _error("An unexpected error; quote the Id to support"),
    "503Error": _error("A service the gateway depends on is unavailable: retry after Retry-After"),
}  # fmt: skip


def _operation(operation_id: str, summary: str, ok: dict[str, Any], *errors: str) -> dict[str, Any]:
    refused = ("400", *errors, "401", "403", "405", "406", "429", "500", "503")
    ok = dict(ok)
    status = ok.pop("x-status")
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["Financing"],
        "parameters": [
            {"$ref": f"#/components/parameters/{name}"} for name in FROM_REFERENCE["parameters"]
        ],
        "responses": {status: ok}
        | {code: {"$ref": f"#/components/responses/{code}Error"} for code in refused},
    }


# As the OBIE payment files declare it (x-idempotency-key, gateway.api.idempotency.keys).
IDEMPOTENCY_KEY = {
    "name": "x-idempotency-key", "in": "header", "required": True,
    "description": "Every request is processed once per key; a retry with the same key and "
                   "body within 24 hours gets the first answer.",
    "schema": {"type": "string", "maxLength": 40, "pattern": "^(?!\\s)(.*)(\\S)$"},
}  # fmt: skip


def _loan_path(operation: dict[str, Any], *, method: str = "get",
               idempotent: bool = False) -> dict[str, Any]:  # fmt: skip
    loan_id = {"name": "LoanId", "in": "path", "required": True, "description": "A loan's id",
               "schema": {"type": "string"}}  # fmt: skip
    parameters: list[dict[str, Any]] = [loan_id]
    if idempotent:
        parameters.append(IDEMPOTENCY_KEY)
    return {"parameters": parameters, method: operation}


PATHS: dict[str, Any] = {
    "/products": {
        "get": _operation("GetLoanProducts", "Every loan product",
                          _ok("LoanProductsResponse", "The products"))
    },
    "/products/{ProductId}": {
        "parameters": [{"name": "ProductId", "in": "path", "required": True,
                        "description": "A product's id", "schema": {"type": "string"}}],
        "get": _operation("GetLoanProduct", "One loan product",
                          _ok("LoanProductsResponse", "The product")),
    },
    "/loan-applications": {
        "post": _operation("CreateLoanApplication", "Apply for a loan on a customer's behalf",
                           _ok("LoanApplicationResponse", "The application, awaiting the "
                               "customer", "201"), "415")
        | {"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ApplicationRequest"}}}}},
    },
    "/loan-applications/{ConsentId}": {
        "parameters": [{"name": "ConsentId", "in": "path", "required": True,
                        "description": "An application's id", "schema": {"type": "string"}}],
        "get": _operation("GetLoanApplication", "An application and its status",
                          _ok("LoanApplicationResponse", "The application")),
    },
    "/loan-applications/{ConsentId}/acceptance": {
        "parameters": [{"name": "ConsentId", "in": "path", "required": True,
                        "description": "An application's id", "schema": {"type": "string"}},
                       IDEMPOTENCY_KEY],
        "post": _operation("AcceptLoanOffer", "Accept an offer: the loan is drawn down",
                           _ok("LoanResponse", "The loan", "201"), "409", "415")
        | {"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/AcceptanceRequest"}}}}},
    },
    "/loans": {
        "get": _operation("GetLoans", "Every loan your applications drew down",
                          _ok("LoansResponse", "The loans")),
    },
    "/loans/{LoanId}": _loan_path(_operation("GetLoan", "A loan as it stands",
                                             _ok("LoansResponse", "The loan"))),
    "/loans/{LoanId}/schedule": _loan_path(_operation(
        "GetLoanSchedule", "A loan's instalments and what was paid of each",
        _ok("LoanScheduleResponse", "The schedule"))),
    "/loans/{LoanId}/payments": _loan_path(_operation(
        "GetLoanPayments", "A loan's drawdown and collections",
        _ok("LoanPaymentsResponse", "The payments"))),
    "/loans/{LoanId}/balances": _loan_path(_operation(
        "GetLoanBalances", "What a loan owes now", _ok("LoanBalancesResponse", "The balances"))),
    "/loans/{LoanId}/early-repayment": _loan_path(
        _operation("RepayLoanEarly", "Settle a loan now with interest to date",
                   _ok("LoansResponse", "The settled loan"), "409"),
        method="post", idempotent=True),
    "/quotes": {
        "post": _operation("CreateLoanQuote", "Price a loan: schedule, cash flows, APR",
                           _ok("LoanQuoteResponse", "The quote"), "415")
        | {"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/QuoteRequest"}}}}},
    },
}  # fmt: skip


def build_financing(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the financing API; raises :class:`SpecError` when it and the
    routes ``app`` serves disagree."""
    return build_extension(
        app,
        Extension(
            title=TITLE, version=VERSION, description=DESCRIPTION, prefix=PREFIX,
            blueprint=financing_bp.name, what="financing", scheme="FinancingClientCredentials",
            scheme_description="A client-credentials token with the financing scope; a "
            "DPoP-bound one as `Authorization: DPoP <token>` with a DPoP proof (RFC 9449).",
            scopes={SCOPE: SCOPES[SCOPE]}, paths=PATHS,
            schemas=SCHEMAS | LOAN_SCHEMAS | _request_schemas(),
            errors=ERRORS, from_reference=FROM_REFERENCE,
        ),
    )  # fmt: skip


def _request_schemas() -> dict[str, Any]:
    """The request body's schemas, generated from the marshmallow classes that validate it."""
    spec = APISpec(
        title=TITLE, version=VERSION, openapi_version="3.0.3", plugins=[MarshmallowPlugin()]
    )
    for schema in (QuoteRequest, ApplicationRequest, AcceptanceRequest):
        spec.components.schema(schema.__name__, schema=schema)
    generated: dict[str, Any] = spec.to_dict()["components"]["schemas"]
    return generated
