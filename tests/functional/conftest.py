"""Fixtures of the HTTP flow tests: the gateway plus a protected stand-in resource, and a client
that checks every Open Banking response against the reference files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, g, jsonify
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.oauth.protector import require_token
from tests.common.obie import ConformingClient


@pytest.fixture(scope="module")
def oauth_app(database_url: str) -> Iterator[Flask]:
    """The gateway plus ``/_protected`` (scope ``accounts``), standing in for an API resource."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"})

    @app.get("/_protected")
    @require_token("accounts")
    def protected() -> object:
        return jsonify(consent=g.token.consent_id, customer=g.token.customer_id)

    app.test_client_class = ConformingClient
    yield app
    app.extensions["database"].engine.dispose()


@pytest.fixture
def http(oauth_app: Flask) -> FlaskClient:
    """A client of :func:`oauth_app`."""
    return oauth_app.test_client()
