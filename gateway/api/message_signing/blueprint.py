"""Message signing on a blueprint: every request with a body is verified before its view runs,
every response with a body leaves signed.

:func:`protect_blueprint` registers both hooks. The request hook runs after the edge (which has
found the token) and before the view: it authenticates the token as the view will (a refused
token is the same 401), reads the token's app and verifies the ``x-jws-signature`` of a POST,
PUT or PATCH against the app's keys (:func:`.verification.verify_request`). A GET or DELETE has
no body to sign: a signature sent with one is ``U020`` Signature.Unexpected. What verified is
kept for the view (:func:`request_signature`), to be stored with what the request creates.

The response hook is :func:`sign_response`, which leaves alone a response that carries an
``x-jws-signature`` already (one replayed byte for byte) and can be called explicitly (to sign a
response before storing it). Blueprint ``after_request`` hooks run in the reverse order of their
registration, so a hook registered *after* :func:`protect_blueprint` runs *before* the signing:
one that must see the signed response calls :func:`sign_response` itself. A response that
cannot be signed (the database cannot give the key) is not sent: it becomes a 503, and the
request's writes are rolled back. Responses the edge answers after the blueprint's hooks (a
commit the database refuses) and paths no blueprint serves are not signed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, g, request
from joserfc.jwk import ECKey
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from gateway.api.message_signing.header import HEADER, malformed
from gateway.api.message_signing.signing import sign_body
from gateway.api.message_signing.verification import Signatory, Verified, verify_request
from gateway.edge import transaction
from gateway.edge.errors import ApiError, Unavailable, error_response
from gateway.edge.urls import issuer, trust_anchor
from gateway.oauth import keys, tokens
from gateway.oauth.protector import INVALID, TokenRefused, presented_token, unauthorised
from gateway.oauth.views import fetch_jwks_cached
from gateway.store.database import Database
from partners.models import App

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
# The methods whose body is signed; the others carry none.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# How long a worker signs with the key it read before reading the active key again. A rotated
# key stays published in /jwks until the next rotation, so its signatures keep verifying.
KEY_SECONDS = 60.0
_SIGNATORY = select(
    App.client_id, App.organisation_id, App.software_id, App.environment, App.jwks,
    App.jwks_uri, App.request_signing,
).where(App.client_id == bindparam("client_id"))  # fmt: skip


def protect_blueprint(bp: Blueprint, *, clock: Clock = tokens.now) -> Blueprint:
    """Verify the requests and sign the responses of ``bp`` (see the module's docstring);
    ``clock`` is the time signatures are checked and made at."""

    def verify() -> None:
        verify_this_request(clock())

    def sign(response: Response) -> Response:
        return sign_response(response, now=clock())

    bp.before_request(verify)
    bp.after_request(sign)
    return bp


def verify_this_request(now: dt.datetime) -> Verified | None:
    """Check this request's ``x-jws-signature`` at ``now``; raise an :class:`ApiError`."""
    signing_key()  # made before the view's unit of work if this is the first one
    values = request.headers.getlist(HEADER)
    has_body = request.method in BODY_METHODS
    if not has_body and not values:
        return None
    token = _authenticated()  # a refused token is a 401 whatever the signature
    if len(values) > 1:
        raise malformed("Send one x-jws-signature header, not several")
    if not has_body:
        # OB_Internal_CodeSet U020: a signature the request was not expected to carry.
        raise ApiError.one(
            "U020", f"A {request.method} request has no body to sign: send no x-jws-signature",
            path=HEADER,
        )  # fmt: skip
    verified = verify_request(
        _signatory(token.client_id), request.get_data(cache=True), values[0] if values else None,
        now=now, trust_anchor=trust_anchor(), fetch_jwks=fetch_jwks_cached,
    )  # fmt: skip
    g.message_signature = verified
    return verified


def request_signature() -> Verified | None:
    """The signature this request's body verified with (``None``: it carried none)."""
    verified: Verified | None = g.get("message_signature")
    return verified


def _authenticated() -> tokens.AccessToken:
    """This request's token, checked as the view will check it; 401 when refused."""
    try:
        return presented_token()
    except TokenRefused as exc:
        raise unauthorised(exc) from None


def _signatory(client_id: str) -> Signatory:
    row = transaction.get_reader().execute(_SIGNATORY, {"client_id": client_id}).first()
    if row is None:  # the app was deleted since the token was read
        raise unauthorised(TokenRefused(INVALID))
    return Signatory(**row._mapping)


def sign_response(response: Response, *, now: dt.datetime | None = None) -> Response:
    """Add an ``x-jws-signature`` over the body of ``response`` (which it returns), unless it
    has one already or no body. A 503 replaces it when the signing key cannot be read."""
    if HEADER in response.headers or response.is_streamed or response.direct_passthrough:
        return response
    body = response.get_data()
    if not body:
        return response
    try:
        kid, alg, key = signing_key()
    except SQLAlchemyError as exc:
        log.warning("cannot sign the response, interaction id %s: %s", g.get("interaction_id"),
                    exc.__class__.__name__)  # fmt: skip
        transaction.discard()
        unavailable = Unavailable()
        return error_response(unavailable.status, (unavailable.detail,), unavailable.headers)
    response.headers[HEADER] = sign_body(
        body, key=key, kid=kid, alg=alg, iss=issuer(), tan=trust_anchor(),
        now=now or tokens.now(),
    )  # fmt: skip
    return response


@dataclass(frozen=True, slots=True)
class _Kept:
    kid: str
    alg: str
    key: ECKey
    read_at: float


def signing_key() -> tuple[str, str, ECKey]:
    """The kid, algorithm and private key the bank signs with (the active key of its /jwks),
    read at most every :data:`KEY_SECONDS` by each worker."""
    kept: _Kept | None = current_app.extensions.get("message_signing_key")
    if kept is not None and time.monotonic() - kept.read_at < KEY_SECONDS:
        return kept.kid, kept.alg, kept.key
    found = keys.read_active(transaction.get_reader()) or _first_key()
    current_app.extensions["message_signing_key"] = _Kept(*found, time.monotonic())
    return found


def _first_key() -> tuple[str, str, ECKey]:
    """Make the first signing key, committed on its own when the request's unit of work has not
    begun (the request hook runs before the view, so it has not)."""
    if transaction.unit_of_work_open():
        kid, key = keys.active_key(transaction.get_session())
        return kid, keys.SIGNING_ALG, key
    database: Database = current_app.extensions["database"]
    with database.sessions.begin() as session:
        kid, key = keys.active_key(session)
    return kid, keys.SIGNING_ALG, key
