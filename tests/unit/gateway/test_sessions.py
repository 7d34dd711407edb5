"""Session cookie flags."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, session

from gateway.app import create_app


@pytest.fixture(scope="module")
def cookie_app(database_url: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"})

    @app.get("/_login")
    def login() -> str:
        session["who"] = "me"
        return "ok"

    @app.get("/open-banking/_whoami")
    def api_reads_the_session() -> str:
        return str(session.get("who"))

    @app.get("/open-banking/_login")
    def api_writes_the_session() -> str:
        session["who"] = "api"
        return "ok"

    yield app
    app.extensions["database"].dispose()


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [
        ("https://bank.example", True),
        ("http://bank.example", True),
        ("https://localhost", True),
        ("http://localhost", False),
        ("http://127.0.0.1:5000", False),
    ],
)
def test_cookie_is_secure_except_on_plain_http_loopback(
    cookie_app: Flask, base_url: str, secure: bool
) -> None:
    cookie = cookie_app.test_client().get("/_login", base_url=base_url).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure


def test_secure_can_be_forced(database_url: str) -> None:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
         "SESSION_COOKIE_SECURE": True}
    )  # fmt: skip

    @app.get("/_login")
    def login() -> str:
        session["who"] = "me"
        return "ok"

    assert "Secure" in app.test_client().get("/_login").headers["Set-Cookie"]
    app.extensions["database"].dispose()


def test_the_apis_neither_read_nor_write_the_browser_session(cookie_app: Flask) -> None:
    browser = cookie_app.test_client()
    browser.get("/_login", base_url="http://localhost")
    assert browser.get("/open-banking/_whoami", base_url="http://localhost").text == "None"
    # Writing fails loudly (a null session) instead of issuing a cookie to an API client.
    response = browser.get("/open-banking/_login", base_url="http://localhost")
    assert response.status_code == 500 and "Set-Cookie" not in response.headers
