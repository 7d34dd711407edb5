"""Session cookies: HttpOnly, SameSite=Lax, and Secure except on a loopback development URL.

With ``GATEWAY_SESSION_COOKIE_SECURE=auto`` (the default) the cookie is ``Secure`` on every host
but ``localhost``/``127.0.0.1``/``[::1]`` over plain http, where a developer's tools (and
non-browser clients such as load generators) would otherwise never send it back; ``true`` or
``false`` force it.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

LOOPBACK = ("localhost", "127.0.0.1", "[::1]", "::1")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the ``auto`` Secure rule."""

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
