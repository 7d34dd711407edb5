"""The Variable Recurring Payments API document: the OBIE v4.0 VRP reference
(``vrp-openapi.yaml``), cut to what we serve. Its operations are served by the Payment
Initiation blueprint under the same prefix, as the reference's ``servers`` has them; request
bodies are the reference's own schemas, which the views validate against."""

from __future__ import annotations

from typing import Any

from flask import Flask

from gateway.api.pisp import bp as pisp_bp
from gateway.api.pisp.vrp import REFERENCE_FILE
from gateway.apidocs.common import REFERENCE_DIR
from gateway.apidocs.pisp import PREFIX, PSU_SECURITY, TPP_SECURITY, is_vrp
from gateway.apidocs.reference import Family, build

TITLE = "Variable Recurring Payments API (UK Open Banking v4.0) — Sandbox Bank"
GUIDE_URL = "/docs/getting-started"

DESCRIPTION = f"""\
The UK Open Banking Read/Write API v4.0 for variable recurring payments (VRP), as the Sandbox
Bank's gateway serves it. Request and response bodies are the OBIE v4.0 reference schemas: the
gateway validates every request body against them (`U004` missing, `U005` not allowed, `U002`
invalid, each with its JSON path).

## The flow (FAPI 2.0)

1. With a client-credentials token (scope `payments`), stage the consent:
   `POST /domestic-vrp-consents` with its `ControlParameters`: a `MaximumIndividualAmount`, one
   or more `PeriodicLimits` (`Day`, `Week`, `Fortnight`, `Month`, `Half-year` or `Year`, aligned
   on the `Consent` or the `Calendar`), the validity, the payment types and authentication
   methods. It starts `AWAU`.
2. Push the authorization request to `POST /par` with the consent id as `openbanking_intent_id`
   and send the customer to `GET /authorize`: the bank's page shows the payee and the limits in
   words, and the customer picks the account to pay from. The consent becomes `AUTH` and names
   that `DebtorAccount`.
3. With the token of that authorisation, make payments: `POST /domestic-vrps`, as many as the
   limits allow. The `Initiation` repeats the consent's exactly and the `Instruction` carries
   the amount (`U008` names the first field that differs from the consent; `U014` the limit a
   payment would break, with what remains of it in the period). `POST
   /domestic-vrp-consents/{{ConsentId}}/funds-confirmation` asks whether an amount is available.
4. Read payments and their `/payment-details` with a client-credentials token: `ACSP` once
   booked, `ACSC` from the bank's next settlement cycle, `RJCT` with `AM04` when the account
   could not pay (it counts toward no limit). `DELETE` the consent to revoke it.

Periods are counted on the sandbox's clock in Europe/London time: a calendar `Month` runs from
the 1st at midnight; a consent-aligned one from the consent's `ValidFromDateTime` (else its
creation), to the second.

## Signing and retries

Every request body is signed (`x-jws-signature`) and every response body is signed by the bank;
every `POST` takes an `x-idempotency-key`. Start with the [getting-started guide]({GUIDE_URL}).
"""

VRP = Family(
    blueprint=pisp_bp.name,
    prefix=PREFIX,
    reference=REFERENCE_DIR / REFERENCE_FILE,
    title=TITLE,
    description=DESCRIPTION,
    request_schemas={},
    tpp_security=TPP_SECURITY,
    psu_security=PSU_SECURITY.replace("submit the payment", "make the payments"),
    reference_bodies=True,
    includes=is_vrp,
)


def build_vrp(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the VRP API as ``app`` serves it."""
    return build(app, VRP)
