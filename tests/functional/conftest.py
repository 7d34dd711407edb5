"""Fixtures of the HTTP flow tests: the gateway plus a protected stand-in resource, a client that
checks every Open Banking response against the reference files, and a registered partner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.fapi import protected_app
from tests.common.oauth import Partner, register_partner
from tests.common.obie import ConformingClient


@pytest.fixture(scope="module")
def oauth_app(database_url: str) -> Iterator[Flask]:
    """The gateway plus ``/_protected`` (scope ``accounts``), standing in for an API resource."""
    app = protected_app(database_url)
    app.test_client_class = ConformingClient
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def http(oauth_app: Flask) -> FlaskClient:
    """A client of :func:`oauth_app`."""
    return oauth_app.test_client()


@pytest.fixture
def partner(oauth_app: Flask, http: FlaskClient) -> Partner:
    """A sandbox partner with an app authenticating by private_key_jwt."""
    return register_partner(oauth_app, http)
