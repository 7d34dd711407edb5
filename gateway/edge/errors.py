"""One error hierarchy, one JSON shape: OBIE ``OBErrorResponse1``.

Every error the gateway answers, including the ones Flask raises itself (404, 405, 413, 415) and
unexpected exceptions (500), is rendered here; the ones gunicorn answers before the application
sees the request (414, 431, a malformed request) take the same shape in
:mod:`gateway.edge.server_errors`. Error codes are the ``OBExternalStatusReason1Code``
values of the OB internal code set (``U002`` is ``UK.OBIE.Field.Invalid`` and so on). No stack trace
ever reaches a client: a 500 is logged with its interaction id and answered with ``U000``.

The errors the edge finds for a request of any family (:class:`EdgeError`: input it refuses, a
store that cannot serve) are answered in that family's format: the blueprint of the authorization
server registers a handler for :class:`EdgeError` that answers OAuth JSON, the pages' blueprints
one that answers a page; the rest (the APIs, and a URL no blueprint serves) get the OBIE body
here. An outage of Redis or of the database is such an error: a 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from gateway.core.errors import (
    BankCoreError,
    InsufficientFunds,
    InvalidInstruction,
    UnknownResource,
)
from gateway.edge import transaction
from gateway.store import database

log = logging.getLogger(__name__)

# OBExternalStatusReason1Code values (OB_Internal_CodeSet) and their names.
ERROR_CODES: dict[str, str] = {
    "U000": "UK.OBIE.UnexpectedError",
    "U001": "UK.OBIE.Field.Expected",
    "U002": "UK.OBIE.Field.Invalid",
    "U003": "UK.OBIE.Field.InvalidDate",
    "U004": "UK.OBIE.Field.Missing",
    "U005": "UK.OBIE.Field.Unexpected",
    "U006": "UK.OBIE.Header.Invalid",
    "U007": "UK.OBIE.Header.Missing",
    "U008": "UK.OBIE.Resource.ConsentMismatch",
    "U009": "UK.OBIE.Resource.InvalidConsentStatus",
    "U010": "UK.OBIE.Resource.InvalidFormat",
    "U011": "UK.OBIE.Resource.NotFound",
    "U012": "UK.OBIE.Rules.AfterCutOffDateTime",
    "U013": "UK.OBIE.Rules.DuplicateReference",
    "U014": "UK.OBIE.Rules.FailsControlParameters",
    "U015": "UK.OBIE.Signature.Invalid",
    "U016": "UK.OBIE.Signature.InvalidClaim",
    "U017": "UK.OBIE.Signature.MissingClaim",
    "U018": "UK.OBIE.Signature.Malformed",
    "U019": "UK.OBIE.Signature.Missing",
    "U020": "UK.OBIE.Signature.Unexpected",
    "U021": "UK.OBIE.Unsupported.AccountIdentifier",
    "U022": "UK.OBIE.Unsupported.AccountSecondaryIdentifier",
    "U023": "UK.OBIE.Unsupported.Currency",
    "U024": "UK.OBIE.Unsupported.EventType",
    "U025": "UK.OBIE.Unsupported.Frequency",
    "U026": "UK.OBIE.Unsupported.LocalInstrument",
    "U027": "UK.OBIE.Unsupported.Scheme",
    "U028": "UK.OBIE.Reauthenticate",
    "U029": "UK.OBIE.Rules.ResourceAlreadyExists",
    "U042": "UK.OBIE.OtherReason",
}


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of ``Errors``: a code, a message and, where it helps, the JSON path or header."""

    code: str
    message: str
    path: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"unknown OBIE error code {self.code!r}")

    def to_json(self) -> dict[str, str]:
        """Render as ``OBError1``."""
        body = {"ErrorCode": self.code, "Message": self.message[:500]}
        if self.path:
            body["Path"] = self.path[:500]
        if self.url:
            body["Url"] = self.url
        return body


class ApiError(Exception):
    """The root of every error the gateway answers on purpose."""

    status: int = 400

    def __init__(
        self,
        *details: ErrorDetail,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not details:
            raise ValueError("an ApiError needs at least one ErrorDetail")
        super().__init__(details[0].message)
        self.details = details
        if status is not None:
            self.status = status
        self.headers = headers or {}

    @classmethod
    def one(
        cls,
        code: str,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiError:
        """Build an error with a single detail."""
        return cls(ErrorDetail(code, message, path), status=status, headers=headers)


class EdgeError(Exception):
    """An error the edge answers for a request of any family, in the family's own format (see
    the module's docstring). ``code`` and ``path`` are its OBIE ``ErrorCode`` and ``Path``."""

    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "U002",
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = ErrorDetail(code, message, path)
        self.headers = headers or {}


class InputRefused(EdgeError):
    """A request that carries what no endpoint accepts (a control character, say): 400."""


class Unavailable(EdgeError):
    """A store the request needs cannot serve it now: 503, to be retried after ``Retry-After``."""

    status = 503
    RETRY_AFTER = "5"

    def __init__(self) -> None:
        super().__init__(
            "A service the gateway depends on is unavailable; retry later",
            code="U000",
            headers={"Retry-After": self.RETRY_AFTER},
        )


def error_document(
    status: int, details: Sequence[ErrorDetail], interaction_id: str
) -> dict[str, Any]:
    """Return ``OBErrorResponse1`` with the deprecated ``Code``/``Message`` kept for old clients;
    ``Id`` is the interaction id."""
    try:
        # The phrase as one word, letters and digits only: "Request-URI Too Long" is
        # "RequestURITooLong".
        phrase = "".join(ch for ch in HTTPStatus(status).phrase if ch.isalnum())
    except ValueError:
        phrase = "Error"
    return {
        "Code": f"{status} {phrase}",
        "Id": interaction_id,
        "Message": details[0].message[:500],
        "Errors": [detail.to_json() for detail in details],
    }


def error_response(
    status: int, details: tuple[ErrorDetail, ...], headers: dict[str, str] | None = None
) -> Response:
    """Render :func:`error_document` for the request's interaction id."""
    body = error_document(status, details, g.get("interaction_id") or str(uuid.uuid4()))
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# What Flask's own HTTP errors become: (ErrorCode, Path, message).
_HTTP_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("U010", None, "The request could not be parsed"),
    404: ("U011", None, "No resource at this path"),
    405: ("U010", None, "This resource does not take this method; Allow lists those it takes"),
    406: ("U006", "Accept", "The requested media type is not available"),
    413: ("U002", None, "The request body is larger than this endpoint accepts"),
    415: ("U006", "Content-Type", "Unsupported content type"),
}


def _http_error(exc: HTTPException) -> Response:
    if isinstance(exc.response, Response):
        # A response built by our own code (e.g. the rate limiter's 429): already OBIE-shaped.
        return exc.response
    status = exc.code or 500
    if status >= 500:
        return _unexpected(exc, status)
    code, path, message = _HTTP_ERRORS.get(status, ("U042", None, exc.name))
    if status == 413 and exc.description and "limit" in exc.description.lower():
        message = exc.description
    headers: dict[str, str] = {}
    if status == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    return error_response(status, (ErrorDetail(code, message, path),), headers)


def _unexpected(exc: BaseException, status: int = 500) -> Response:
    log.error("unexpected error, interaction id %s", g.get("interaction_id"), exc_info=exc)
    return error_response(
        status, (ErrorDetail("U000", "An unexpected error occurred; quote the Id to support"),)
    )


def _edge_error(exc: EdgeError) -> Response:
    return error_response(exc.status, (exc.detail,), exc.headers)


def _in_family_format(exc: EdgeError) -> ResponseReturnValue:
    """Answer ``exc`` as the request's family does: its blueprint's handler for it, or
    :func:`_edge_error`."""
    return current_app.handle_user_exception(exc)


def _store_unavailable(exc: RedisError) -> ResponseReturnValue:
    # The shared store answers the checks that must not be skipped (proof and assertion replay):
    # without it such a request is refused, as unavailable rather than as a fault of ours.
    log.warning("shared store unavailable, interaction id %s: %s", g.get("interaction_id"), exc)
    return _in_family_format(Unavailable())


def _database_error(exc: SQLAlchemyError) -> ResponseReturnValue:
    """A database that cannot serve (down, restarting, a dropped connection) is a 503 like Redis;
    text PostgreSQL cannot store (a NUL the edge could not see) is the caller's 400; the rest is
    ours. Whatever the request wrote is rolled back either way (the response is an error)."""
    transaction.discard()
    if database.unavailable(exc):
        log.warning("database unavailable, interaction id %s: %s", g.get("interaction_id"), exc)
        return _in_family_format(Unavailable())
    if database.refused_text(exc):
        return _in_family_format(InputRefused("The request contains a NUL character"))
    return _unexpected(exc)


def _bank_core_error(exc: BankCoreError) -> Response:
    if isinstance(exc, UnknownResource):
        return error_response(404, (ErrorDetail("U011", str(exc) or "Resource not found"),))
    if isinstance(exc, InsufficientFunds):
        return error_response(400, (ErrorDetail("U042", str(exc) or "Insufficient funds"),))
    if isinstance(exc, InvalidInstruction):
        return error_response(400, (ErrorDetail("U002", str(exc) or "Invalid instruction"),))
    return _unexpected(exc)


def init_app(app: Flask) -> None:
    """Register the handlers that render every error as ``OBErrorResponse1``."""
    app.register_error_handler(
        ApiError, lambda exc: error_response(exc.status, exc.details, exc.headers)
    )
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BankCoreError, _bank_core_error)
    app.register_error_handler(EdgeError, _edge_error)
    app.register_error_handler(RedisError, _store_unavailable)
    app.register_error_handler(SQLAlchemyError, _database_error)
    app.register_error_handler(Exception, _unexpected)
