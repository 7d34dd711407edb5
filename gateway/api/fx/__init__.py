"""Foreign exchange (ours, versioned on its own, in OBIE's conventions): the sandbox bank's mid
rates, its corridors, and quotes that lock a rate for an international payment to cite.

``/open-banking/extensions/v1/fx``: a client-credentials token of the partner's app with the
``payments`` scope; Data/Links/Meta bodies, ``OBErrorResponse1`` errors with the internal code
set's codes, amounts and rates as decimal strings.

* :mod:`.bodies`: the request's schema and the response bodies (no Flask);
* :mod:`.views`: ``GET /rates``, ``GET /corridors``, ``POST /quotes``,
  ``GET /quotes/{ContractIdentification}``.
"""

from __future__ import annotations

from flask import Blueprint

from gateway.api.common import accepts_json

PREFIX = "/open-banking/extensions/v1/fx"
bp = Blueprint("fx_api", __name__, url_prefix=PREFIX)
bp.before_request(accepts_json)

from gateway.api.fx import views  # noqa: E402, F401

__all__ = ["PREFIX", "bp"]
