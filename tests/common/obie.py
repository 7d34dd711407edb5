"""Conformance to the UK Open Banking v4.0 reference files: every API response a test sees is
validated against its operation's response schema (openapi-core), and a violation fails the
test that made the request."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.validators import V30ResponseHeadersValidator
from openapi_schema_validator import OAS30Validator
from werkzeug.test import TestResponse

REFERENCE = Path(__file__).resolve().parents[2] / "specs" / "reference" / "obie-v4.0"
PUBLISHED = Path(__file__).resolve().parents[2] / "specs" / "openapi"
# The document each API's responses are checked against: the OBIE reference for the standard's
# APIs, our published ones for the sandbox API and the extensions (which follow OBIE's conventions).
FAMILIES = {
    "/open-banking/v4.0/aisp": REFERENCE / "account-info-openapi.yaml",
    "/open-banking/v4.0/cbpii": REFERENCE / "confirmation-funds-openapi.yaml",
    "/open-banking/v4.0/pisp": REFERENCE / "payment-initiation-openapi.yaml",
    "/open-banking/sandbox/v1": PUBLISHED / "sandbox-v1.json",
    "/open-banking/extensions/v1/fx": PUBLISHED / "fx-v1.json",
    "/open-banking/extensions/v1": PUBLISHED / "idempotency-v1.json",
    "/open-banking/financing/v1": PUBLISHED / "financing-v1.json",
}
# The VRP file's operations share the Payment Initiation prefix (its ``servers``): routed by path.
VRP_PATHS = ("/open-banking/v4.0/pisp/domestic-vrp", REFERENCE / "vrp-openapi.yaml")
# Operations whose reference response lists only JSON media types although the specification
# returns a file in its own format ("statement information ... in json and non-json (file)
# format"): a 200 of another media type is checked for its status and headers, not its body.
FILE_OPERATIONS = (
    re.compile(r"/open-banking/v4\.0/aisp/accounts/[^/]+/statements/[^/]+/file"),
    re.compile(r"/open-banking/v4\.0/pisp/file-payment-consents/[^/]+/file"),
    re.compile(r"/open-banking/v4\.0/pisp/file-payments/[^/]+/report-file"),
)
# Of those, the ones whose file may itself be JSON (a UK.OBIE.PaymentInitiation.4.0 payment file,
# a file payment's report): the reference's ``File`` schema admits no member at all, so a GET's
# 200 there is a file whatever its media type.
JSON_FILES = FILE_OPERATIONS[1:]


@functools.cache
def spec(path: Path) -> OpenAPI:
    """An OpenAPI document (loaded once per test session). The document itself is not checked:
    the payment initiation reference repeats ``WEEK`` in the ``OBFrequency6Code`` enum, which a
    strict OpenAPI validator refuses although every instance validates the same."""
    return OpenAPI.from_file_path(str(path), config=Config(spec_validator_cls=None))


def conform(
    method: str, path: str, query: str, headers: dict[str, str], response: TestResponse
) -> None:
    """Raise if ``response`` does not match its operation in the reference file."""
    family = next((prefix for prefix in FAMILIES if path.startswith(prefix)), None)
    if family is None:
        return
    document = VRP_PATHS[1] if path.startswith(VRP_PATHS[0]) else FAMILIES[family]
    request = MockRequest(
        "https://localhost", method.lower(), path, args=dict(_pairs(query)), headers=headers
    )
    body = response.get_data()
    if _file_download(method, path, response):
        assert body, "a file download must not be empty"
        mock = MockResponse(body, status_code=200, headers=dict(response.headers))
        V30ResponseHeadersValidator(spec(document).spec).validate(request, mock)
        return
    mock = MockResponse(
        body,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=(response.mimetype or "application/json") if body else None,
    )
    spec(document).validate_response(request, mock)


def _file_download(method: str, path: str, response: TestResponse) -> bool:
    if response.status_code != 200 or method.upper() != "GET":
        return False
    if any(pattern.fullmatch(path) for pattern in JSON_FILES):
        return True
    is_json = (response.mimetype or "").endswith("json")
    return not is_json and any(pattern.fullmatch(path) for pattern in FILE_OPERATIONS)


@functools.cache
def _document(filename: str) -> dict[str, Any]:
    with (REFERENCE / filename).open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def conforms_to(name: str, instance: Any, filename: str = "account-info-openapi.yaml") -> None:
    """Raise unless ``instance`` is valid against the reference's component schema ``name``
    (such as ``OBBeneficiary5Basic``: the response schemas only name the union of the Basic
    and Detail variants)."""
    schema = {
        "$ref": f"#/components/schemas/{name}",
        "components": _document(filename)["components"],
    }
    OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER).validate(instance)


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
