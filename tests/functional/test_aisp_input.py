"""Bad input to the account-information API: every refusal is a 400 (or 415) with the OBIE error
body and a precise code, never a server error, and nothing is written. Responses are validated
against the reference file by the conforming test client."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.ais import AIS, Consented, authorised

EVERYTHING = ["ReadAccountsDetail", "ReadTransactionsCredits", "ReadTransactionsDebits",
              "ReadTransactionsDetail"]  # fmt: skip


@pytest.fixture(scope="module")
def consented(oauth_app: Flask) -> Consented:
    return authorised(oauth_app, oauth_app.test_client(), EVERYTHING)


def send(
    consented: Consented, method: str, path: str, *, token: str | None = None,
    headers: dict[str, str] | None = None, body: bytes | None = None,
) -> tuple[int, Any]:  # fmt: skip
    """Send a request with a fresh DPoP proof (and ``headers``); return its status and JSON."""
    partner, own_token, _accounts = consented
    url = f"{partner.client.issuer}{AIS}{path}"
    sent = partner.client.resource_headers(method, url.split("?")[0], token or own_token)
    status, _headers, raw = partner.client.transport(method, url, sent | (headers or {}), body)
    return status, json.loads(raw) if raw else None


def cursor(*fields: str) -> str:
    return base64.urlsafe_b64encode("|".join(fields).encode()).decode()


@pytest.mark.parametrize(
    "fields",
    [
        ("2026-01-01T00:00:00+00:00", str(2**63)),  # beyond the BIGINT of a posting id
        ("2026-01-01T00:00:00+00:00", "-5"),
        ("2026-01-01T00:00:00", "5"),  # no offset: the server writes none such
        ("0001-01-01T00:00:00+01:00", "5"),  # before year 1 in UTC
        ("9999-12-31T23:59:59-01:00", "5"),  # after year 9999 in UTC
    ],
)
def test_a_tampered_cursor_is_a_400(consented: Consented, fields: tuple[str, str]) -> None:
    account = consented[2][-1]
    for path in (f"/accounts/{account}/transactions?page={cursor(*fields)}",
                 f"/transactions?page={cursor('0', *fields)}"):  # fmt: skip
        status, body = send(consented, "GET", path)
        assert status == 400, body
        assert body["Errors"] == [
            {"ErrorCode": "U002", "Message": "page is not a cursor this server issued",
             "Path": "page"}
        ]  # fmt: skip


@pytest.mark.parametrize(
    "value", ["Sun, 10 Sep 2017 19:43:31 GMT", "Sun, 10 Sep 2017 19:43:31 UTC"]
)
def test_an_http_date_is_a_valid_auth_date(consented: Consented, value: str) -> None:
    status, body = send(consented, "GET", "/accounts", headers={"x-fapi-auth-date": value})
    assert status == 200, body


@pytest.mark.parametrize(
    "value",
    [
        "2017-09-10T19:43:31Z",  # ISO 8601, not an HTTP-date
        "Sun, 10 Sep 2017 19:43:31 +0000",  # the pattern names GMT or UTC
        "sun, 10 Sep 2017 19:43:31 GMT",
        "Sun, 10 Sep 2017 29:43:31 GMT",  # the pattern, but no time of day
        "Sun, 31 Feb 2017 19:43:31 GMT",
        "1 Jan 10000000000000000000000 00:00:00",  # once an overflow inside the date parser
        "",
    ],
)
def test_a_malformed_auth_date_is_a_400(consented: Consented, value: str) -> None:
    status, body = send(consented, "GET", "/accounts", headers={"x-fapi-auth-date": value})
    assert status == 400, body
    assert body["Errors"][0]["ErrorCode"] == "U006"
    assert body["Errors"][0]["Path"] == "x-fapi-auth-date"


@pytest.mark.parametrize(
    ("value", "status"), [("203.0.113.9", 200), ("2001:db8::1", 200), ("", 400), ("host", 400)]
)
def test_customer_ip_address(consented: Consented, value: str, status: int) -> None:
    answer, body = send(
        consented, "GET", "/accounts", headers={"x-fapi-customer-ip-address": value}
    )
    assert answer == status, body
    if status == 400:
        assert body["Errors"][0]["ErrorCode"] == "U006"
        assert body["Errors"][0]["Path"] == "x-fapi-customer-ip-address"


def post_consent(consented: Consented, body: bytes) -> tuple[int, Any]:
    partner = consented[0]
    token = partner.client.client_credentials("accounts")["access_token"]
    headers = {"Content-Type": "application/json"}
    return send(
        consented, "POST", "/account-access-consents", token=token, headers=headers, body=body
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ExpirationDateTime", "9999-12-31T23:59:59-01:00"),
        ("TransactionFromDateTime", "0001-01-01T00:00:00+01:00"),
        ("TransactionToDateTime", "9999-12-31T23:59:59-01:00"),
    ],
)
def test_a_date_time_beyond_utc_is_a_400(consented: Consented, field: str, value: str) -> None:
    data = {"Permissions": ["ReadAccountsBasic"], field: value}
    status, body = post_consent(consented, json.dumps({"Data": data, "Risk": {}}).encode())
    assert status == 400, body
    assert body["Errors"][0]["ErrorCode"] == "U002"
    assert body["Errors"][0]["Path"] == f"Data.{field}"


@pytest.mark.parametrize(
    "text",
    [
        '{"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": '
        + '{"a": ' * 5000
        + "1"
        + "}" * 5001,  # deeper than the parser's recursion
        '{"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {"Score": NaN}}',
        '{"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {"Score": -Infinity}}',
    ],
)
def test_a_body_that_is_not_json_is_a_400(consented: Consented, text: str) -> None:
    status, body = post_consent(consented, text.encode())
    assert status == 400, body
    assert body["Errors"] == [{"ErrorCode": "U010", "Message": "The body is not valid JSON"}]


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("*/*", 200),
        ("application/*, text/html;q=0.5", 200),
        ("application/xml", 406),
        ("application/jose+jwe", 406),
        ("application/json;q=0, text/plain", 406),
        ("application/json; charset=iso-8859-1", 406),
    ],
)
def test_accept_must_admit_json(consented: Consented, accept: str, status: int) -> None:
    # The OBIE v4.0 files list 406 Not Acceptable for every operation.
    answer, body = send(consented, "GET", "/accounts", headers={"Accept": accept})
    assert answer == status, body
    if status == 406:
        assert body["Errors"] == [
            {"ErrorCode": "U006", "Message": "The response is application/json",
             "Path": "Accept"}
        ]  # fmt: skip


def test_a_percent_encoded_path_is_named_as_sent_in_htu(consented: Consented) -> None:
    # RFC 9449 §4.3 (9): the proof names the URI as the partner sent it, percent-encoded; the
    # request is authorised and answered for what the path decodes to.
    account = consented[2][-1]
    encoded = account.replace("_", "%5F")
    assert encoded != account
    status, body = send(consented, "GET", f"/accounts/{encoded}")
    assert status == 200, body
    assert body["Data"]["Account"][0]["AccountId"] == account
    for path in ("/accounts/a%20b", "/accounts/a%25b"):
        status, body = send(consented, "GET", path)
        assert status == 400 and body["Errors"][0]["ErrorCode"] == "U011", path


def test_a_proof_names_one_resource_however_its_path_is_escaped(consented: Consented) -> None:
    # RFC 9449 §4.3 (9): a proof for .../balances must not pass for a path that decodes (once,
    # as the server routes it) to something else, such as an id ending in "%2Fbalances".
    partner, token, accounts = consented
    balances = f"{partner.client.issuer}{AIS}/accounts/{accounts[-1]}/balances"
    headers = partner.client.resource_headers("GET", balances, token)
    smuggled = f"{partner.client.issuer}{AIS}/accounts/{accounts[-1]}%252Fbalances"
    status, _headers, raw = partner.client.transport("GET", smuggled, headers, None)
    assert status == 401 and b"htu does not match" in raw


def test_doubled_slashes_are_not_found_not_redirected(oauth_app: Flask) -> None:
    # A redirect would be built on the Host header the caller sent. (No operation of the
    # reference has this path: the plain test client, which validates nothing.)
    answer = FlaskClient(oauth_app).get(f"{AIS}//accounts", headers={"Host": "evil.example"})
    assert answer.status_code == 404 and "Location" not in answer.headers
    assert answer.json is not None and answer.json["Errors"][0]["ErrorCode"] == "U011"


def test_a_missing_trailing_slash_is_served_not_redirected(oauth_app: Flask) -> None:
    # werkzeug would redirect /portal to /portal/ on the Host header the caller sent.
    answer = FlaskClient(oauth_app).get("/portal", headers={"Host": "evil.example"})
    assert answer.status_code != 308 and "evil.example" not in answer.headers.get("Location", "")
    assert FlaskClient(oauth_app).get("/portal").status_code == answer.status_code
