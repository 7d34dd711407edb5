"""The sandbox API (``/open-banking/sandbox/v1``): a partner's own sandbox bank, scripted.

Read the sandbox's clock, move it forward (running whatever falls due on the way: standing
orders, scheduled payments, card authorisations settling) and reset the sandbox to its seed, with
the client-credentials token of one of the organisation's sandbox apps (scope ``sandbox``). A
token acts on its own organisation's sandbox only; production apps have none. It lives under
``/open-banking/`` so that the edge treats it as an API: the token is identified and its app's
rate limits apply, browser sessions do not, and errors are OBIE ``OBErrorResponse1`` bodies.
"""

from __future__ import annotations

from flask import Blueprint

from gateway.api.common import accepts_json

PREFIX = "/open-banking/sandbox/v1"
bp = Blueprint("sandbox_api", __name__, url_prefix=PREFIX)
bp.before_request(accepts_json)

# Route modules register their views on bp.
from gateway.api.sandbox import arrivals, views  # noqa: E402, F401
