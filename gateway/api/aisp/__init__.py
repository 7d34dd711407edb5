"""UK Open Banking Read/Write API v4.0: Account Information (``/open-banking/v4.0/aisp``)."""

from __future__ import annotations

from flask import Blueprint, request

from gateway.api.common import accepts_json

bp = Blueprint("aisp", __name__, url_prefix="/open-banking/v4.0/aisp")


@bp.before_request
def _negotiate() -> None:
    # The statement file is a PDF: it negotiates for itself (gateway.api.aisp.statements).
    if request.endpoint != "aisp.statement_file":
        accepts_json()


# Route modules register their views on bp.
from gateway.api.aisp import (  # noqa: E402, F401
    accounts,
    balances,
    beneficiaries,
    consents,
    direct_debits,
    parties,
    products,
    scheduled_payments,
    standing_orders,
    statements,
    transactions,
)
