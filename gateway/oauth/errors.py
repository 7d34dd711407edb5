"""OAuth 2.0 error responses (RFC 6749 §5.2, RFC 6750 §3, RFC 9449 §7.1 and §8).

The authorization server's endpoints answer errors in the OAuth format, ``{"error": ...,
"error_description": ...}``, which is what OAuth client libraries parse; the resource APIs answer
OBIE ``OBErrorResponse1`` (see :mod:`gateway.edge.errors`).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from gateway.edge.errors import EdgeError, Unavailable


class OAuthError(Exception):
    """An OAuth error: ``error`` is the RFC's code, ``description`` a human explanation."""

    status = 400

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        if status is not None:
            self.status = status
        self.headers = headers or {}


def invalid_request(description: str) -> OAuthError:
    """The request is missing a parameter, repeats one, or is otherwise malformed."""
    return OAuthError("invalid_request", description)


def invalid_client(description: str, *, basic: bool = False) -> OAuthError:
    """Client authentication failed (RFC 6749 §5.2: 401, with a challenge for Basic)."""
    headers = {"WWW-Authenticate": 'Basic realm="gateway"'} if basic else {}
    return OAuthError("invalid_client", description, status=401, headers=headers)


def invalid_grant(description: str) -> OAuthError:
    """The code, refresh token or verifier is invalid, expired, revoked or not this client's."""
    return OAuthError("invalid_grant", description)


def invalid_dpop_proof(description: str) -> OAuthError:
    """The DPoP proof is missing or invalid (RFC 9449 §5.1)."""
    return OAuthError("invalid_dpop_proof", description)


def use_dpop_nonce(description: str, nonce: str) -> OAuthError:
    """The DPoP proof must carry a nonce of the server's: ``nonce``, given in the ``DPoP-Nonce``
    header (RFC 9449 §8 at the authorization server, §9 at a resource)."""
    return OAuthError("use_dpop_nonce", description, headers={"DPoP-Nonce": nonce})


def render(exc: OAuthError) -> Response:
    """Render an OAuth error as JSON, never cached."""
    response = jsonify(error=exc.error, error_description=exc.description)
    response.status_code = exc.status
    response.headers["Cache-Control"] = "no-store"
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def render_http_error(exc: HTTPException) -> Response:
    """An HTTP client error raised while an authorization-server view reads its request (a body
    over the size limit, one that cannot be parsed), in the OAuth format its clients parse."""
    status = exc.code or 400
    return render(OAuthError("invalid_request", exc.description or exc.name, status=status))


def render_edge_error(exc: EdgeError) -> Response:
    """An error the edge found for a request to the authorization server: input it refuses is
    ``invalid_request``; a store that cannot serve is ``temporarily_unavailable`` (the code
    RFC 6749 §4.1.2.1 gives the authorization endpoint for it) with a 503 and ``Retry-After``."""
    error = "temporarily_unavailable" if isinstance(exc, Unavailable) else "invalid_request"
    return render(OAuthError(error, exc.message, status=exc.status, headers=exc.headers))


def answer_in_oauth_format(blueprint: Blueprint) -> None:
    """Have ``blueprint`` (an authorization-server one) render the HTTP client errors raised in
    its views, and the errors the edge finds for its requests, in the OAuth format; the rest of
    the app renders them as OBIE errors."""
    for error in (BadRequest, RequestEntityTooLarge, UnsupportedMediaType):
        blueprint.register_error_handler(error, render_http_error)
    blueprint.register_error_handler(EdgeError, render_edge_error)


def init_app(app: Flask) -> None:
    """Render :class:`OAuthError` raised by any view."""
    app.register_error_handler(OAuthError, render)
