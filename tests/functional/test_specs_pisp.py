"""The published Payment Initiation document (``specs/openapi/pisp-v4.0.json``): exactly the
operations the app serves, with the reference's own request bodies (which the views validate
against), and the reference's responses."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from gateway.apidocs.reference import reference_document
from tests.functional.test_specs import REFERENCE, committed, operations, served_by

PREFIX = "/open-banking/v4.0/pisp"
FILE_UPLOAD = "/file-payment-consents/{ConsentId}/file"


def test_every_served_payment_route_is_documented_and_no_other(app: Flask) -> None:
    document = committed("pisp-v4.0")
    # The blueprint serves the VRP file's operations too: those are in vrp-v4.0.json.
    served = {op for op in served_by(app, "pisp", PREFIX) if not op[0].startswith("/domestic-vrp")}
    assert served == operations(document)
    assert ("/domestic-payments", "post") in operations(document)
    assert ("/file-payments/{FilePaymentId}/report-file", "get") in operations(document)
    not_served = {(op["path"], op["method"]) for op in document["x-not-served"]}
    assert ("/international-payments", "post") in operations(document)
    for family in ("payments", "scheduled-payments", "standing-orders"):
        assert (f"/international-{family}", "post") in operations(document)
    # Every operation of the Payment Initiation reference is served.
    assert not_served == set()


def test_request_bodies_are_the_references(app: Flask) -> None:
    document = committed("pisp-v4.0")
    reference = reference_document(REFERENCE / "payment-initiation-openapi.yaml")
    for path, method in operations(document):
        ours = document["paths"][path][method].get("requestBody")
        if ours is None:
            continue
        theirs: dict[str, Any] = reference["paths"][path][method]["requestBody"]
        assert "application/jose+jwe" not in ours["content"]
        for media_type, content in ours["content"].items():
            if media_type not in theirs["content"]:
                # A pain.001 payment file is uploaded as XML, which the reference does not list.
                assert (path, method, media_type) == (FILE_UPLOAD, "post", "application/xml")
                continue
            assert content == theirs["content"][media_type], (path, method, media_type)


def test_the_docs_page_shows_it(client: FlaskClient) -> None:
    response = client.get("/docs/pisp")
    assert response.status_code == 200
    assert "/specs/pisp-v4.0.json" in response.get_data(as_text=True)
    with client.get("/specs/pisp-v4.0.json") as published:
        assert published.get_json()["servers"] == [{"url": PREFIX}]
