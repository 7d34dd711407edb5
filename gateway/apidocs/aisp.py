"""The Account Information API document: the OBIE v4.0 reference, cut to what we serve
(:mod:`gateway.apidocs.reference`), with its statement file published as the PDF it is."""

from __future__ import annotations

from typing import Any

from flask import Flask
from marshmallow import Schema

from gateway.api.aisp import bp as aisp_bp
from gateway.api.aisp.schemas import ConsentRequest
from gateway.api.aisp.statement_file import MEDIA_TYPE as STATEMENT_FILE_MEDIA_TYPE
from gateway.apidocs.common import REFERENCE_DIR
from gateway.apidocs.reference import Family, build, component, reference_document

__all__ = ["AIS", "REFERENCE", "build_aisp", "reference_document"]

PREFIX = aisp_bp.url_prefix or ""
REFERENCE = REFERENCE_DIR / "account-info-openapi.yaml"
TITLE = "Account Information API (UK Open Banking v4.0) — Sandbox Bank"
GUIDE_URL = "/docs/getting-started"
# The request body of each operation that has one, as the view validates it.
REQUEST_SCHEMAS: dict[tuple[str, str], type[Schema]] = {
    ("/account-access-consents", "post"): ConsentRequest,
}
# The response of the statement file, and what the gateway serves it as.
STATEMENT_FILE_RESPONSE = "200AccountsAccountIdStatementsStatementIdFileRead"

DESCRIPTION = f"""\
The UK Open Banking Read/Write API v4.0 for account information, as the Sandbox Bank's gateway
serves it. Response bodies and headers follow the OBIE v4.0 reference schemas; request bodies are
published from the very schemas that validate them.

## Security (FAPI 2.0)

1. Get a client-credentials token from `POST /token` (scope `accounts`) and create an
   account-access consent with it.
2. Push the authorization request to `POST /par` (PAR is required): response type `code`, PKCE
   with `S256`, and the consent id as `openbanking_intent_id`. Send the customer to
   `GET /authorize` with the `client_id` and the `request_uri` you got back.
3. Exchange the code at `POST /token` with its `code_verifier`, then read the accounts the
   customer chose.

Clients authenticate at `/par`, `/token`, `/revoke` and `/introspect` with `private_key_jwt`
(RFC 7523; `client_secret_basic` is accepted too). Tokens are sender-constrained with DPoP
(RFC 9449): a DPoP-bound token is sent as `Authorization: DPoP <token>` with a fresh `DPoP`
proof (carrying `ath`) on every request. Production apps must use DPoP. The authorization
server's metadata is at `/.well-known/oauth-authorization-server` and its endpoints are
described in `/specs/oauth.json`.

Start with the [getting-started guide]({GUIDE_URL}): sign up, register an app and run the
example partner client.

## Trying it from this page

"Try it out" works for the consent endpoints with the client-credentials token of a sandbox app
registered for `client_secret_basic` without DPoP: choose **TPPOAuth2Security**, give its client
id and secret, and the token goes in the `Authorization` header for you. The customer's part
(PAR, the customer's sign-in, DPoP proofs on every call) cannot be done from this page: the
example partner client and the portal's **Try the flow** page do it step by step.
"""

TPP_SECURITY = (
    "Client credentials grant at the gateway's token endpoint, for the consent endpoints. The "
    "client authenticates with private_key_jwt (or client_secret_basic). A DPoP-bound token is "
    "presented as `Authorization: DPoP <token>` with a DPoP proof (RFC 9449) on every request."
)
PSU_SECURITY = (
    "Authorization code grant (FAPI 2.0: PAR and PKCE S256 required) for the customer's account "
    "data. The authorization request is pushed to /par first; /authorize takes only client_id "
    "and request_uri. A DPoP-bound token is presented as `Authorization: DPoP <token>` with a "
    "DPoP proof (RFC 9449) on every request."
)


def _statement_file_is_a_pdf(document: dict[str, Any]) -> None:
    """The statement file as it is served: a PDF. The reference lists only JSON media types
    (an empty ``File`` object) for it, a known gap of the OBIE documents; a client generated
    from them would ask for JSON and get 406."""
    response = component(document, "responses", STATEMENT_FILE_RESPONSE)
    response["description"] = (
        "The statement as a PDF (`application/pdf`; the reference lists JSON media types, which "
        "the gateway does not serve for a file: any other `Accept` gets 406)."
    )
    response["content"] = {
        STATEMENT_FILE_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}
    }


AIS = Family(
    blueprint=aisp_bp.name,
    prefix=PREFIX,
    reference=REFERENCE,
    title=TITLE,
    description=DESCRIPTION,
    request_schemas=REQUEST_SCHEMAS,
    tpp_security=TPP_SECURITY,
    psu_security=PSU_SECURITY,
    customise=_statement_file_is_a_pdf,
)


def build_aisp(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the Account Information API as ``app`` serves it
    (:func:`gateway.apidocs.reference.build`)."""
    return build(app, AIS)
