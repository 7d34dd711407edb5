"""Control characters never reach the database: the edge refuses them in every family's format.

Each family of endpoints is sent a control character in each carrier: the path, the query, a
header, a form (urlencoded and multipart), a JSON body and the Basic credentials. The APIs answer
the OBIE body (ErrorCode and Path), the authorization server the OAuth JSON ``invalid_request``,
the consent pages and the portal a page. Then every route the gateway serves gets a NUL in each
path parameter (or its query) under every method it allows, and must answer in its family's
format. This module runs in both passes: on PostgreSQL, where a NUL that reached a query was a
500 (psycopg refuses it in text: the Basic credentials at /token, a client_id at /authorize, a
consent id), and on SQLite, which stores it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.edge.transaction import get_session
from tests.common.jose import ASSERTION_TYPE, sign
from tests.common.oauth import Partner, new_key, register_partner

AIS = "/open-banking/v4.0/aisp"
CONSENTS = f"{AIS}/account-access-consents"
BASIC_NUL = {"Authorization": "Basic YSUwMGI6cw=="}  # a%00b:s, form-urlencoded (RFC 6749 §2.3.1)


@dataclass
class Caller:
    """A partner with a client-credentials token, so that an API request would pass the token
    check and reach the database but for the edge."""

    partner: Partner
    token: str
    consent_id: str

    def api(self, method: str, path: str) -> dict[str, str]:
        """The headers of an authenticated API call (a DPoP proof for this method and path)."""
        url = f"http://localhost{path.split('?')[0]}"
        return self.partner.client.resource_headers(method, url, self.token)


@pytest.fixture(scope="module")
def caller(oauth_app: Flask) -> Caller:
    partner = register_partner(oauth_app, oauth_app.test_client(), roles=("AISP",))
    created = partner.client.create_account_access_consent(["ReadAccountsBasic"])
    token = partner.client.client_credentials("accounts")["access_token"]
    return Caller(partner, token, created["Data"]["ConsentId"])


# -- how each family answers -----------------------------------------------------------------------


def obie(response: TestResponse, code: str, path: str | None) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    body = json.loads(response.get_data())
    assert body["Code"] == "400 BadRequest"
    error = body["Errors"][0]
    assert (error["ErrorCode"], error.get("Path")) == (code, path), body
    assert "control character" in error["Message"]


def oauth(response: TestResponse) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data())
    assert body["error"] == "invalid_request" and "control character" in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def page(response: TestResponse) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<html" in html and "control character" in html
    assert "\x00" not in html


def multipart(**fields: Any) -> dict[str, Any]:
    return {"data": fields, "content_type": "multipart/form-data"}


def keys_file(filename: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(b'{"keys": []}'), filename


# -- the APIs: OBIE bodies -------------------------------------------------------------------------


def test_api_path_parameter(http: FlaskClient, caller: Caller) -> None:
    path = f"{CONSENTS}/a%00b"
    obie(http.get(path, headers=caller.api("GET", path)), "U002", "ConsentId")
    obie(http.delete(path, headers=caller.api("DELETE", path)), "U002", "ConsentId")


def test_api_query(http: FlaskClient, caller: Caller) -> None:
    path = f"{CONSENTS}/{caller.consent_id}"
    answer = http.get(path, query_string="x=a%01b", headers=caller.api("GET", path))
    obie(answer, "U002", "x")


def test_api_header(http: FlaskClient, caller: Caller) -> None:
    path = f"{CONSENTS}/{caller.consent_id}"
    headers = {**caller.api("GET", path), "x-fapi-customer-ip-address": "10.0.0.1\x00"}
    obie(http.get(path, headers=headers), "U006", "x-fapi-customer-ip-address")
    forged = {**caller.api("GET", path), "Authorization": f"DPoP {caller.token}\x00"}
    obie(http.get(path, headers=forged), "U006", "authorization")


def test_api_json_body(http: FlaskClient, caller: Caller) -> None:
    body = {"Data": {"Permissions": ["ReadAccountsBasic\u0000"]}, "Risk": {}}
    answer = http.post(CONSENTS, json=body, headers=caller.api("POST", CONSENTS))
    obie(answer, "U002", "Data.Permissions[0]")
    # A key is a name: not even a line break.
    keyed = {"Data": {"Permissions": ["ReadAccountsBasic"], "Expiration\nDateTime": "x"}}
    answer = http.post(CONSENTS, json=keyed, headers=caller.api("POST", CONSENTS))
    obie(answer, "U002", "Data.Expiration\\u000aDateTime")


def test_api_form_bodies(http: FlaskClient, caller: Caller) -> None:
    answer = http.post(CONSENTS, data={"Data": "a\x00"}, headers=caller.api("POST", CONSENTS))
    obie(answer, "U002", "Data")
    sent = multipart(Data="a\x1b")
    obie(http.post(CONSENTS, headers=caller.api("POST", CONSENTS), **sent), "U002", "Data")


def test_api_basic_credentials(http: FlaskClient) -> None:
    obie(http.get(f"{AIS}/accounts", headers=BASIC_NUL), "U006", "Authorization")


def test_api_accepts_what_is_printable(http: FlaskClient, caller: Caller) -> None:
    """Pretty-printed JSON and a header with a tab and UTF-8 pass the edge."""
    body = json.dumps({"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}, indent="\t")
    headers = {**caller.api("POST", CONSENTS), "x-customer-user-agent": "Caf\u00e9\tBrowser"}
    headers["Content-Type"] = "application/json"
    created = http.post(CONSENTS, data=body.encode(), headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)


# -- the authorization server: OAuth JSON ----------------------------------------------------------


def test_oauth_basic_credentials(http: FlaskClient) -> None:
    oauth(http.post("/token", data={"grant_type": "client_credentials"}, headers=BASIC_NUL))
    oauth(http.post("/introspect", data={"token": "x"}, headers=BASIC_NUL))


def test_oauth_forms(http: FlaskClient) -> None:
    oauth(http.post("/token", data={"grant_type": "client_credentials", "client_id": "a\x00b"}))
    oauth(http.post("/par", data={"client_id": "cli_1", "state": "\x7f"}))
    oauth(http.post("/revoke", **multipart(token="a\x00b")))


def test_oauth_query_header_and_path(http: FlaskClient) -> None:
    oauth(http.get("/jwks", query_string="kid=a%00b"))
    oauth(http.post("/token", data={"grant_type": "client_credentials"}, headers={"DPoP": "e\x00"}))
    oauth(http.get("/register/a%00b", headers={"Authorization": "Bearer x"}))


def test_oauth_json_body(http: FlaskClient) -> None:
    # Dynamic registration takes its JWT as a JSON string too.
    oauth(http.post("/register", data=b'"eyJ\\u0000"', content_type="application/json"))


def test_a_nul_the_edge_cannot_see_is_no_server_error(http: FlaskClient) -> None:
    """A NUL inside a JWT (base64url: invisible to the edge) in the claim the client is looked up
    by: PostgreSQL refuses it (400 invalid_request), SQLite finds no such client (401)."""
    header = {"alg": "ES256", "kid": "k"}
    claims = {"iss": "a\x00b", "sub": "a\x00b", "aud": "http://localhost", "jti": "j"}
    signed = sign(header, claims, new_key())
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
    }
    answer = http.post("/token", data=form)
    assert answer.status_code in (400, 401), answer.get_data(as_text=True)
    error = json.loads(answer.get_data())["error"]
    assert error == ("invalid_request" if answer.status_code == 400 else "invalid_client")


# -- the customer's sign-in and consent pages: a page ----------------------------------------------


def test_consent_pages(oauth_app: Flask) -> None:
    browser = oauth_app.test_client()
    page(browser.get("/authorize", query_string="client_id=a%00b&request_uri=urn:x"))
    page(browser.get("/authorize/consent", headers={"x-note": "\x01"}))
    page(browser.post("/authorize/login", data={"username": "ada\x00", "password": "p"}))
    page(browser.post("/authorize/login", json={"username": "ada\u0000"}))
    page(browser.get("/authorize", query_string="request_uri=urn:x", headers=BASIC_NUL))


# -- the developer portal: a page ------------------------------------------------------------------


def test_portal(oauth_app: Flask) -> None:
    browser = oauth_app.test_client()
    # The example: a NUL in the sign-up form's name (refused before the CSRF check).
    page(browser.post("/portal/signup", data={"name": "Ada\x00", "email": "a@tpp.example"}))
    page(browser.get("/portal/apps/a%00b"))
    page(browser.get("/portal/login", query_string="next=%2Fportal%2F%00"))
    page(browser.get("/portal/login", headers={"x-note": "\x7f"}))
    page(browser.post("/portal/login", json={"email": "a\u0000"}))
    page(browser.get("/portal/", headers=BASIC_NUL))
    sent = multipart(name="App", jwks_file=keys_file("keys\x1b.json"))
    page(browser.post("/portal/apps/new", **sent))


# -- every route -----------------------------------------------------------------------------------


def _family(rule: Rule) -> Callable[[TestResponse], None]:
    """How the blueprint behind ``rule`` answers: its own format, or OBIE."""
    blueprint = rule.endpoint.rpartition(".")[0]
    if blueprint in ("oauth", "registration"):
        return oauth
    if blueprint in ("authorize", "portal"):
        return page

    def obie_any(response: TestResponse) -> None:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert json.loads(response.get_data())["Errors"][0]["ErrorCode"] == "U002"

    return obie_any


def _requests(app: Flask) -> list[tuple[str, str, str, Callable[[TestResponse], None]]]:
    """(method, path, query) of every route and method, a NUL in each path parameter in turn, or
    in the query of a route without any."""
    sent = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            values = {name: "aac-1" for name in rule.arguments}
            if not rule.arguments:
                path = rule.rule
                sent.append((method, path, "id=a%00b", _family(rule)))
            for name in rule.arguments:
                path = rule.rule
                for key, value in {**values, name: "a%00b"}.items():
                    path = path.replace(f"<{key}>", value).replace(f"<path:{key}>", value)
                sent.append((method, path, "", _family(rule)))
    return sent


def test_every_route_refuses_a_nul_in_its_own_format(oauth_app: Flask) -> None:
    browser = oauth_app.test_client()
    checked = 0
    for method, path, query, answers in _requests(oauth_app):
        response = browser.open(path, method=method, query_string=query)
        try:
            answers(response)
        except AssertionError as exc:
            raise AssertionError(f"{method} {path}?{query}: {exc}") from None
        checked += 1
    assert checked > 70


# -- the store's own refusal, behind the edge ------------------------------------------------------


def test_text_postgresql_refuses_is_the_callers_400(postgres_url: str) -> None:
    """What reaches PostgreSQL with a NUL anyway is answered 400, not 500: in a text parameter
    (psycopg) or a JSON escape (the server)."""
    app = create_app({"TESTING": True, "DATABASE_URL": postgres_url, "SECRET_KEY": "t"})
    statements = {
        "text": ("SELECT CAST(:v AS text)", "a\x00b"),
        "jsonb": ("SELECT CAST(:v AS jsonb)", '{"a": "\\u0000"}'),
    }

    @app.get("/_nul/<kind>")
    def nul(kind: str) -> str:
        sql, value = statements[kind]
        get_session().execute(text(sql), {"v": value})
        return "stored"

    client = app.test_client()
    for kind in statements:
        answer = client.get(f"/_nul/{kind}")
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert json.loads(answer.get_data())["Errors"][0]["ErrorCode"] == "U002"
        # The session was rolled back: the next request reads again.
        assert client.get("/healthz").status_code == 200
    app.extensions["database"].dispose()
