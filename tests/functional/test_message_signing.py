"""OBIE message signing through HTTP, on a test-only blueprint that stands for the payment APIs
(:func:`gateway.api.message_signing.protect_blueprint`): a request's ``x-jws-signature`` is
checked after its token and before its view, and every response with a body comes back signed
with a key of the bank's ``/jwks``, errors included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Blueprint, Flask, Response, jsonify, request
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from gateway.api.message_signing import (
    CRITICAL,
    HEADER,
    IAT,
    ISS,
    protect_blueprint,
    request_signature,
)
from gateway.edge import roundtrip
from gateway.edge.errors import ApiError
from gateway.oauth import keys
from gateway.oauth.protector import current_token
from gateway.store.database import Database
from partners import services
from partners.example_client import verify_detached_jws
from partners.models import App
from tests.common.fapi import protected_app
from tests.common.jose import DROP
from tests.common.message_signing import SIGNED_AT, TRUST_ANCHOR, signature
from tests.common.oauth import ISSUER, Partner, new_key, public, register_partner

BASE = "/open-banking/_signed"
BODY = b'{"Data": {"Amount": "10.50", "Currency": "GBP"}, "Risk": {}}'
CLIENT_TOKEN = ("client_credentials",)


def _probe() -> Blueprint:
    """A stand-in for a payment API: create, read, delete, refuse, and a stored response."""
    bp = Blueprint("signed_probe", __name__, url_prefix=BASE)

    @bp.post("/things")
    def create() -> ResponseReturnValue:
        current_token(scope="payments", grant_types=CLIENT_TOKEN)
        verified = request_signature()
        kid = verified.kid if verified is not None else None
        return jsonify(Data=request.get_json(), SignedWith=kid), 201

    @bp.get("/things/<thing>")
    def read(thing: str) -> ResponseReturnValue:
        current_token(scope="payments", grant_types=CLIENT_TOKEN)
        return jsonify(Data={"ThingId": thing})

    @bp.delete("/things/<thing>")
    def delete(thing: str) -> ResponseReturnValue:
        current_token(scope="payments", grant_types=CLIENT_TOKEN)
        return Response(status=204)

    @bp.post("/refusals")
    def refuse() -> ResponseReturnValue:
        current_token(scope="payments", grant_types=CLIENT_TOKEN)
        raise ApiError.one("U002", "Refused as the test asks", path="Data.Amount")

    @bp.get("/stored")
    def stored() -> ResponseReturnValue:
        # As an idempotency store replays a response: its signature is part of it.
        return Response(b'{"Stored": true}', mimetype="application/json",
                        headers={HEADER: "stored.signature"})  # fmt: skip

    return protect_blueprint(bp, clock=lambda: SIGNED_AT)


@pytest.fixture(scope="module")
def signing_app(database_url: str) -> Iterator[Flask]:
    app = protected_app(database_url)
    app.register_blueprint(_probe())
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def http(signing_app: Flask) -> FlaskClient:
    return signing_app.test_client()


@pytest.fixture
def partner(signing_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(signing_app, http, roles=("AISP", "PISP"))


@pytest.fixture
def token(partner: Partner) -> str:
    return str(partner.client.client_credentials("payments")["access_token"])


def call(
    http: FlaskClient, partner: Partner, token: str | None, method: str, path: str, *,
    body: bytes | None = None, sig: str | list[str] | None = None,
) -> TestResponse:  # fmt: skip
    """One API call the way a partner makes it: DPoP-bound token, proof, body, signature."""
    url = ISSUER + BASE + path
    headers: list[tuple[str, str]] = []
    if token is not None:
        headers.extend(partner.client.resource_headers(method, url, token).items())
    if body is not None:
        headers.append(("Content-Type", "application/json"))
    for value in [sig] if isinstance(sig, str) else sig or []:
        headers.append((HEADER, value))
    return http.open(BASE + path, method=method, headers=headers, data=body)


def signed_by(partner: Partner, body: bytes = BODY, **overrides: Any) -> str:
    return signature(body, partner.private_jwk, partner.client_id, **overrides)


def the_banks_signature(http: FlaskClient, response: TestResponse) -> dict[str, Any]:
    """Check the response's signature with the bank's published keys; its JOSE header."""
    jwks = http.get("/jwks").get_json()
    header = verify_detached_jws(response.get_data(), response.headers[HEADER], jwks,
                                 iss=ISSUER, tan=TRUST_ANCHOR)  # fmt: skip
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    assert header[IAT] == int(SIGNED_AT.timestamp())
    return header


def error(response: TestResponse) -> tuple[int, str, str | None]:
    body = response.get_json()
    first = body["Errors"][0]
    return response.status_code, first["ErrorCode"], first.get("Path")


def _update_app(app: Flask, client_id: str, **columns: Any) -> None:
    database: Database = app.extensions["database"]
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with database.sessions.begin() as session:
        session.execute(
            text(f"UPDATE ptn_app SET {assignments} WHERE client_id = :id"),  # noqa: S608
            {**columns, "id": client_id},
        )


# -- the happy path --------------------------------------------------------------------------------


@pytest.mark.parametrize("kty", ["EC", "RSA"])
def test_a_signed_request_is_served_and_its_response_is_signed_by_the_bank(
    signing_app: Flask, http: FlaskClient, kty: str
) -> None:
    partner = register_partner(signing_app, http, roles=("PISP",), kty=kty)
    token = str(partner.client.client_credentials("payments")["access_token"])
    response = call(http, partner, token, "POST", "/things", body=BODY, sig=signed_by(partner))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["SignedWith"] == partner.private_jwk["kid"]
    header = the_banks_signature(http, response)
    assert header["alg"] == "ES256" and header["typ"] == "JOSE"
    assert response.headers[HEADER].split(".")[1] == ""  # detached


def test_reads_carry_no_signature_and_their_answers_are_signed(
    http: FlaskClient, partner: Partner, token: str
) -> None:
    response = call(http, partner, token, "GET", "/things/t-1")
    assert response.status_code == 200
    the_banks_signature(http, response)
    deleted = call(http, partner, token, "DELETE", "/things/t-1")
    assert deleted.status_code == 204 and HEADER not in deleted.headers


# -- each refusal, itself signed -----------------------------------------------------------------


def test_an_unsigned_request_is_u019(http: FlaskClient, partner: Partner, token: str) -> None:
    response = call(http, partner, token, "POST", "/things", body=BODY)
    assert error(response) == (400, "U019", "x-jws-signature")
    the_banks_signature(http, response)


def test_a_body_changed_after_signing_is_u015(
    http: FlaskClient, partner: Partner, token: str
) -> None:
    sent = BODY.replace(b"10.50", b"99.99")
    response = call(http, partner, token, "POST", "/things", body=sent, sig=signed_by(partner))
    assert error(response) == (400, "U015", "x-jws-signature")
    the_banks_signature(http, response)


@pytest.mark.parametrize(
    "sig",
    ["not-a-jws", "e30.e30.c2ln", ["e30..c2ln", "e30..c2ln"]],
    ids=["text", "attached", "two"],
)
def test_what_cannot_be_parsed_is_u018(
    http: FlaskClient, partner: Partner, token: str, sig: str | list[str]
) -> None:
    response = call(http, partner, token, "POST", "/things", body=BODY, sig=sig)
    assert error(response) == (400, "U018", "x-jws-signature")
    the_banks_signature(http, response)


def test_a_missing_claim_is_u017_and_a_wrong_one_u016_naming_it(
    http: FlaskClient, partner: Partner, token: str
) -> None:
    missing = call(http, partner, token, "POST", "/things", body=BODY,
                   sig=signed_by(partner, iss=DROP, crit=list(CRITICAL)))  # fmt: skip
    assert error(missing) == (400, "U017", ISS)
    wrong = call(http, partner, token, "POST", "/things", body=BODY,
                 sig=signed_by(partner, iss="cli_someone_else"))  # fmt: skip
    assert error(wrong) == (400, "U016", ISS)
    assert partner.client_id in wrong.get_json()["Errors"][0]["Message"]
    future = call(http, partner, token, "POST", "/things", body=BODY,
                  sig=signed_by(partner, iat=int(SIGNED_AT.timestamp()) + 3600))  # fmt: skip
    assert error(future)[1:] == ("U016", IAT)


def test_a_signature_on_a_request_without_a_body_is_u020(
    http: FlaskClient, partner: Partner, token: str
) -> None:
    for method in ("GET", "DELETE"):
        response = call(http, partner, token, method, "/things/t-2", sig=signed_by(partner, b""))
        assert error(response) == (400, "U020", "x-jws-signature"), method
        the_banks_signature(http, response)


def test_the_token_is_checked_before_the_signature(http: FlaskClient, partner: Partner) -> None:
    cases: list[tuple[str, bytes | None, str | list[str] | None]] = [
        ("POST", BODY, None), ("POST", BODY, "not-a-jws"), ("POST", BODY, ["a..b", "c..d"]),
        ("GET", None, "not-a-jws"),
    ]  # fmt: skip
    for method, body, sig in cases:
        response = call(http, partner, None, method, "/things" if body else "/things/t-3",
                        body=body, sig=sig)  # fmt: skip
        assert response.status_code == 401, (method, sig)
        assert "WWW-Authenticate" in response.headers
        the_banks_signature(http, response)


def test_a_views_own_error_is_signed(http: FlaskClient, partner: Partner, token: str) -> None:
    response = call(http, partner, token, "POST", "/refusals", body=BODY, sig=signed_by(partner))
    assert error(response) == (400, "U002", "Data.Amount")
    the_banks_signature(http, response)


def test_the_token_is_checked_once_when_the_edge_could_not_claim_its_proof(
    http: FlaskClient, partner: Partner, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the edge's round trip gets no answer, the DPoP proof is checked (its jti claimed) by
    the first to ask for the token: here the signature hook, then the view asks again. A second
    check would claim the same jti and refuse the request as a replay."""
    send = roundtrip._send
    failures = iter([redis.ConnectionError("the store blinked")])

    def blinking(store: Any, commands: Any) -> Any:
        for failure in failures:
            raise failure
        return send(store, commands)

    monkeypatch.setattr(roundtrip, "_send", blinking)
    response = call(http, partner, token, "POST", "/things", body=BODY, sig=signed_by(partner))
    assert response.status_code == 201, response.get_json()
    assert next(failures, None) is None  # the edge's round trip did fail


# -- whose keys, and who must sign ----------------------------------------------------------------


def test_a_replaced_key_no_longer_verifies(
    signing_app: Flask, http: FlaskClient, partner: Partner, token: str
) -> None:
    fresh = new_key()
    database: Database = signing_app.extensions["database"]
    with database.sessions.begin() as session:
        app = session.get_one(App, partner.client_id)
        services.set_keys(session, app, jwks={"keys": [public(fresh)]})
    old = call(http, partner, token, "POST", "/things", body=BODY, sig=signed_by(partner))
    assert error(old) == (400, "U016", "kid")
    new_sig = signature(BODY, fresh, partner.client_id)
    assert call(http, partner, token, "POST", "/things", body=BODY, sig=new_sig).status_code == 201


def test_keys_at_a_jwks_uri_verify(
    signing_app: Flask, http: FlaskClient, partner: Partner, token: str
) -> None:
    uri = f"https://keys.tpp.example/{partner.client_id}/jwks"
    # What the gateway fetched from the jwks_uri in the last five minutes (gateway.oauth.views).
    keyset = json.dumps({"keys": [public(partner.private_jwk)]})
    signing_app.extensions["redis"].set(f"jwks:{uri}", keyset, ex=300)
    _update_app(signing_app, partner.client_id, jwks=None, jwks_uri=uri)
    response = call(http, partner, token, "POST", "/things", body=BODY, sig=signed_by(partner))
    assert response.status_code == 201, response.get_json()


def test_a_sandbox_app_that_switched_signing_off_may_send_none_but_not_a_bad_one(
    signing_app: Flask, http: FlaskClient, partner: Partner, token: str
) -> None:
    database: Database = signing_app.extensions["database"]
    with database.sessions.begin() as session:
        services.set_request_signing(session, session.get_one(App, partner.client_id), False)
    unsigned = call(http, partner, token, "POST", "/things", body=BODY)
    assert unsigned.status_code == 201 and unsigned.get_json()["SignedWith"] is None
    the_banks_signature(http, unsigned)
    bad = call(http, partner, token, "POST", "/things", body=BODY + b" ", sig=signed_by(partner))
    assert error(bad)[1] == "U015"


def test_a_production_app_must_sign_whatever_its_row_says(
    signing_app: Flask, http: FlaskClient, partner: Partner, token: str
) -> None:
    _update_app(signing_app, partner.client_id, environment="production", request_signing=False)
    response = call(http, partner, token, "POST", "/things", body=BODY)
    assert error(response)[1] == "U019"


# -- signing the responses -----------------------------------------------------------------------


def test_a_response_that_carries_a_signature_is_left_as_it_is(http: FlaskClient) -> None:
    response = http.get(BASE + "/stored")
    assert response.headers.getlist(HEADER) == ["stored.signature"]


def test_a_response_that_cannot_be_signed_is_not_sent(
    signing_app: Flask, http: FlaskClient, partner: Partner, token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def unreachable(_reads: Any) -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("the database is down"))

    signing_app.extensions.pop("message_signing_key", None)
    monkeypatch.setattr(keys, "read_active", unreachable)
    response = call(http, partner, token, "GET", "/things/t-4")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert HEADER not in response.headers
    assert response.get_json()["Errors"][0]["ErrorCode"] == "U000"
