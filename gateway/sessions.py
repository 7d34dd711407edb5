"""Session cookies: HttpOnly, SameSite=Lax, and Secure except on a loopback development URL.

With ``GATEWAY_SESSION_COOKIE_SECURE=auto`` (the default) the cookie is ``Secure`` on every host
but ``localhost``/``127.0.0.1``/``[::1]`` over plain http, where a developer's tools (and
non-browser clients such as load generators) would otherwise never send it back; ``true`` or
``false`` force it.
"""

from __future__ import annotations

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

LOOPBACK = ("localhost", "127.0.0.1", "[::1]", "::1")
# The resource APIs authenticate clients by their tokens, never by a browser session.
API_PREFIX = "/open-banking/"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the ``auto`` Secure rule."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The browser session, except on the APIs: there any use of it fails loudly (a null
        session), and no cookie is read or signed."""
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


def init_app(app: Flask) -> None:
    """Install the session interface."""
    app.session_interface = SessionInterface()
