"""The guard of a view that creates (:func:`idempotent`) and the recorder of its response
(:func:`record`).

What happens to a POST of a guarded view, in order:

1. The edge's first hook identifies the token (as for every API call).
2. :func:`idempotent`, before the view: the token (401 without a live one; 403 without the
   operation's family scope), the header's rules (:mod:`~gateway.api.idempotency.keys`), then the
   claim of the key in the request's unit of work (:func:`~gateway.api.idempotency.store.claim`),
   which may wait for a concurrent request with the same key. A new key runs the view; the same
   request answered before is answered again as it was, without running the view; the key used
   for another request is refused (400 ``U006``); a key still in progress is refused (409
   ``U029``).
3. Every ``after_request`` hook of the blueprint and the app, among them the layer that signs
   responses (``x-jws-signature``). A replayed response is already the final one: such a layer
   leaves it as it is when :func:`replaying` says so.
4. The edge's last hook runs its finishing steps, :func:`record` among them, then commits: the
   final response of a success (status below 400) is stored with the key, in the transaction
   that creates the resource; a failure stores nothing and frees the key (its writes roll back,
   so a retry with the same key runs anew).

:func:`record` runs after every ``after_request`` hook because the edge's hooks are registered
first (Flask runs ``after_request`` hooks in reverse order of registration, the blueprint's
before the app's). Code that makes a response outside that path calls :func:`record` itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import Response, current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy import inspect

from gateway.api.idempotency import keys, store
from gateway.api.idempotency.models import IdempotencyKey
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session
from gateway.oauth.protector import current_token

P = ParamSpec("P")
# app.extensions[CLOCK]: the time the keys live by (a callable; tests inject their own).
CLOCK = "idempotency.clock"
# Every grant's token may post: consents with client credentials, payment orders with the
# customer's.
_ANY_GRANT = ("client_credentials", "authorization_code", "refresh_token")
_CLAIMED = "idempotency_claimed"
_REPLAYED = "idempotency_replayed"


def now() -> dt.datetime:
    """The current time of the keys' lifetimes (aware, UTC)."""
    clock: Callable[[], dt.datetime] = current_app.extensions.get(CLOCK, _system_time)
    return clock()


def _system_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def idempotent(
    operation: str,
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, ResponseReturnValue]]:
    """Guard a view of ``operation`` (a key of :data:`~gateway.api.idempotency.keys.OPERATIONS`)
    with the request's ``x-idempotency-key`` (see the module's docstring)."""
    if operation not in keys.OPERATIONS:
        raise ValueError(f"{operation!r} is not an operation that takes an idempotency key")

    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            stored = _claim(operation)
            return stored if stored is not None else view(*args, **kwargs)

        return guarded

    return decorate


def _claim(operation: str) -> Response | None:
    token = current_token(scope=keys.OPERATIONS[operation], grant_types=_ANY_GRANT)
    scope = store.Scope(token.client_id, operation, header_key())
    body = request.get_data(cache=True)
    fingerprint = keys.fingerprint(request.method, request.path, body, is_json=request.is_json)
    outcome = store.claim(get_session(), scope, fingerprint, now=now())
    if isinstance(outcome, store.Claimed):
        setattr(g, _CLAIMED, outcome.row)
        return None
    if isinstance(outcome, store.Replay):
        setattr(g, _REPLAYED, True)
        return replay(outcome.row)
    if isinstance(outcome, store.Mismatch):
        # The key names another request. U006 Header.Invalid (400: "An invalid value is supplied
        # in the HTTP header", the header in Path): the header is what is wrong, the request must
        # not be retried as it is, and nothing it asks for was done. Not U029 (409, "a resource
        # with same parameters already exists"): its parameters differ, and U029 means "in
        # progress, retry" below.
        raise ApiError.one(
            "U006",
            f"{keys.HEADER} was used in the last 24 hours for another request to this "
            "operation (another body or path): send a new key for a new request",
            path=keys.HEADER,
        )
    # U029 Rules.ResourceAlreadyExists (409): "in a state that doesn't allow requested operation".
    raise ApiError.one(
        "U029",
        f"a request with this {keys.HEADER} is still in progress: retry shortly",
        status=409,
    )


def header_key() -> str:
    """The request's ``x-idempotency-key``; a 400 when it is missing or breaks its rules."""
    raw = request.headers.get(keys.HEADER)
    if raw is None:
        # U007 Header.Missing: the OBIE files mark the header required.
        raise ApiError.one("U007", f"{keys.HEADER} is required", path=keys.HEADER)
    try:
        # WSGI hands header values over as Latin-1: the key is the UTF-8 text the partner sent.
        key = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise ApiError.one("U006", f"{keys.HEADER} must be UTF-8 text", path=keys.HEADER) from None
    problem = keys.problem(key)
    if problem is not None:
        # U006 Header.Invalid: maxLength 40 and the pattern of the OBIE files.
        raise ApiError.one("U006", problem, path=keys.HEADER)
    return key


def replay(row: IdempotencyKey) -> Response:
    """The response stored with ``row``, as it was: status, the kept headers, the body."""
    headers = dict(row.headers or {})
    response = current_app.response_class(row.body or b"", status=row.status, headers=headers)
    if "Content-Type" not in headers:
        del response.headers["Content-Type"]  # the stored response had none
    return response


def replaying() -> bool:
    """Whether this request is answered with a stored response (which a signing layer must
    leave as it is: it carries the signature it was first sent with)."""
    return bool(g.get(_REPLAYED, False))


def record(response: Response) -> Response:
    """Store ``response`` with the key this request claimed, if it claimed one: the edge's
    finishing step (see the module's docstring), before the commit."""
    row: IdempotencyKey | None = g.pop(_CLAIMED, None)
    if row is None:
        return response
    session = get_session()
    if response.status_code >= 400:
        # Rolled back with the rest of the request, unless a view keeps its writes on an error.
        if g.get("commit_on_error") and inspect(row).persistent:
            store.release(session, row)
        return response
    headers = response.headers
    kept = {name: headers[name] for name in keys.REPLAYED_HEADERS if name in headers}
    store.keep(session, row, response.status_code, kept, response.get_data())
    return response
