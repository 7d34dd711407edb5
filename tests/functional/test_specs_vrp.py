"""The published VRP document (``specs/openapi/vrp-v4.0.json``): every operation of the VRP
reference, served under the Payment Initiation prefix, with the reference's own request bodies
and responses; and none of them in the Payment Initiation document."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from gateway.apidocs.common import served
from gateway.apidocs.reference import reference_document
from tests.functional.test_specs import REFERENCE, committed, operations

PREFIX = "/open-banking/v4.0/pisp"


def test_every_operation_of_the_vrp_reference_is_served_and_documented(app: Flask) -> None:
    document = committed("vrp-v4.0")
    reference = reference_document(REFERENCE / "vrp-openapi.yaml")
    vrp = {op for op in served(app, ["pisp"], PREFIX) if op[0].startswith("/domestic-vrp")}
    assert vrp == operations(document) == operations(reference)
    assert document["x-not-served"] == []
    assert document["servers"] == [{"url": PREFIX}]
    assert not operations(document) & operations(committed("pisp-v4.0"))


def test_the_document_is_valid_openapi_3_0() -> None:
    document = committed("vrp-v4.0")
    assert document["openapi"].startswith("3.0.")
    validate(document)


def test_request_bodies_are_the_references(app: Flask) -> None:
    document = committed("vrp-v4.0")
    reference = reference_document(REFERENCE / "vrp-openapi.yaml")
    for path, method in operations(document):
        ours = document["paths"][path][method].get("requestBody")
        if ours is None:
            continue
        theirs: dict[str, Any] = reference["paths"][path][method]["requestBody"]
        assert "application/jose+jwe" not in ours["content"]
        for media_type, content in ours["content"].items():
            assert content == theirs["content"][media_type], (path, method, media_type)


def test_the_docs_page_shows_it(client: FlaskClient) -> None:
    response = client.get("/docs/vrp")
    assert response.status_code == 200
    assert "/specs/vrp-v4.0.json" in response.get_data(as_text=True)
    with client.get("/specs/vrp-v4.0.json") as published:
        assert published.get_json()["info"]["title"].startswith("Variable Recurring Payments")
