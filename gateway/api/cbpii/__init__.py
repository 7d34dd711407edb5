"""UK Open Banking Read/Write API v4.0: Confirmation of Funds (``/open-banking/v4.0/cbpii``).

A card-based payment instrument issuer (CBPII) creates a funds-confirmation consent naming one
account (client-credentials token), the customer agrees to it at the bank, and the CBPII then
asks whether an amount is available in that account (a token of the authorization code grant):
the bank answers yes or no and moves nothing.
"""

from __future__ import annotations

from flask import Blueprint

from gateway.api.common import accepts_json

bp = Blueprint("cbpii", __name__, url_prefix="/open-banking/v4.0/cbpii")
bp.before_request(accepts_json)

# == Message signing (x-jws-signature) and idempotency (x-idempotency-key) plug in here ==========
#
# The reference file (confirmation-funds-openapi.yaml) declares both headers among its
# components, but none of its operations uses them, and the OBIE v4.0 documents say why:
#
# * Funds Confirmation Consent and Funds Confirmation resources, Endpoints: "Message Signing: No"
#   and "Idempotency Key: No" for each of POST /funds-confirmation-consents, GET and DELETE
#   /funds-confirmation-consents/{ConsentId} and POST /funds-confirmations;
# * Confirmation of Funds API Profile, Idempotency: "The API endpoints for creating
#   funds-confirmation-consent and funds-confirmation resources are not idempotent. If a
#   time-out error occurs, we would expect a CBPII to create a new resource ... the availability
#   of funds may have changed between requests."
#
# So at merge both layers attach here, to these endpoints, in their "not required" form: a
# request without either header is served as now. A stored answer must never be replayed for
# POST /funds-confirmations (it would report a balance that may have changed since); a repeated
# Reference is refused instead (U013, gateway.consents.funds_confirmation.confirm).
#
#   endpoint                  operation (for the layers' keys)
#   cbpii.create_consent      CreateFundsConfirmationConsents    POST
#   cbpii.get_consent         GetFundsConfirmationConsentsConsentId
#   cbpii.delete_consent      DeleteFundsConfirmationConsentsConsentId
#   cbpii.confirm_funds       CreateFundsConfirmations           POST
#
# e.g. ``jws.protect(bp, required=False)`` and ``idempotency.protect(bp, required=False)``.
# ================================================================================================

# Route modules register their views on bp.
from gateway.api.cbpii import consents, funds_confirmations  # noqa: E402, F401
