"""The financing API (``/open-banking/financing/v1``): loan products and quotes.

No open banking standard covers loan origination, so this API is our own, in OBIE's conventions:
the Data/Links/Meta envelope, ``OBErrorResponse1`` errors with codes of the OB internal code
set, amounts as decimal strings with their currency, FAPI headers, and a client-credentials
token with the ``financing`` scope (the scope a partner's FINANCING role registers). A lending
marketplace lists the products and prices a loan (schedule, cash flows, APR, representative
example) before any customer is involved.
"""

from __future__ import annotations

from flask import Blueprint

from gateway.api.common import accepts_json

PREFIX = "/open-banking/financing/v1"
bp = Blueprint("financing", __name__, url_prefix=PREFIX)
bp.before_request(accepts_json)

# Route modules register their views on bp.
from gateway.api.financing import applications, loans, offers, views  # noqa: E402, F401
