"""This request and its ``g``, as the objects themselves.

Every use of Flask's ``request`` or ``g`` proxy looks the context up again
(about a microsecond each; Flask's "Notes On Proxies" names ``_get_current_object`` as the way to
the object behind one). The edge and authentication steps that run on every API call, and use
them several times each, take the objects once.
"""

from __future__ import annotations

from flask import Request, g, request
from flask.ctx import _AppCtxGlobals


def this_request() -> Request:
    """The request being handled (outside one: ``RuntimeError``, as the proxy raises)."""
    found: Request = request._get_current_object()  # type: ignore[attr-defined]
    return found


def this_g() -> _AppCtxGlobals:
    """The ``g`` of the request being handled."""
    found: _AppCtxGlobals = g._get_current_object()
    return found
