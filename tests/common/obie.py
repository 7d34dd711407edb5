"""Conformance to the UK Open Banking v4.0 reference files: every API response a test sees is
validated against its operation's response schema (openapi-core), and a violation fails the
test that made the request."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.test import TestResponse

REFERENCE = Path(__file__).resolve().parents[2] / "specs" / "reference" / "obie-v4.0"
FAMILIES = {"/open-banking/v4.0/aisp": "account-info-openapi.yaml"}


@functools.cache
def spec(filename: str) -> OpenAPI:
    """The reference OpenAPI document (loaded once per test session)."""
    return OpenAPI.from_file_path(str(REFERENCE / filename))


def conform(
    method: str, path: str, query: str, headers: dict[str, str], response: TestResponse
) -> None:
    """Raise if ``response`` does not match its operation in the reference file."""
    family = next((prefix for prefix in FAMILIES if path.startswith(prefix)), None)
    if family is None:
        return
    request = MockRequest(
        "https://localhost", method.lower(), path, args=dict(_pairs(query)), headers=headers
    )
    body = response.get_data()
    mock = MockResponse(
        body,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=(response.mimetype or "application/json") if body else None,
    )
    spec(FAMILIES[family]).validate_response(request, mock)


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


class ConformingClient(FlaskClient):
    """A test client that validates every Open Banking API response it receives."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # type: ignore[override]
        response = super().open(*args, **kwargs)
        request = response.request
        headers = {k: v for k, v in request.headers.items()}
        conform(request.method, request.path, request.query_string.decode(), headers, response)
        return response


def body(response: TestResponse) -> Any:
    """The JSON body of a response."""
    return json.loads(response.get_data())
