"""Idempotency keys of the payment initiation, VRP and confirmation of funds APIs, and of the
financing API's POSTs that move money (accepting a loan offer, repaying a loan early): every
such POST carries ``x-idempotency-key``; a retry of the same request within 24 hours is
answered as the first was, byte for byte, and creates nothing; the key used for another request
is refused.

How a family's view plugs it in (``@idempotent`` under the route, so that the key is claimed
before the view does anything, and after any decorator that checks the token)::

    @bp.post("/domestic-payment-consents")
    @idempotent("domestic-payment-consents")
    def create_consent() -> ResponseReturnValue: ...

* :mod:`.keys`: the header's rules, the operations that take a key, when two requests are the
  same (no Flask);
* :mod:`.models`, :mod:`.store`: the keys in the database, claimed in the request's own unit of
  work (no Flask);
* :mod:`.guard`: :func:`idempotent`, and :func:`record`, the edge's finishing step that stores
  the final response before the commit; :func:`replaying`, for a layer that signs responses;
* :mod:`.views`: ``GET /open-banking/extensions/v1/idempotency-keys/{IdempotencyKey}``, the
  lookup of a lost response (ours, not OBIE's: hence ``extensions``);
* :mod:`.cli`: ``gateway idempotency purge``, which deletes the expired keys.
"""

from __future__ import annotations

from flask import Blueprint

from gateway.api.common import accepts_json

# Our own additions to the standard's APIs, outside its paths (/open-banking/v4.0/...), versioned
# on their own; under /open-banking/ so that the edge treats them as APIs (token, rate limits,
# OBIE error bodies, no browser session).
PREFIX = "/open-banking/extensions/v1"
bp = Blueprint("idempotency_api", __name__, url_prefix=PREFIX)
bp.before_request(accepts_json)

from gateway.api.idempotency import views  # noqa: E402, F401
from gateway.api.idempotency.guard import idempotent, record, replaying  # noqa: E402

__all__ = ["PREFIX", "bp", "idempotent", "record", "replaying"]
