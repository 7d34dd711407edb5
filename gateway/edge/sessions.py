"""Browser sessions (the developer portal, the customer's sign-in and consent pages).

Sessions live server-side in the shared store (Flask-Session over Redis, or the in-process
stand-in): the cookie carries only a random id, so signing out ends the session everywhere and a
copied cookie dies with it. A sign-in gets a new id (:func:`regenerate`) against fixation. A
session ends after ``PERMANENT_SESSION_LIFETIME`` seconds without a request.

The cookie is HttpOnly, SameSite=Lax, and Secure except on a loopback development URL: with
``GATEWAY_SESSION_COOKIE_SECURE=auto`` (the default) it is ``Secure`` on every host but
``localhost``/``127.0.0.1``/``[::1]`` over plain http, where a developer's tools (and
non-browser clients such as load generators) would otherwise never send it back; ``true`` or
``false`` force it.

The resource APIs never use a browser session: under ``/open-banking/`` the session is Flask's
null session (nothing is read, and a write fails instead of setting a cookie).
"""

from __future__ import annotations

from typing import Any

import redis
from flask import Flask, Request, current_app, request, session
from flask_session.base import ServerSideSession
from flask_session.redis import RedisSessionInterface

LOOPBACK = ("localhost", "127.0.0.1", "[::1]", "::1")
API_PREFIX = "/open-banking/"


class SessionInterface(RedisSessionInterface):  # type: ignore[misc]
    """Server-side sessions with the ``auto`` Secure rule and no session on the APIs."""

    def __init__(self, app: Flask, store: redis.Redis) -> None:
        super().__init__(app, client=store, key_prefix="session:", permanent=False, sid_length=32)

    def open_session(self, app: Flask, request: Request) -> Any:
        """The browser session, or the null session on the APIs."""
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Whether the session cookie carries ``Secure`` for this request."""
        setting = app.config.get("SESSION_COOKIE_SECURE", "auto")
        if setting != "auto":
            return bool(setting)
        host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else "[::1]"
        return request.is_secure or host not in LOOPBACK


def regenerate() -> None:
    """Give the current session a new id and drop the stored one (call at every sign-in, with
    the session already holding what the sign-in stores)."""
    interface = current_app.session_interface
    current = session._get_current_object()  # type: ignore[attr-defined]
    if isinstance(interface, SessionInterface) and isinstance(current, ServerSideSession):
        interface.regenerate(current)


def init_app(app: Flask, store: redis.Redis) -> None:
    """Install the session interface, keeping sessions in ``store``."""
    app.session_interface = SessionInterface(app, store)
