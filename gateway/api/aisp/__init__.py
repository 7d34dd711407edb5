"""UK Open Banking Read/Write API v4.0: Account Information (``/open-banking/v4.0/aisp``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("aisp", __name__, url_prefix="/open-banking/v4.0/aisp")

# Route modules register their views on bp.
from gateway.api.aisp import accounts, balances, consents, transactions  # noqa: E402, F401
