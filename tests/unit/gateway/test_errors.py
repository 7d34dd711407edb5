"""Every error the gateway answers is an OBIE ``OBErrorResponse1`` (:mod:`gateway.edge.errors`).

Bodies are validated against the schema taken from the OBIE v4.0 reference OpenAPI document, and
the error codes against the OB internal code set, both kept in ``specs/reference`` of the
repository. A request that ends in an error never commits what it wrote.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.exceptions import abort

from gateway.app import create_app
from gateway.core.errors import (
    BankCoreError,
    InsufficientFunds,
    InvalidInstruction,
    UnknownResource,
)
from gateway.edge.errors import ERROR_CODES, ApiError, ErrorDetail
from gateway.edge.interaction import HEADER
from gateway.edge.transaction import get_session
from gateway.store.database import Database
from sandbox.models import Tenant
from tests.common import services
from tests.common.logs import Recorder, recording

REFERENCE = Path(__file__).resolve().parents[3] / "specs" / "reference" / "obie-v4.0"
SECRET = "hunter2-do-not-leak"
MAX_BODY = 64


# Reference data ---------------------------------------------------------------------------


def reference_file(name: str) -> Path:
    path = REFERENCE / name
    if not path.is_file():
        services.unavailable(f"OBIE reference file {path} is missing")
    return path


@cache
def _error_schema() -> dict[str, Any]:
    with reference_file("account-info-openapi.yaml").open(encoding="utf-8") as fh:
        spec = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    schemas = spec["components"]["schemas"]
    # Only the schemas OBErrorResponse1 needs: a $ref to anything else fails to resolve.
    wanted = ("OBErrorResponse1", "OBError1", "OBExternalStatusReason1Code")
    return {
        "$ref": "#/components/schemas/OBErrorResponse1",
        "components": {"schemas": {name: schemas[name] for name in wanted}},
    }


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = _error_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def assert_ob_error(
    validator: jsonschema.Draft202012Validator, response: Any, status: int, code: str
) -> dict[str, Any]:
    """Check ``response`` is an OBErrorResponse1 with ``status`` whose first error is ``code``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, [e.message for e in errors]
    assert body["Errors"][0]["ErrorCode"] == code
    assert all(error["ErrorCode"] in ERROR_CODES for error in body["Errors"])
    assert body["Code"].startswith(f"{status} ")
    # The Id of the error is the interaction id of the request.
    assert body["Id"] == response.headers[HEADER]
    return body  # type: ignore[no-any-return]


@cache
def _internal_codes() -> dict[str, set[str]]:
    """OBExternalStatusReason1Code rows of the OB internal code set: code -> names."""
    codes: dict[str, set[str]] = {}
    with reference_file("OB_Internal_Codeset.csv").open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 3 and row[0].strip() == "OBExternalStatusReason1Code":
                codes.setdefault(row[1].strip(), set()).add(row[2].strip())
    return codes


# An app of its own with test routes ---------------------------------------------------------


def _add_routes(app: Flask) -> None:
    @app.post("/t/json")
    def read_json() -> Any:
        return jsonify(got=request.get_json())

    @app.get("/t/boom")
    def boom() -> Any:
        raise RuntimeError(f"connection to db failed, password={SECRET}")

    @app.get("/t/api-error")
    def api_error() -> Any:
        raise ApiError(
            ErrorDetail("U004", "Data.Initiation is missing", path="Data.Initiation"),
            ErrorDetail("U002", "Bad amount", path="Data.Amount", url="https://example.test/doc"),
            status=422,
            headers={"Retry-After": "7", "X-Test": "yes"},
        )

    @app.get("/t/bank/<kind>")
    def bank_error(kind: str) -> Any:
        errors: dict[str, BankCoreError] = {
            "unknown": UnknownResource("account acc_1 not found"),
            "funds": InsufficientFunds("not enough money on acc_1"),
            "invalid": InvalidInstruction("currency mismatch"),
            "unknown-bare": UnknownResource(),
            "funds-bare": InsufficientFunds(),
            "invalid-bare": InvalidInstruction(),
            "base": BankCoreError(f"core exploded: {SECRET}"),
        }
        raise errors[kind]

    @app.get("/t/abort/<int:status>")
    def abort_with(status: int) -> Any:
        abort(status)

    @app.post("/t/write/<outcome>")
    def write(outcome: str) -> Any:
        now = dt.datetime.now(dt.UTC)
        session = get_session()
        session.add(Tenant(id=request.args["tenant"], seed=1, anchor=now, created_at=now))
        session.flush()  # the INSERT is sent: only the commit decision keeps it or not
        if outcome == "ok":
            return jsonify(written=True)
        if outcome == "created":
            return jsonify(written=True), 201
        if outcome == "api-error":
            raise ApiError.one("U002", "refused after writing")
        if outcome == "bank-error":
            raise UnknownResource("gone after writing")
        if outcome == "conflict":
            return jsonify(written=False), 409
        raise RuntimeError("failed after writing")


@pytest.fixture(scope="module")
def edge_app(database_url: str) -> Iterator[Flask]:
    """A second app on the test database, with a small body limit and test-only routes."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "REDIS_URL": "",
            "SECRET_KEY": "test-secret",
            "MAX_CONTENT_LENGTH": MAX_BODY,
        }
    )
    _add_routes(app)
    yield app
    database: Database = app.extensions["database"]
    database.engine.dispose()


@pytest.fixture
def edge(edge_app: Flask) -> FlaskClient:
    return edge_app.test_client()


@pytest.fixture
def gateway_log() -> Iterator[Recorder]:
    """Records of the gateway's loggers made during the test."""
    with recording("gateway") as recorder:
        yield recorder


# The schema and the code set themselves -----------------------------------------------------


def test_the_schema_rejects_what_is_not_an_error_response(
    validator: jsonschema.Draft202012Validator,
) -> None:
    good = {"Code": "400 BadRequest", "Id": "x", "Message": "m", "Errors": [{"ErrorCode": "U002"}]}
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "Errors": []})
    assert not validator.is_valid({**good, "Extra": 1})
    assert not validator.is_valid({**good, "Errors": [{"ErrorCode": "UK.OBIE.Field.Invalid"}]})
    assert not validator.is_valid({**good, "Errors": [{"Message": "no code"}]})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "Errors"})


def test_every_error_code_is_in_the_ob_internal_code_set_with_its_name() -> None:
    codes = _internal_codes()
    assert len(codes) > 30  # the CSV was parsed, not skipped
    for code, name in ERROR_CODES.items():
        assert code in codes, f"{code} is not an OBExternalStatusReason1Code"
        assert name in codes[code], f"{code} is named {codes[code]} in the code set, not {name}"


def test_error_detail_refuses_an_unknown_code() -> None:
    with pytest.raises(ValueError, match="Z999"):
        ErrorDetail("Z999", "nope")
    with pytest.raises(ValueError, match=r"UK\.OBIE\.Field\.Invalid"):
        ErrorDetail("UK.OBIE.Field.Invalid", "a name is not a code")


def test_api_error_needs_a_detail() -> None:
    with pytest.raises(ValueError, match="ErrorDetail"):
        ApiError()


def test_error_detail_truncates_to_the_schema_limits() -> None:
    body = ErrorDetail("U002", "m" * 900, path="p" * 900).to_json()
    assert len(body["Message"]) == 500
    assert len(body["Path"]) == 500


# Flask's own errors -------------------------------------------------------------------------


def test_unknown_path_is_404_u011(client: FlaskClient, validator: Any) -> None:
    response = client.get("/no/such/path")
    assert_ob_error(validator, response, 404, "U011")


def test_wrong_method_is_405_u010_with_allow(client: FlaskClient, validator: Any) -> None:
    """The code set has no code for a method: U010 (UK.OBIE.Resource.InvalidFormat) says the
    request does not fit the endpoint, where U042 would say the reason cannot be told."""
    response = client.post("/healthz")
    body = assert_ob_error(validator, response, 405, "U010")
    assert "Allow" in body["Errors"][0]["Message"]
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert "POST" not in allowed


def test_body_over_the_limit_is_413(edge: FlaskClient, validator: Any) -> None:
    response = edge.post("/t/json", json={"pad": "x" * (MAX_BODY * 4)})
    body = assert_ob_error(validator, response, 413, "U002")
    assert "pad" not in response.get_data(as_text=True)
    assert body["Errors"][0]["Message"]


def test_body_within_the_limit_is_read(edge: FlaskClient) -> None:
    response = edge.post("/t/json", json={"a": 1})
    assert response.status_code == 200
    assert response.get_json() == {"got": {"a": 1}}


def test_non_json_content_type_is_415_u006(edge: FlaskClient, validator: Any) -> None:
    response = edge.post("/t/json", data="a=1", content_type="text/plain")
    body = assert_ob_error(validator, response, 415, "U006")
    assert body["Errors"][0]["Path"] == "Content-Type"


@pytest.mark.parametrize(
    ("status", "code", "path"),
    [(400, "U010", None), (406, "U006", "Accept"), (409, "U042", None)],
)
def test_other_http_errors(
    edge: FlaskClient, validator: Any, status: int, code: str, path: str | None
) -> None:
    body = assert_ob_error(validator, edge.get(f"/t/abort/{status}"), status, code)
    assert body["Errors"][0].get("Path") == path


# Unexpected exceptions -----------------------------------------------------------------------


def test_unexpected_exception_is_500_u000_without_details(
    edge: FlaskClient, validator: Any, gateway_log: Recorder
) -> None:
    interaction_id = str(uuid.uuid4())
    response = edge.get("/t/boom", headers={HEADER: interaction_id})

    body = assert_ob_error(validator, response, 500, "U000")
    assert body["Id"] == interaction_id
    sent = response.get_data(as_text=True) + "\n".join(f"{k}: {v}" for k, v in response.headers)
    for leak in (SECRET, "password", "Traceback", "RuntimeError", "boom", ".py"):
        assert leak not in sent

    logged = [r for r in gateway_log.records if r.exc_info and r.levelno >= logging.ERROR]
    assert len(logged) == 1
    record = logged[0]
    assert interaction_id in record.getMessage()
    assert isinstance(record.exc_info[1], RuntimeError)  # type: ignore[index]
    assert SECRET in str(record.exc_info[1])  # type: ignore[index]


def test_aborted_500_is_u000(edge: FlaskClient, validator: Any) -> None:
    assert_ob_error(validator, edge.get("/t/abort/500"), 500, "U000")


# Errors raised on purpose --------------------------------------------------------------------


def test_api_error_keeps_its_status_headers_and_details(edge: FlaskClient, validator: Any) -> None:
    response = edge.get("/t/api-error")
    body = assert_ob_error(validator, response, 422, "U004")
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-Test"] == "yes"
    assert body["Message"] == "Data.Initiation is missing"
    assert body["Errors"] == [
        {"ErrorCode": "U004", "Message": "Data.Initiation is missing", "Path": "Data.Initiation"},
        {
            "ErrorCode": "U002",
            "Message": "Bad amount",
            "Path": "Data.Amount",
            "Url": "https://example.test/doc",
        },
    ]


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        ("unknown", 404, "U011", "account acc_1 not found"),
        ("funds", 400, "U042", "not enough money on acc_1"),
        ("invalid", 400, "U002", "currency mismatch"),
        ("unknown-bare", 404, "U011", None),
        ("funds-bare", 400, "U042", None),
        ("invalid-bare", 400, "U002", None),
    ],
)
def test_bank_core_errors_are_mapped(
    edge: FlaskClient, validator: Any, kind: str, status: int, code: str, message: str | None
) -> None:
    body = assert_ob_error(validator, edge.get(f"/t/bank/{kind}"), status, code)
    if message is not None:
        assert body["Errors"][0]["Message"] == message


def test_an_unmapped_bank_core_error_is_unexpected(edge: FlaskClient, validator: Any) -> None:
    response = edge.get("/t/bank/base")
    assert_ob_error(validator, response, 500, "U000")
    assert SECRET not in response.get_data(as_text=True)


# One unit of work per request ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status", "kept"),
    [
        ("ok", 200, True),
        ("created", 201, True),
        ("api-error", 400, False),
        ("bank-error", 404, False),
        ("conflict", 409, False),
        ("crash", 500, False),
    ],
)
def test_only_a_successful_request_commits(
    edge_app: Flask, edge: FlaskClient, tenant: str, outcome: str, status: int, kept: bool
) -> None:
    response = edge.post(f"/t/write/{outcome}", query_string={"tenant": tenant})
    assert response.status_code == status

    database: Database = edge_app.extensions["database"]
    with database.sessions() as check:
        assert (check.get(Tenant, tenant) is not None) is kept
        _forget(check, tenant)


def _forget(session: Session, tenant: str) -> None:
    row = session.get(Tenant, tenant)
    if row is not None:
        session.delete(row)
        session.commit()


def test_other_server_errors_keep_their_status_with_u000(database_url: str) -> None:
    from flask import abort

    from gateway.app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})

    @app.get("/_unavailable")
    def unavailable() -> None:
        abort(503)

    response = app.test_client().get("/_unavailable")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["Code"] == "503 ServiceUnavailable"
    assert response.json["Errors"][0]["ErrorCode"] == "U000"
    app.extensions["database"].engine.dispose()


def test_a_non_standard_status_still_renders(database_url: str) -> None:
    from gateway.app import create_app
    from gateway.edge.errors import ApiError

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})

    @app.get("/_odd")
    def odd() -> None:
        raise ApiError.one("U042", "client closed request", status=499)

    response = app.test_client().get("/_odd")
    assert response.status_code == 499
    assert response.json is not None and response.json["Code"] == "499 Error"
    app.extensions["database"].engine.dispose()
