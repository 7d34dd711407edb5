"""The published OpenAPI documents (``specs/openapi/``) and the interactive docs pages.

The committed documents must be what the code generates (run ``gateway specs write`` after a
route or a request schema changes); the AIS document must list exactly the operations the app
serves, and publish the request schema that validates the traffic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Blueprint, Flask
from flask.testing import FlaskClient, FlaskCliRunner
from marshmallow import ValidationError
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from gateway.api.aisp import bp as aisp_bp
from gateway.api.aisp.schemas import ConsentData, ConsentRequest
from gateway.api.sandbox import bp as sandbox_bp
from gateway.api.sandbox.schemas import AdvanceRequest
from gateway.apidocs import documents
from gateway.apidocs.aisp import build_aisp
from gateway.apidocs.common import SPECS_DIR, SpecError
from gateway.apidocs.documents import DOCUMENTS
from gateway.apidocs.sandbox import build_sandbox
from gateway.consents.account_access import PERMISSIONS

PREFIX = "/open-banking/v4.0/aisp"
SANDBOX_PREFIX = "/open-banking/sandbox/v1"
REFERENCE = Path(__file__).resolve().parents[2] / "specs" / "reference" / "obie-v4.0"
METHODS = {"get", "put", "post", "delete", "patch"}


def committed(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SPECS_DIR / f"{name}.json").read_text("utf-8"))
    return document


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def served_ais(app: Flask) -> set[tuple[str, str]]:
    """The AIS operations the app serves, read from its URL map."""
    return served_by(app, "aisp", PREFIX)


def served_by(app: Flask, blueprint: str, prefix: str) -> set[tuple[str, str]]:
    """The operations ``blueprint`` serves under ``prefix``, read from the app's URL map."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(f"{blueprint}."):
            continue
        path = re.sub(
            r"<(?:\w+:)?(\w+)>",
            lambda m: "{" + "".join(p.capitalize() for p in m.group(1).split("_")) + "}",
            rule.rule.removeprefix(prefix),
        )
        found |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return found


# -- the documents and the code ------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.name)
def test_committed_documents_are_what_the_code_generates(
    app: Flask, document: documents.Document
) -> None:
    path = SPECS_DIR / document.filename
    assert path.exists(), f"specs/openapi/{document.filename} is missing: run `gateway specs write`"
    generated = documents.render(document.build(app))
    assert path.read_text("utf-8") == generated, (
        f"specs/openapi/{document.filename} has drifted from the code: "
        "run `gateway specs write` and commit the result"
    )


def test_generation_is_deterministic(app: Flask) -> None:
    assert documents.generate(app) == documents.generate(app)


@pytest.mark.parametrize(
    "name", ["aisp-v4.0", "cbpii-v4.0", "pisp-v4.0", "oauth", "sandbox-v1", "idempotency-v1"]
)
def test_documents_are_valid_openapi_3_0(name: str) -> None:
    document = committed(name)
    assert document["openapi"].startswith("3.0.")
    validate(document)


def test_every_served_ais_route_is_documented_and_every_documented_one_served(app: Flask) -> None:
    document = committed("aisp-v4.0")
    assert served_ais(app) == operations(document)
    assert document["servers"] == [{"url": PREFIX}]
    # The reference's response schemas are kept, under the media types the gateway answers with.
    assert "application/jose+jwe" not in json.dumps(document)


def test_the_standard_operations_not_served_are_listed(app: Flask) -> None:
    import yaml

    text = (REFERENCE / "account-info-openapi.yaml").read_text("utf-8")
    reference = yaml.load(text, Loader=yaml.CSafeLoader)
    document = committed("aisp-v4.0")
    listed = {(op["path"], op["method"]) for op in document["x-not-served"]}
    assert listed == operations(reference) - served_ais(app)
    assert not listed & operations(document)


def test_a_served_route_the_reference_lacks_stops_the_build() -> None:
    app = Flask("probe")
    bp = Blueprint(aisp_bp.name, __name__, url_prefix=PREFIX)
    bp.add_url_rule("/accounts/<account_id>/nonsense", "nonsense", lambda account_id: "")
    app.register_blueprint(bp)
    with pytest.raises(SpecError, match=r"GET /accounts/\{AccountId\}/nonsense"):
        build_aisp(app)


def test_unserved_operations_go_to_x_not_served_not_silently_away() -> None:
    app = Flask("probe")
    bp = Blueprint(aisp_bp.name, __name__, url_prefix=PREFIX)
    bp.add_url_rule("/accounts/<account_id>", "account", lambda account_id: "")
    app.register_blueprint(bp)
    document = build_aisp(app)
    assert operations(document) == {("/accounts/{AccountId}", "get")}
    listed = {(op["path"], op["method"]) for op in document["x-not-served"]}
    assert ("/balances", "get") in listed
    assert ("/account-access-consents", "post") in listed
    assert "/balances" in document["info"]["description"]
    # Components only the dropped operations used are dropped with them.
    assert "OBReadConsentResponse1" not in document["components"]["schemas"]


# -- the consent request schema -------------------------------------------------------------


def test_the_consent_request_schema_is_the_marshmallow_one() -> None:
    document = committed("aisp-v4.0")
    operation = document["paths"]["/account-access-consents"]["post"]
    assert operation["requestBody"]["required"] is True
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json"}
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ConsentRequest"}
    schemas = document["components"]["schemas"]
    request = schemas["ConsentRequest"]
    assert set(request["properties"]) == set(ConsentRequest().fields)
    assert set(request["required"]) == {n for n, f in ConsentRequest().fields.items() if f.required}
    assert request["additionalProperties"] is False
    assert request["properties"]["Data"] == {"$ref": "#/components/schemas/ConsentData"}
    data = schemas["ConsentData"]
    assert set(data["properties"]) == set(ConsentData().fields)
    assert data["required"] == ["Permissions"]
    assert data["additionalProperties"] is False
    permissions = data["properties"]["Permissions"]
    assert permissions["items"]["enum"] == list(PERMISSIONS)
    assert permissions["minItems"] == 1


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}, True),
        ({"Data": {"Permissions": []}, "Risk": {}}, False),
        ({"Data": {"Permissions": ["ReadEverything"]}, "Risk": {}}, False),
        ({"Data": {"Permissions": ["ReadBalances"]}}, False),
        ({"Data": {"Permissions": ["ReadBalances"], "Extra": 1}, "Risk": {}}, False),
    ],
)
def test_the_published_schema_accepts_what_the_gateway_accepts(
    body: dict[str, Any], valid: bool
) -> None:
    schemas = committed("aisp-v4.0")["components"]["schemas"]
    root = {
        "$ref": "#/components/schemas/ConsentRequest",
        "components": {"schemas": {k: schemas[k] for k in ("ConsentRequest", "ConsentData")}},
    }
    assert OAS30Validator(root).is_valid(body) is valid
    assert (not ConsentRequest().validate(body)) is valid


def test_security_schemes_name_our_endpoints() -> None:
    schemes = committed("aisp-v4.0")["components"]["securitySchemes"]
    assert schemes["TPPOAuth2Security"]["flows"]["clientCredentials"]["tokenUrl"] == "/token"
    code = schemes["PSUOAuth2Security"]["flows"]["authorizationCode"]
    assert (code["authorizationUrl"], code["tokenUrl"]) == ("/authorize", "/token")
    assert all("DPoP" in scheme["description"] for scheme in schemes.values())


def test_the_statement_file_is_published_as_the_pdf_it_is() -> None:
    # The reference lists JSON media types only; the gateway serves a PDF and refuses JSON (406).
    operation = committed("aisp-v4.0")["paths"][
        "/accounts/{AccountId}/statements/{StatementId}/file"
    ]["get"]
    ref = operation["responses"]["200"]["$ref"].rsplit("/", 1)[1]
    response = committed("aisp-v4.0")["components"]["responses"][ref]
    assert response["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
    }


def test_every_operation_on_an_id_publishes_its_400() -> None:
    # An id the consent does not cover is a 400 U011 (OBIE Read/Write Data API Profile v4.0,
    # "400 (Bad Request) v/s 404 (Not Found)"): each such operation must declare that answer.
    document = committed("aisp-v4.0")
    on_an_id = [
        (path, operation)
        for path, item in document["paths"].items()
        if "{AccountId}" in path or "{StatementId}" in path
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(on_an_id) == 15
    for path, operation in on_an_id:
        ref = operation["responses"]["400"]["$ref"].rsplit("/", 1)[1]
        content = document["components"]["responses"][ref]["content"]
        schema = {"$ref": "#/components/schemas/OBErrorResponse1"}
        assert content["application/json"]["schema"] == schema, path


def test_the_authorization_header_is_left_to_the_security_schemes() -> None:
    # OpenAPI 3.0: a header parameter named Authorization SHALL be ignored; interactive docs
    # asked for it although the security scheme fills it in.
    document = committed("aisp-v4.0")
    for path, method in operations(document):
        for parameter in document["paths"][path][method].get("parameters", []):
            assert parameter.get("$ref") != "#/components/parameters/Authorization", path
            assert parameter.get("name") != "Authorization", path
    assert "Authorization" not in document["components"]["parameters"]


@pytest.mark.parametrize(
    ("value", "valid"), [("203.0.113.9", True), ("2001:db8::1", True), ("", False), ("host", False)]
)
def test_the_customer_ip_address_is_published_as_checked(value: str, valid: bool) -> None:
    # What the published schema accepts is what check_fapi_headers accepts (400 U006 otherwise).
    parameters = committed("aisp-v4.0")["components"]["parameters"]
    schema = parameters["x-fapi-customer-ip-address"]["schema"]
    checker = OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER)
    assert checker.is_valid(value) is valid


def test_the_auth_date_check_is_the_published_pattern() -> None:
    # check_fapi_headers matches x-fapi-auth-date against the reference's own pattern.
    from gateway.api.common import _HTTP_DATE

    parameters = committed("aisp-v4.0")["components"]["parameters"]
    assert f"^{_HTTP_DATE.pattern}$" == parameters["x-fapi-auth-date"]["schema"]["pattern"]


def test_the_consent_request_examples_can_be_sent_as_they_are() -> None:
    data = committed("aisp-v4.0")["components"]["schemas"]["ConsentData"]["properties"]
    assert data["ExpirationDateTime"]["example"] > "2099"
    assert data["TransactionFromDateTime"]["example"] < data["TransactionToDateTime"]["example"]


def test_the_oauth_document_covers_the_authorization_server() -> None:
    paths = committed("oauth")["paths"]
    for path in (
        "/.well-known/oauth-authorization-server",
        "/jwks",
        "/par",
        "/authorize",
        "/token",
        "/revoke",
        "/introspect",
        "/register",
        "/register/{ClientId}",
    ):
        assert path in paths, path


def test_the_sandbox_document_lists_exactly_the_sandbox_routes(app: Flask) -> None:
    document = committed("sandbox-v1")
    assert document["servers"] == [{"url": SANDBOX_PREFIX}]
    assert operations(document) == {
        ("/clock", "get"),
        ("/clock/advance", "post"),
        ("/reset", "post"),
        ("/payments-from-abroad", "post"),
    }
    served = {
        (rule.rule.removeprefix(SANDBOX_PREFIX), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("sandbox_api.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert served == operations(document)
    # Errors are the OBIE reference's own body; the scope is the one the token endpoint grants.
    reference = yaml.load(
        (REFERENCE / "account-info-openapi.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader
    )
    schemas = document["components"]["schemas"]
    assert schemas["OBErrorResponse1"] == reference["components"]["schemas"]["OBErrorResponse1"]
    flows = document["components"]["securitySchemes"]["SandboxClientCredentials"]["flows"]
    assert list(flows["clientCredentials"]["scopes"]) == ["sandbox"]


def test_a_sandbox_route_the_document_lacks_stops_the_build(app: Flask) -> None:
    probe = Flask("probe")
    bp = Blueprint(sandbox_bp.name, __name__, url_prefix=SANDBOX_PREFIX)
    bp.add_url_rule("/clock", "clock", lambda: "")
    bp.add_url_rule("/clock/rewind", "rewind", lambda: "", methods=["POST"])
    probe.register_blueprint(bp)
    with pytest.raises(SpecError, match="rewind"):
        build_sandbox(probe)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"Data": {"Days": 1}}, True),
        ({"Data": {"Days": 2, "Hours": 5}}, True),
        ({"Data": {"Days": -1}}, False),
        ({"Data": {"Days": 1.5}}, False),
        ({"Data": {"Days": 367}}, False),
        ({"Data": {"Minutes": 1}}, False),
        ({"Days": 1}, False),
    ],
)
def test_the_published_advance_schema_is_the_checked_one(body: Any, valid: bool) -> None:
    document = committed("sandbox-v1")
    schema = {"$ref": "#/components/schemas/AdvanceRequest", "components": document["components"]}
    published = OAS30Validator(schema).is_valid(body)
    try:
        AdvanceRequest().load(body)
        accepted = True
    except ValidationError:
        accepted = False
    assert published == accepted == valid


# -- serving ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["aisp-v4.0", "cbpii-v4.0", "pisp-v4.0", "oauth", "sandbox-v1", "idempotency-v1"]
)
def test_the_committed_documents_are_served(client: FlaskClient, name: str) -> None:
    with client.get(f"/specs/{name}.json") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.get_json() == committed(name)


def test_an_unknown_document_is_an_obie_404(client: FlaskClient) -> None:
    response = client.get("/specs/secrets.json")
    assert response.status_code == 404
    body = response.get_json()
    assert body["Errors"][0]["ErrorCode"] == "U011"
    assert body["Id"] == response.headers["x-fapi-interaction-id"]


def test_the_docs_index_lists_the_apis(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for document in DOCUMENTS:
        assert f'href="/docs/{document.api}"' in html
        assert f'href="/specs/{document.name}.json"' in html
    assert_only_local(html)


@pytest.mark.parametrize(
    ("api", "name"),
    [
        ("aisp", "aisp-v4.0"),
        ("oauth", "oauth"),
        ("sandbox", "sandbox-v1"),
        ("idempotency", "idempotency-v1"),
    ],
)
def test_the_docs_page_runs_swagger_ui_from_local_files(
    client: FlaskClient, api: str, name: str
) -> None:
    response = client.get(f"/docs/{api}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'data-spec-url="/specs/{name}.json"' in html
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy
    assert assert_only_local(html) >= {
        "/docs/assets/swagger-ui.css",
        "/docs/assets/swagger-ui-bundle.js",
        "/static/docs/swagger-init.js",
    }
    # No inline script: every script element loads a file and has no body.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.findall(r"<script[^>]*>\s*\S[^<]*</script>", html) == []
    for url in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.content_length and asset.content_length > 10_000
    with client.get("/static/docs/swagger-init.js") as response:
        initializer = response.get_data(as_text=True)
    assert "SwaggerUIBundle" in initializer
    assert "validatorUrl: null" in initializer
    assert "http" not in initializer


def assert_only_local(html: str) -> set[str]:
    """Every href and src of the page is a local path; return them."""
    assert "http://" not in html and "https://" not in html
    urls = set(re.findall(r'(?:href|src)="([^"]*)"', html))
    for url in urls:
        assert url.startswith(("/", "#")) and not url.startswith("//"), url
    return urls


@pytest.mark.parametrize(
    "browser",
    [
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # Firefox
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
        "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",  # Chrome, Edge
    ],
)
def test_the_base_url_sends_a_browser_to_the_docs(client: FlaskClient, browser: str) -> None:
    answer = client.get("/", headers={"Accept": browser})
    assert answer.status_code == 302 and answer.headers["Location"] == "/docs"
    for accept in ("application/json", "*/*"):
        other = client.get("/", headers={"Accept": accept})
        assert other.status_code == 404 and other.json is not None
        assert other.json["Errors"][0]["ErrorCode"] == "U011"


def test_an_unknown_api_page_is_404(client: FlaskClient) -> None:
    assert client.get("/docs/nope").status_code == 404


def test_the_scenarios_page_is_served_and_linked(client: FlaskClient) -> None:
    response = client.get("/docs/scenarios")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Sandbox scenarios: every outcome, on purpose</h1>" in html
    assert "<code>7.77</code>" in html and "<table>" in html
    assert 'href="/docs/scenarios"' in client.get("/docs/getting-started").get_data(as_text=True)
    # The pages link each other by file name, as in the repository.
    assert 'href="scenarios.md"' in client.get("/docs/getting-started").get_data(as_text=True)
    moved = client.get("/docs/scenarios.md")
    assert moved.status_code == 302 and moved.headers["Location"] == "/docs/scenarios"
    assert client.get("/docs/architecture.md").status_code == 404


def test_the_getting_started_guide_is_served(client: FlaskClient) -> None:
    response = client.get("/docs/getting-started")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Getting started: from sign-up to your first API call</h1>" in html
    assert "<table>" in html and "<th>rule</th>" in html  # the rules table, rendered
    assert '<code class="language-python">' in html  # fenced code keeps its language
    assert "Content-Security-Policy" in response.headers
    # Its link to the example client, relative to the page, reaches the file.
    assert 'href="examples/partner_client.py"' in html
    with client.get("/docs/examples/partner_client.py") as example:
        assert example.status_code == 200 and example.mimetype == "text/plain"
        assert b"class PartnerClient" in example.get_data()
    assert client.get("/docs/examples/dev.py").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/../../etc/passwd",
        "/docs/assets/..%2F..%2F..%2Fetc%2Fpasswd",
        "/docs/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/docs/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/docs/assets/..%5c..%5cetc%5cpasswd",
        "/docs/assets//etc/passwd",
        "/docs/assets/../__init__.py",
        "/docs/assets/%2e%2e/__init__.py",
        # files of the bundle the page does not use: its index loads an example from outside
        "/docs/assets/index.html",
        "/docs/assets/swagger-initializer.js",
    ],
)
def test_asset_paths_outside_the_allow_list_are_refused(client: FlaskClient, path: str) -> None:
    with client.get(path, follow_redirects=True) as response:
        assert response.status_code in (400, 404), path
        body = response.get_data(as_text=True)
    assert "root:" not in body and "petstore" not in body


# -- the command -----------------------------------------------------------------------------


def test_specs_check_passes_on_the_committed_documents(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["specs", "check"])
    assert result.exit_code == 0, result.output


def test_specs_write_then_check_and_drift(runner: FlaskCliRunner, tmp_path: Path) -> None:
    folder = str(tmp_path)
    assert runner.invoke(args=["specs", "check", "--dir", folder]).exit_code == 1
    written = runner.invoke(args=["specs", "write", "--dir", folder])
    assert written.exit_code == 0, written.output
    for document in DOCUMENTS:
        text = (tmp_path / document.filename).read_text("utf-8")
        assert text.endswith("}\n")
        assert text == (SPECS_DIR / document.filename).read_text("utf-8")
    assert runner.invoke(args=["specs", "check", "--dir", folder]).exit_code == 0
    (tmp_path / "oauth.json").write_text("{}\n", "utf-8")
    result = runner.invoke(args=["specs", "check", "--dir", folder])
    assert result.exit_code == 1
    assert "gateway specs write" in result.output
