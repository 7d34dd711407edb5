"""GET /open-banking/extensions/v1/idempotency-keys/{IdempotencyKey}: a partner recovers the
response a timeout took from it, with its client-credentials token; every response is checked
against the published document (specs/openapi/idempotency-v1.json), which lists exactly the
route served and the header as the OBIE files declare it."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import yaml
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator
from werkzeug.test import TestResponse

from gateway.api.idempotency import PREFIX
from gateway.api.idempotency import bp as idempotency_bp
from gateway.api.idempotency.keys import HEADER, LIFETIME, OPERATIONS, problem
from gateway.api.idempotency.models import IdempotencyKey
from gateway.api.idempotency.views import kept
from gateway.apidocs.common import SPECS_DIR, SpecError
from gateway.apidocs.idempotency import build_idempotency
from tests.common.idempotency import (
    FUNDS_CONSENTS,
    PAYMENT_CONSENTS,
    Clock,
    injected_clock,
    probe_app,
)
from tests.common.oauth import ISSUER, Partner, register_partner
from tests.common.obie import ConformingClient

REFERENCE = Path(__file__).resolve().parents[2] / "specs" / "reference" / "obie-v4.0"
LOOKUP = f"{PREFIX}/idempotency-keys"
BODY = b'{"Data":{"Initiation":{"InstructedAmount":{"Amount":"1.00","Currency":"GBP"}}},"Risk":{}}'


@pytest.fixture(scope="module")
def probe(database_url: str) -> Iterator[Flask]:
    app = probe_app(database_url)
    app.test_client_class = ConformingClient
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def http(probe: Flask) -> FlaskClient:
    return probe.test_client()


@pytest.fixture
def clock(probe: Flask) -> Iterator[Clock]:
    yield from injected_clock(probe)


@pytest.fixture
def partner(probe: Flask, http: FlaskClient) -> Partner:
    return register_partner(probe, http, roles=("PISP", "CBPII"))


def token_of(partner: Partner, scope: str = "payments") -> str:
    return str(partner.client.client_credentials(scope)["access_token"])


def create(
    http: FlaskClient, partner: Partner, key: str, path: str = PAYMENT_CONSENTS,
    scope: str = "payments",
) -> TestResponse:  # fmt: skip
    headers = partner.client.resource_headers("POST", ISSUER + path, token_of(partner, scope))
    # On the wire the key is UTF-8; WSGI hands header bytes over as Latin-1 characters.
    headers[HEADER] = key.encode().decode("latin-1")
    response = http.post(path, data=BODY, headers=headers, content_type="application/json")
    assert response.status_code == 201, response.get_json()
    return response


def look_up(
    http: FlaskClient, partner: Partner, token: str, key: str, query: str = ""
) -> TestResponse:
    """GET the lookup of ``key`` (percent-encoded into the path) with ``query``."""
    path = f"{LOOKUP}/{quote(key, safe='')}"
    headers = partner.client.resource_headers("GET", ISSUER + path, token)
    return http.get(path, query_string=query, headers=headers)


def error(response: TestResponse) -> dict[str, Any]:
    first: dict[str, Any] = response.get_json()["Errors"][0]
    return first


def test_the_lookup_returns_the_response_as_it_was_sent(
    http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    sent = create(http, partner, "4f8d4c4e-1d7b-4c3c-9a8e-0e8f4e9b1a2c")
    clock.now += dt.timedelta(hours=2)
    response = look_up(http, partner, token_of(partner), "4f8d4c4e-1d7b-4c3c-9a8e-0e8f4e9b1a2c")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["Links"]["Self"] == ISSUER + LOOKUP + "/4f8d4c4e-1d7b-4c3c-9a8e-0e8f4e9b1a2c"
    assert body["Data"]["IdempotencyKey"] == "4f8d4c4e-1d7b-4c3c-9a8e-0e8f4e9b1a2c"
    [kept] = body["Data"]["Responses"]
    assert kept["Operation"] == "domestic-payment-consents"
    assert kept["Status"] == 201
    assert kept["Body"] == json.loads(sent.get_data())
    # The headers a replay repeats, as sent: the signature the signing layer added included.
    assert kept["Headers"] == {
        name: sent.headers[name] for name in ("Content-Type", "Location", "x-jws-signature")
    }
    created_at = dt.datetime.fromisoformat(kept["CreationDateTime"])
    assert created_at == clock.now - dt.timedelta(hours=2)
    assert dt.datetime.fromisoformat(kept["ExpirationDateTime"]) == created_at + LIFETIME


def test_a_key_of_any_characters_is_looked_up_percent_encoded(
    probe: Flask, partner: Partner, clock: Clock
) -> None:
    # A plain client: the conformance check reads the decoded path, where "/" and "?" mislead it.
    http = FlaskClient(probe)
    for key in ("key/with spaces?#", "clé%20é", "a//b"):
        create(http, partner, key)
        response = look_up(http, partner, token_of(partner), key)
        assert response.status_code == 200, (key, response.get_json())
        body = response.get_json()
        assert body["Data"]["IdempotencyKey"] == key
        # Links.Self names the same key ("/" may stay as it is in a path).
        self_path = body["Links"]["Self"].removeprefix(ISSUER)
        assert unquote(self_path) == f"{LOOKUP}/{key}"
        again = http.get(self_path, headers=partner.client.resource_headers(
            "GET", body["Links"]["Self"], token_of(partner)))  # fmt: skip
        assert again.get_json()["Data"] == body["Data"]


def test_the_lookup_lists_every_operation_or_the_one_asked(
    http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    create(http, partner, "k")
    create(http, partner, "k", FUNDS_CONSENTS, "fundsconfirmations")
    both = token_of(partner, "payments fundsconfirmations")
    listed = look_up(http, partner, both, "k").get_json()["Data"]["Responses"]
    assert [r["Operation"] for r in listed] == ["domestic-payment-consents",
                                                "funds-confirmation-consents"]  # fmt: skip
    one = look_up(http, partner, both, "k", "operation=funds-confirmation-consents")
    assert [r["Operation"] for r in one.get_json()["Data"]["Responses"]] == [
        "funds-confirmation-consents"
    ]
    # A token reads the keys of the families its scopes cover.
    payments_only = look_up(http, partner, token_of(partner), "k").get_json()
    assert [r["Operation"] for r in payments_only["Data"]["Responses"]] == [
        "domestic-payment-consents"
    ]
    refused = look_up(http, partner, token_of(partner), "k", "operation=funds-confirmations")
    assert refused.status_code == 403


def test_an_unknown_key_is_a_400_u011(http: FlaskClient, partner: Partner, clock: Clock) -> None:
    # OBIE R/W Data API Profile v4.0: an unknown resource id is a 400, not a 404.
    response = look_up(http, partner, token_of(partner), "never-sent")
    assert response.status_code == 400
    assert error(response)["ErrorCode"] == "U011"


def test_another_clients_key_is_unknown(
    probe: Flask, http: FlaskClient, partner: Partner, clock: Clock
) -> None:
    create(http, partner, "theirs")
    other = register_partner(probe, http, roles=("PISP",))
    response = look_up(http, other, token_of(other), "theirs")
    assert (response.status_code, error(response)["ErrorCode"]) == (400, "U011")


def test_an_expired_key_is_unknown(http: FlaskClient, partner: Partner, clock: Clock) -> None:
    create(http, partner, "old")
    clock.now += LIFETIME
    response = look_up(http, partner, token_of(partner), "old")
    assert (response.status_code, error(response)["ErrorCode"]) == (400, "U011")


@pytest.mark.parametrize(
    ("key", "query", "path"),
    [("x" * 41, "", "IdempotencyKey"), ("trailing ", "", "IdempotencyKey"),
     ("k", "operation=account-access-consents", "operation")],
    ids=["too-long", "pattern", "unknown-operation"],
)  # fmt: skip
def test_an_invalid_key_or_operation_is_a_400_u002(
    http: FlaskClient, partner: Partner, key: str, query: str, path: str
) -> None:
    response = look_up(http, partner, token_of(partner), key, query)
    assert response.status_code == 400
    assert (error(response)["ErrorCode"], error(response)["Path"]) == ("U002", path)


def test_the_lookup_needs_a_client_credentials_token_of_a_payment_family(
    http: FlaskClient, partner: Partner
) -> None:
    create(http, partner, "k")
    anonymous = http.get(f"{LOOKUP}/k")
    assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers
    aisp = register_partner(http.application, http, roles=("AISP",))
    response = look_up(http, aisp, token_of(aisp, "accounts"), "k")
    assert response.status_code == 403
    assert "payments" in error(response)["Message"]


def test_a_body_that_is_not_json_is_given_in_base64() -> None:
    now = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    row = IdempotencyKey(
        operation="file-payment-consents/file", created_at=now, expires_at=now + LIFETIME,
        status=200, headers={}, body=b"<xml/>",
    )  # fmt: skip
    assert kept(row)["BodyBase64"] == base64.b64encode(b"<xml/>").decode()
    row.body = b""
    assert "Body" not in kept(row) and "BodyBase64" not in kept(row)


# -- the published document -------------------------------------------------------------------


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SPECS_DIR / "idempotency-v1.json").read_text("utf-8"))
    return document


def test_the_document_lists_exactly_the_lookup_and_publishes_the_header() -> None:
    document = committed()
    assert document["servers"] == [{"url": PREFIX}]
    assert {(path, method) for path, item in document["paths"].items() for method in item} == {
        ("/idempotency-keys/{IdempotencyKey}", "get")
    }
    reference = yaml.load(
        (REFERENCE / "payment-initiation-openapi.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader
    )
    header = reference["components"]["parameters"][HEADER]
    assert document["components"]["parameters"][HEADER] == header
    parameters = document["paths"]["/idempotency-keys/{IdempotencyKey}"]["get"]["parameters"]
    path_key = next(p for p in parameters if p.get("in") == "path")
    assert path_key["schema"] == header["schema"]
    operation = next(p for p in parameters if p.get("in") == "query")
    assert operation["schema"]["enum"] == list(OPERATIONS)
    flows = document["components"]["securitySchemes"]["ClientCredentials"]["flows"]
    assert set(flows["clientCredentials"]["scopes"]) == {"payments", "fundsconfirmations"}


@given(st.text(max_size=45))
def test_the_published_key_schema_is_the_checked_one(key: str) -> None:
    schema = dict(committed()["components"]["parameters"][HEADER]["schema"])
    # JSON Schema patterns are ECMA-262 regular expressions, whose "$" matches only at the very
    # end; Python's also matches before a final newline ("0\n"), so it reads as "\Z" here.
    assert schema["pattern"].endswith("$")
    schema["pattern"] = schema["pattern"][:-1] + r"\Z"
    assert OAS30Validator(schema).is_valid(key) is (problem(key) is None)


def test_a_route_the_document_lacks_stops_the_build() -> None:
    app = Flask("probe")
    bp = Blueprint(idempotency_bp.name, __name__, url_prefix=PREFIX)
    bp.add_url_rule("/idempotency-keys/<path:idempotency_key>", "lookup", lambda **_: "")
    bp.add_url_rule("/idempotency-keys", "everything", lambda: "")
    app.register_blueprint(bp)
    with pytest.raises(SpecError, match="/idempotency-keys'"):
        build_idempotency(app)


def test_the_guides_lookup_snippet_runs_as_printed(
    http: FlaskClient, partner: Partner, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "getting-started.md").read_text()
    section = guide.split("## Retrying a payment safely", 1)[1].split("\n## ", 1)[0]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    sent = create(http, partner, "guide-key")
    exec(snippet, {"client": partner.client, "key": "guide-key"})  # noqa: S102 - the guide's code
    printed = capsys.readouterr().out
    assert printed.startswith("domestic-payment-consents 201 ")
    assert json.loads(sent.get_data())["Data"]["ConsentId"] in printed
