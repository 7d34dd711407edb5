"""The Confirmation of Funds API document: the OBIE v4.0 reference, cut to what we serve
(:mod:`gateway.apidocs.reference`).

The reference declares ``x-idempotency-key`` and ``x-jws-signature`` among its components but
no operation uses them (the profile: "Message Signing: No", "Idempotency Key: No"), so the
document leaves them out with every other component nothing refers to.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from marshmallow import Schema

from gateway.api.cbpii import bp as cbpii_bp
from gateway.api.cbpii.schemas import FundsConfirmationConsentRequest, FundsConfirmationRequest
from gateway.apidocs.common import REFERENCE_DIR
from gateway.apidocs.reference import Family, build
from gateway.consents.funds_confirmation import SCHEMES

PREFIX = cbpii_bp.url_prefix or ""
REFERENCE = REFERENCE_DIR / "confirmation-funds-openapi.yaml"
TITLE = "Confirmation of Funds API (UK Open Banking v4.0) — Sandbox Bank"
GUIDE_URL = "/docs/getting-started"
REQUEST_SCHEMAS: dict[tuple[str, str], type[Schema]] = {
    ("/funds-confirmation-consents", "post"): FundsConfirmationConsentRequest,
    ("/funds-confirmations", "post"): FundsConfirmationRequest,
}
_SCHEMES = ", ".join(f"`{scheme}`" for scheme in SCHEMES)

DESCRIPTION = f"""\
The UK Open Banking Read/Write API v4.0 for confirmation of funds, as the Sandbox Bank's gateway
serves it: a card-based payment instrument issuer (CBPII) asks whether an amount is available in
a customer's account, with the customer's consent, and is told yes or no. Response bodies and
headers follow the OBIE v4.0 reference schemas; request bodies are published from the very
schemas that validate them.

## The flow (FAPI 2.0)

1. Get a client-credentials token from `POST /token` (scope `fundsconfirmations`; your
   organisation needs the CBPII role) and create a funds-confirmation consent with it, naming
   the account in `DebtorAccount` ({_SCHEMES}) and, if it should end, `ExpirationDateTime`.
2. Push the authorization request to `POST /par`: scope `openid fundsconfirmations`, the consent
   id as `openbanking_intent_id`, PKCE with `S256`. Send the customer to `GET /authorize`. The
   bank's page shows them who asks, for which account and until when; they approve or decline
   the consent whole. When the account is not one of theirs they cannot approve it: you get
   `access_denied` and the consent is `RJCT`.
3. Exchange the code at `POST /token`, then ask `POST /funds-confirmations` with that token,
   the consent id, your `Reference` and the amount in the account's currency: `FundsAvailable`
   is true when the available balance (and any overdraft or credit line) covers it. Nothing is
   held back or moved.

## Rules worth knowing

- Not idempotent (Confirmation of Funds API Profile, Idempotency): after a timeout, ask again
  with a new `Reference`; funds may have changed. A `Reference` is used once per consent: a
  second use is `400` with `U013` (`UK.OBIE.Rules.DuplicateReference`). There is no
  `x-idempotency-key` and no `x-jws-signature` on these endpoints ("Message Signing: No").
- An unknown consent id is `400` with `U011`, never `404`; a consent that is not `AUTH` on the
  bank's clock is `400` with `U009`; a `ConsentId` other than the token's is `400` with `U008`;
  an amount in another currency than the account's is `400` with `U002`.
- `DELETE` cancels the consent (`CANC`) and revokes every token issued for it. A consent past
  its `ExpirationDateTime` is `EXPD`. An `AUTH` consent can be re-authenticated under the same
  id (push a new authorization request for it).

Start with the [getting-started guide]({GUIDE_URL}).
"""

TPP_SECURITY = (
    "Client credentials grant at the gateway's token endpoint (scope fundsconfirmations), for "
    "the consent endpoints. The client authenticates with private_key_jwt (or "
    "client_secret_basic). A DPoP-bound token is presented as `Authorization: DPoP <token>` "
    "with a DPoP proof (RFC 9449) on every request."
)
PSU_SECURITY = (
    "Authorization code grant (FAPI 2.0: PAR and PKCE S256 required) for funds confirmations: "
    "the token of the consent the customer agreed to. A DPoP-bound token is presented as "
    "`Authorization: DPoP <token>` with a DPoP proof (RFC 9449) on every request."
)

CBPII = Family(
    blueprint=cbpii_bp.name,
    prefix=PREFIX,
    reference=REFERENCE,
    title=TITLE,
    description=DESCRIPTION,
    request_schemas=REQUEST_SCHEMAS,
    tpp_security=TPP_SECURITY,
    psu_security=PSU_SECURITY,
)


def build_cbpii(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the Confirmation of Funds API as ``app`` serves it."""
    return build(app, CBPII)
