"""UK Open Banking Read/Write API v4.0: Payment Initiation (``/open-banking/v4.0/pisp``).

Request bodies are validated against the reference file itself
(``specs/reference/obie-v4.0/payment-initiation-openapi.yaml``, see
:mod:`gateway.api.reference`).
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.blueprints import BlueprintSetupState

from gateway.api import reference
from gateway.api.common import accepts_json
from gateway.api.message_signing import protect_blueprint

# Every request body is signed by the partner and every response body by the bank (OBIE
# Read/Write Data API Profile v4.0, Message Signing); every POST carries an idempotency key
# (gateway.api.idempotency, on each view).
bp = protect_blueprint(Blueprint("pisp", __name__, url_prefix="/open-banking/v4.0/pisp"))
REFERENCE_FILE = "payment-initiation-openapi.yaml"
# The Variable Recurring Payments file, served under the same prefix (pisp.vrp).
VRP_REFERENCE_FILE = "vrp-openapi.yaml"


@bp.record_once
def _preload_reference(_state: BlueprintSetupState) -> None:
    # Read the reference file when the application is made, not on its first payment request.
    reference.preload(REFERENCE_FILE)
    reference.preload(VRP_REFERENCE_FILE)


@bp.before_request
def _negotiate() -> None:
    # A file payment's uploaded file is downloaded in its own media type (pisp.files).
    if request.endpoint != "pisp.download_file":
        accepts_json()


# Route modules register their views on bp.
from gateway.api.pisp import (  # noqa: E402, F401
    domestic,
    files,
    international,
    international_scheduled,
    international_standing_orders,
    scheduled,
    standing_orders,
    vrp,
)
