"""The Payment Initiation API document: the OBIE v4.0 reference, cut to what we serve
(:mod:`gateway.apidocs.reference`). Request bodies are the reference's own schemas, which the
views validate against (:mod:`gateway.api.reference`)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway.api.pisp import REFERENCE_FILE
from gateway.api.pisp import bp as pisp_bp
from gateway.apidocs.common import REFERENCE_DIR
from gateway.apidocs.reference import Family, build

PREFIX = pisp_bp.url_prefix or ""
TITLE = "Payment Initiation API (UK Open Banking v4.0) — Sandbox Bank"
GUIDE_URL = "/docs/getting-started"

DESCRIPTION = f"""\
The UK Open Banking Read/Write API v4.0 for payment initiation, as the Sandbox Bank's gateway
serves it. Request and response bodies are the OBIE v4.0 reference schemas: the gateway
validates every request body against them, and a field that breaks them is a `400` naming its
JSON path (`U004` missing, `U005` not allowed, `U002` invalid).

## The flow (FAPI 2.0)

1. Get a client-credentials token from `POST /token` (scope `payments`; your organisation needs
   the PISP role) and stage the payment: `POST /domestic-payment-consents` (or
   `/domestic-scheduled-payment-consents` for a later day). It starts `AWAU`.
2. Push the authorization request to `POST /par`: scope `openid payments`, the consent id as
   `openbanking_intent_id`, PKCE with `S256`. Send the customer to `GET /authorize`: the bank's
   page shows them the payee, amount, account, reference and day, and they pick the account to
   pay from.
3. Exchange the code at `POST /token`, then submit the payment with that token: its
   `Initiation` and `Risk` must repeat the consent's exactly (`U008` names the first field that
   differs), and a consent pays once (`U009`), by its `CutOffDateTime` (a day after it was
   staged, earlier for a payment due sooner; after it the order is `U012` and the consent reads
   `RJCT` with `StatusReason` `U012`). A consent whose `Authorisation.CompletionDateTime` has
   passed can no longer be authorised.
4. Read the payment and its `/payment-details` with a client-credentials token: `ACSP` once
   booked, `ACSC` from the bank's next settlement cycle, `RJCT` with `AM04` when the account
   could not pay; a scheduled payment is `ACCP` until its day. In the sandbox, trigger amounts
   give the other outcomes (`PDNG`, then accepted or rejected at the next settlement cycle), and
   a business's payment waits `PDNG` with `MultiAuthorisation` `AWAF` for its second
   authoriser: see the [sandbox scenarios](/docs/scenarios).

## Payments abroad

`/international-payment-consents`, `/international-scheduled-payment-consents` and
`/international-standing-order-consents` (with their payments, scheduled payments and standing
orders) pay from a pound account in `CurrencyOfTransfer`; `InstructedAmount` is in pounds (the
amount converted is fixed) or in `CurrencyOfTransfer` (the amount received is). Each response
gives `Charges` and, but for standing orders, `ExchangeRateInformation`. `RateType` `Agreed`
cites the `ContractIdentification` of a locked quote of the FX API and is executed at exactly its
rate: staging or submitting after its lock ended is `U002`; a scheduled payment whose quote's
lock ends before its day is `RJCT` on that day (`NARR`, nothing debited); a quote a payment
executed on serves no other (`409`, `U029`). `Actual` (and `Indicative`, and every standing
order, which carries no rate in v4.0) converts at the rate when the payment executes, on the
bank's clock; the order then reports the rate applied, and `/payment-details` describes each
booked execution's conversion (rate, quote, both amounts, fee) in its `StatusReasonDescription`.
The customer's transaction carries it as `CurrencyExchange` on the AIS API.

## File payments

Stage `POST /file-payment-consents` with the file's `FileType`, `FileHash` (the base64 of the
SHA-256 of the file), `NumberOfTransactions` and `ControlSum`: the consent awaits its file
(`AWUP`). Upload the file to `POST /file-payment-consents/{{ConsentId}}/file` in its own media
type (`application/json` for `UK.OBIE.PaymentInitiation.4.0`, `{{"Data": {{"DomesticPayments":
[...]}}}}` of domestic initiations; `application/xml` for an ISO 20022 `UK.OBIE.pain.001.001.08`
document, without DTD or entities), signed like any body: its hash, count and total must be
exactly the consent's (`U002` names the field), and it goes up once (`U009`). The consent then
awaits the customer (`AWAU`), who sees the count, the total and the payees. `POST /file-payments`
pays each transaction: the file payment is `INCO` when all were accepted, `INFA` when any was
refused (`AM04` for want of funds); `/payment-details` and `/report-file` list each transaction.

## Signing and retries

Every request body is signed (`x-jws-signature`, a detached JWS with the OBIE `crit` claims,
PS256 or ES256, with a key your app registered; `U015`-`U020` say what is wrong), and every
response body is signed by the bank with a key of `/jwks`. Every `POST` takes an
`x-idempotency-key`: the same request with the same key within 24 hours gets the first answer
again, byte for byte, and nothing happens twice.

Start with the [getting-started guide]({GUIDE_URL}).
"""

TPP_SECURITY = (
    "Client credentials grant at the gateway's token endpoint (scope payments), to stage "
    "consents and read consents and payments. The client authenticates with private_key_jwt (or "
    "client_secret_basic). A DPoP-bound token is presented as `Authorization: DPoP <token>` "
    "with a DPoP proof (RFC 9449) on every request."
)
PSU_SECURITY = (
    "Authorization code grant (FAPI 2.0: PAR and PKCE S256 required) to submit the payment the "
    "customer approved and confirm its funds. A DPoP-bound token is presented as "
    "`Authorization: DPoP <token>` with a DPoP proof (RFC 9449) on every request."
)


def _unique_enums(document: dict[str, Any]) -> None:
    """Publish each enum once per value: the reference lists ``WEEK`` twice in
    ``OBFrequency6Code``, which OpenAPI 3.0 (JSON Schema: "elements ... MUST be unique") and
    the code generators partners use refuse. Validation is unchanged (a repeated value admits
    nothing more)."""
    for schema in document["components"].get("schemas", {}).values():
        if isinstance(schema, dict) and isinstance(schema.get("enum"), list):
            schema["enum"] = list(dict.fromkeys(schema["enum"]))


def is_vrp(path: str) -> bool:
    """Whether a path of the blueprint is one of the VRP file's (``/domestic-vrp-consents``,
    ``/domestic-vrps``): those are published in their own document (gateway.apidocs.vrp)."""
    return path.startswith("/domestic-vrp")


def _not_vrp(path: str) -> bool:
    return not is_vrp(path)


# The payment file goes up in the media type of its FileType; the reference lists only JSON media
# types, with an empty ``File`` object, for its body.
FILE_PATH = "/file-payment-consents/{ConsentId}/file"
XML_FILE = {
    "schema": {"type": "string", "format": "binary"},
    "example": '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.08">...</Document>',
}


def _customise(document: dict[str, Any]) -> None:
    _unique_enums(document)
    operations = document["paths"].get(FILE_PATH, {})
    if "post" in operations:
        operations["post"]["requestBody"]["content"]["application/xml"] = XML_FILE


PISP = Family(
    blueprint=pisp_bp.name,
    prefix=PREFIX,
    reference=REFERENCE_DIR / REFERENCE_FILE,
    title=TITLE,
    description=DESCRIPTION,
    request_schemas={},
    tpp_security=TPP_SECURITY,
    psu_security=PSU_SECURITY,
    reference_bodies=True,
    customise=_customise,
    includes=_not_vrp,
)


def build_pisp(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the Payment Initiation API as ``app`` serves it."""
    return build(app, PISP)
