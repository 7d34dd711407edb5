"""The published financing document (``specs/openapi/financing-v1.json``): valid OpenAPI, every
route of the financing blueprint and nothing else, its request body generated from the schema
that validates it, served with its docs page."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from gateway.api.financing import PREFIX
from gateway.api.financing import bp as financing_bp
from gateway.apidocs.common import SpecError, served
from gateway.apidocs.financing import build_financing
from tests.functional.test_specs import committed, operations


def test_the_document_lists_exactly_the_financing_routes(app: Flask) -> None:
    document = committed("financing-v1")
    assert operations(document) == served(app, [financing_bp.name], PREFIX) == {
        ("/products", "get"), ("/products/{ProductId}", "get"), ("/quotes", "post"),
        ("/loan-applications", "post"), ("/loan-applications/{ConsentId}", "get"),
        ("/loan-applications/{ConsentId}/acceptance", "post"), ("/loans", "get"),
        ("/loans/{LoanId}", "get"), ("/loans/{LoanId}/schedule", "get"),
        ("/loans/{LoanId}/payments", "get"), ("/loans/{LoanId}/balances", "get"),
        ("/loans/{LoanId}/early-repayment", "post"),
    }  # fmt: skip
    assert document["servers"] == [{"url": PREFIX}]
    flows = document["components"]["securitySchemes"]["FinancingClientCredentials"]["flows"]
    assert list(flows["clientCredentials"]["scopes"]) == ["financing"]


def test_the_document_is_valid_openapi_3_0() -> None:
    document = committed("financing-v1")
    assert document["openapi"].startswith("3.0.")
    validate(document)


def test_the_quote_body_is_generated_from_its_schema() -> None:
    schemas = committed("financing-v1")["components"]["schemas"]
    data = schemas["QuoteData"]
    assert set(data["required"]) == {"ProductId", "Amount", "Term"}
    assert set(data["properties"]) == {
        "ProductId", "Amount", "Term", "PricingBand", "FirstRepaymentDate"
    }  # fmt: skip
    assert data["additionalProperties"] is False


def test_an_application_is_created_with_201() -> None:
    operation = committed("financing-v1")["paths"]["/loan-applications"]["post"]
    assert "201" in operation["responses"] and "200" not in operation["responses"]
    applied = committed("financing-v1")["components"]["schemas"]["ApplicationData"]
    assert applied["required"] == ["Loan"]


def test_the_posts_that_move_money_take_an_idempotency_key() -> None:
    paths = committed("financing-v1")["paths"]
    for path in ("/loan-applications/{ConsentId}/acceptance", "/loans/{LoanId}/early-repayment"):
        names = [p.get("name") for p in paths[path]["parameters"]]
        assert "x-idempotency-key" in names, path
        assert "409" in paths[path]["post"]["responses"]


def test_a_financing_route_the_document_lacks_stops_the_build() -> None:
    probe = Flask("probe")
    bp = Blueprint(financing_bp.name, __name__, url_prefix=PREFIX)
    bp.add_url_rule("/offers", "offers", lambda: "")
    probe.register_blueprint(bp)
    with pytest.raises(SpecError, match="served only"):
        build_financing(probe)


def test_the_docs_page_shows_it(client: FlaskClient) -> None:
    response = client.get("/docs/financing")
    assert response.status_code == 200
    assert "/specs/financing-v1.json" in response.get_data(as_text=True)
    with client.get("/specs/financing-v1.json") as published:
        assert published.get_json() == committed("financing-v1")
