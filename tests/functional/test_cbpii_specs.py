"""The published Confirmation of Funds document (``specs/openapi/cbpii-v4.0.json``): exactly the
operations the app serves, the request schemas that validate them, and the headers the profile
leaves out. (That the committed file is what the code generates is checked for every document in
``test_specs.py``.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from gateway.api.cbpii import bp as cbpii_bp
from gateway.api.cbpii.schemas import FundsConfirmationConsentRequest, FundsConfirmationRequest
from gateway.apidocs.cbpii import REFERENCE, build_cbpii
from gateway.apidocs.common import SPECS_DIR, SpecError, served

PREFIX = "/open-banking/v4.0/cbpii"
METHODS = {"get", "put", "post", "delete", "patch"}


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SPECS_DIR / "cbpii-v4.0.json").read_text("utf-8"))
    return document


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_0() -> None:
    document = committed()
    assert document["openapi"].startswith("3.0.")
    validate(document)


def test_every_operation_of_the_reference_is_served_and_documented(app: Flask) -> None:
    reference = yaml.load(REFERENCE.read_text("utf-8"), Loader=yaml.CSafeLoader)
    document = committed()
    assert served(app, [cbpii_bp.name], PREFIX) == operations(document) == operations(reference)
    assert operations(document) == {
        ("/funds-confirmation-consents", "post"),
        ("/funds-confirmation-consents/{ConsentId}", "get"),
        ("/funds-confirmation-consents/{ConsentId}", "delete"),
        ("/funds-confirmations", "post"),
    }
    assert document["x-not-served"] == []
    assert document["servers"] == [{"url": PREFIX}]
    assert "application/jose+jwe" not in json.dumps(document)


def test_a_served_route_the_reference_lacks_stops_the_build() -> None:
    app = Flask("probe")
    bp = Blueprint(cbpii_bp.name, __name__, url_prefix=PREFIX)
    bp.add_url_rule("/funds-confirmations/<confirmation_id>", "read", lambda confirmation_id: "")
    app.register_blueprint(bp)
    with pytest.raises(SpecError, match=r"GET /funds-confirmations/\{ConfirmationId\}"):
        build_cbpii(app)


def test_the_headers_the_profile_does_not_use_are_not_published() -> None:
    # Declared among the reference's components, used by none of its operations: Message
    # Signing "No", Idempotency Key "No" (Confirmation of Funds v4.0, Endpoints).
    reference = yaml.load(REFERENCE.read_text("utf-8"), Loader=yaml.CSafeLoader)
    assert {"x-idempotency-key", "x-jws-signature"} <= set(reference["components"]["parameters"])
    document = committed()
    assert not {"x-idempotency-key", "x-jws-signature"} & set(document["components"]["parameters"])
    for path, method in operations(document):
        used = json.dumps(document["paths"][path][method].get("parameters", []))
        assert "idempotency" not in used and "jws" not in used, (path, method)
    # The description tells partners so.
    description = " ".join(document["info"]["description"].split())
    assert "no `x-idempotency-key` and no `x-jws-signature`" in description


@pytest.mark.parametrize(
    ("path", "schema", "name"),
    [
        ("/funds-confirmation-consents", FundsConfirmationConsentRequest,
         "FundsConfirmationConsentRequest"),
        ("/funds-confirmations", FundsConfirmationRequest, "FundsConfirmationRequest"),
    ],
)  # fmt: skip
def test_the_request_schemas_are_the_marshmallow_ones(path: str, schema: type, name: str) -> None:
    document = committed()
    body = document["paths"][path]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
    }
    published = document["components"]["schemas"][name]
    assert set(published["properties"]) == set(schema().fields) == {"Data"}
    assert published["additionalProperties"] is False


CONSENT = {"Data": {"DebtorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber",
                                      "Identification": "40000012345678"}}}  # fmt: skip
CONFIRMATION = {"Data": {"ConsentId": "cof-1", "Reference": "r-1",
                         "InstructedAmount": {"Amount": "20.00", "Currency": "GBP"}}}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "body", "valid"),
    [
        ("FundsConfirmationConsentRequest", CONSENT, True),
        ("FundsConfirmationConsentRequest", {"Data": {}}, False),
        ("FundsConfirmationConsentRequest", {**CONSENT, "Risk": {}}, False),
        ("FundsConfirmationConsentRequest",
         {"Data": {**CONSENT["Data"], "ExpirationDateTime": "2099-12-31T23:59:59+00:00"}}, True),
        ("FundsConfirmationRequest", CONFIRMATION, True),
        ("FundsConfirmationRequest", {"Data": {**CONFIRMATION["Data"], "Reference": "r" * 36}},
         False),
        ("FundsConfirmationRequest",
         {"Data": {**CONFIRMATION["Data"], "InstructedAmount": {"Amount": "1,00",
                                                                "Currency": "GBP"}}}, False),
        ("FundsConfirmationRequest",
         {"Data": {**CONFIRMATION["Data"], "InstructedAmount": {"Amount": "1.00",
                                                                "Currency": "gbp"}}}, False),
    ],
)  # fmt: skip
def test_the_published_schema_accepts_what_the_gateway_accepts(
    name: str, body: dict[str, Any], valid: bool
) -> None:
    schemas = committed()["components"]["schemas"]
    root = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
    assert OAS30Validator(root).is_valid(body) is valid
    schema = {"FundsConfirmationConsentRequest": FundsConfirmationConsentRequest,
              "FundsConfirmationRequest": FundsConfirmationRequest}[name]()  # fmt: skip
    assert (not schema.validate(body)) is valid


def test_the_security_schemes_name_our_endpoints_and_scope() -> None:
    document = committed()
    schemes = document["components"]["securitySchemes"]
    client = schemes["TPPOAuth2Security"]["flows"]["clientCredentials"]
    assert client["tokenUrl"] == "/token" and set(client["scopes"]) == {"fundsconfirmations"}
    code = schemes["PSUOAuth2Security"]["flows"]["authorizationCode"]
    assert (code["authorizationUrl"], code["tokenUrl"]) == ("/authorize", "/token")
    confirm = document["paths"]["/funds-confirmations"]["post"]
    assert confirm["security"] == [{"PSUOAuth2Security": ["fundsconfirmations"]}]


def test_the_operations_on_a_consent_id_publish_their_400() -> None:
    # An unknown consent id is a 400 U011 (OBIE Read/Write Data API Profile v4.0).
    document = committed()
    for method in ("get", "delete"):
        operation = document["paths"]["/funds-confirmation-consents/{ConsentId}"][method]
        ref = operation["responses"]["400"]["$ref"].rsplit("/", 1)[1]
        content = document["components"]["responses"][ref]["content"]
        schema = {"$ref": "#/components/schemas/OBErrorResponse1"}
        assert content["application/json"]["schema"] == schema
        assert "404" not in operation["responses"]


def test_the_document_and_its_page_are_served(client: FlaskClient) -> None:
    with client.get("/specs/cbpii-v4.0.json") as response:
        assert response.status_code == 200
        assert response.get_json() == committed()
    index = client.get("/docs").get_data(as_text=True)
    assert 'href="/docs/cbpii"' in index and "Confirmation of Funds" in index
    page = client.get("/docs/cbpii")
    assert page.status_code == 200
    assert "/specs/cbpii-v4.0.json" in page.get_data(as_text=True)
