"""UK Open Banking Read/Write API v4.0: Account Information (``/open-banking/v4.0/aisp``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("aisp", __name__, url_prefix="/open-banking/v4.0/aisp")

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
