"""Property-based fuzzing of the published account-information API, in process.

Schemathesis generates requests from the committed OpenAPI document (specs/openapi/aisp-v4.0.json:
its examples, the boundary and invalid values of its coverage phase, then random valid and invalid
data for every documented parameter and body) and sends them to the app through its WSGI
interface, each authenticated as a partner would: a DPoP-bound token (client credentials for the
consent resources, a customer's token with every AIS permission for the rest) and a fresh proof
for the request's exact method and URL. So that the code behind the first refusals is reached
too, most generated AccountId, StatementId and ConsentId give way to real ones, most valid
x-fapi-auth-date to real dates, and the history operations mostly get a ``page`` cursor (the
parameter of their Links.Next, which the document does not list). Hypothesis seldom picks a
control character out of all of Unicode, so a good share of the cases get one put into a path
parameter, a query parameter, a header or a string of the JSON body: NUL above all, which
PostgreSQL cannot store (SQLite can: this test runs in the PostgreSQL pass too, where it counts).

Every response must be a documented answer: no server error, a documented status code, content
type and schema, the OBIE error body for every 4xx, and no HTML page or traceback in any body.

The run is deterministic (derandomized) and bounded: the coverage phase's fixed cases and
``EXAMPLES`` generated ones per operation.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, HookContext, Response, checks
from werkzeug.urls import iri_to_uri

from gateway.consents.account_access import PERMISSIONS
from tests.common.ais import AIS, authorised
from tests.common.oauth import Partner

DOCUMENT = Path(__file__).resolve().parents[2] / "specs" / "openapi" / "aisp-v4.0.json"
CONSENTS = "/account-access-consents"
# Generated cases per operation (the coverage phase adds its own fixed set, about 50 each); more
# for a deeper run: FUZZ_EXAMPLES=500 pytest tests/functional/test_fuzz.py
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
# What no response body may hold: an HTML error page, a Python traceback.
LEAKS = ("<!doctype", "<html", "traceback (most recent call last)", 'file "/')

# Loaded at import, so that pytest collects one test per operation; the app is given to each
# call. (schemathesis.pytest.from_fixture, which would load it from a fixture, sets the private
# Node._nodeid that pytest 9.2 no longer has.)
fuzzed = schemathesis.openapi.from_path(DOCUMENT)


@dataclass
class Target:
    """The partner the fuzzer plays, its tokens, and real resources to aim at."""

    partner: Partner
    customer_token: str
    client_token: str
    accounts: list[str]
    statements: list[tuple[str, str]]
    consents: list[str]


@pytest.fixture(scope="module")
def target(oauth_app: Flask) -> Target:
    partner, token, accounts = authorised(oauth_app, oauth_app.test_client(), list(PERMISSIONS))
    listed = partner.client.get(f"{AIS}/statements", token)["Data"].get("Statement", [])
    statements = [(s["AccountId"], s["StatementId"]) for s in listed][:4]
    assert accounts and statements
    # Consents awaiting authorisation that the fuzzer may read and delete (never the one behind
    # the customer's token: deleting it would leave every later case at 401).
    consents = [
        partner.client.create_account_access_consent(["ReadAccountsBasic"])["Data"]["ConsentId"]
        for _ in range(2)
    ]
    client_token = partner.client.client_credentials("accounts")["access_token"]
    return Target(partner, token, client_token, accounts, statements, consents)


# -- what the generated cases become ------------------------------------------------------------

# Stand-ins for real ids: those exist only once the fixture made them, after collection (when the
# examples and coverage phases already build their cases); the test puts real ids in their place.
REAL = "real-"
STAND_IN = re.compile(rf"{REAL}(\d)")


@fuzzed.hook
def flatmap_path_parameters(ctx: HookContext, path_parameters: dict[str, Any] | None) -> Any:
    """Most of the time, the ids in the path name resources of the partner's customer."""
    generated = path_parameters or {}
    names = [n for n in ("AccountId", "StatementId", "ConsentId") if n in generated]
    if not names:
        return st.just(path_parameters)
    real = st.integers(0, 3).map(lambda i: {**generated, **{n: f"{REAL}{i}" for n in names}})
    # Hypothesis favours the first branch, so the real ids come first.
    return st.one_of(real, st.just(path_parameters))


def resolve(case: Case[Any], target: Target) -> None:
    """Put the real ids in place of their stand-ins (a stand-in given a control character stays
    as it is: an id no resource has)."""
    params = case.path_parameters or {}
    chosen = [m for v in params.values() if isinstance(v, str) and (m := STAND_IN.fullmatch(v))]
    if not chosen:
        return
    index = int(chosen[0].group(1))
    real: dict[str, str] = {}
    if "StatementId" in params:
        real["AccountId"], real["StatementId"] = target.statements[index % len(target.statements)]
    elif "AccountId" in params:
        real["AccountId"] = target.accounts[index % len(target.accounts)]
    if "ConsentId" in params:
        real["ConsentId"] = target.consents[index % len(target.consents)]
    case.path_parameters = {**params, **real}


# The pattern the document gives x-fapi-auth-date: most strings of it are no date at all
# ("Mon, 00 Jan 0000 ..."), refused before anything else is looked at.
AUTH_DATE = re.compile(
    json.loads(DOCUMENT.read_text("utf-8"))["components"]["parameters"]["x-fapi-auth-date"][
        "schema"
    ]["pattern"]
)
HTTP_DATES = st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9999, 1, 1)).map(
    lambda moment: email.utils.format_datetime(moment.replace(tzinfo=dt.UTC), usegmt=True)
)


@fuzzed.hook
def flatmap_headers(ctx: HookContext, headers: dict[str, Any] | None) -> Any:
    """Most x-fapi-auth-date of the pattern become real dates (an invalid one stays invalid)."""
    value = (headers or {}).get("x-fapi-auth-date")
    if not isinstance(value, str) or not AUTH_DATE.search(value):
        return st.just(headers)
    real = HTTP_DATES.map(lambda date: {**(headers or {}), "x-fapi-auth-date": date})
    return st.one_of(real, st.just(headers))


# The history operations, and the fields of their cursors: ``when|id`` for one account's,
# ``index|when|id`` across accounts (gateway/api/aisp/transactions.py). A cursor is opaque to the
# document, and random text would hardly ever get past its decoding: most generated cursors are
# of the kind the server writes with one field changed to what it never writes (the earlier 500s
# were such cursors: a posting id beyond the BIGINT it is stored in, a time at the edge of the
# calendar), the others of the server's kind or any text.
HISTORY = re.compile(r"/transactions$")
WRITTEN = (
    st.sampled_from(["0", "1", "2"]),
    st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2040, 1, 1), timezones=st.just(dt.UTC)).map(
        dt.datetime.isoformat
    ),
    st.integers(1, 10**7).map(str),
)
OFFSETS = st.builds(dt.timezone, st.integers(-1439, 1439).map(lambda m: dt.timedelta(minutes=m)))
NEVER_WRITTEN = (
    st.sampled_from(["3", "9", "-1", "", "x"]),
    st.one_of(
        st.datetimes(timezones=OFFSETS).map(dt.datetime.isoformat),
        st.datetimes().map(dt.datetime.isoformat),  # naive
        st.text(max_size=12),
    ),
    st.one_of(
        st.sampled_from([2**63, 2**64, 2**63 - 1, 0, -1]).map(str),
        st.integers().map(str),
        st.text(max_size=6),
    ),
)


def cursors(bulk: bool) -> st.SearchStrategy[str]:
    """``page`` values: the server's kind of cursor with one odd field, or as it is, or text."""
    fields = range(3) if bulk else range(1, 3)
    odd = [
        st.tuples(*(NEVER_WRITTEN[f] if f == changed else WRITTEN[f] for f in fields))
        for changed in reversed(fields)  # Hypothesis favours the first: the posting id
    ]
    written = st.tuples(*(WRITTEN[f] for f in fields))
    encoded = st.one_of(*odd, written).map(
        lambda values: base64.urlsafe_b64encode("|".join(values).encode()).decode()
    )
    return st.one_of(encoded, st.text(max_size=16))


@fuzzed.hook
def flatmap_query(ctx: HookContext, query: dict[str, Any] | None) -> Any:
    """Most of the time, a history operation gets a ``page`` cursor, as Links.Next gives."""
    operation = ctx.operation
    if operation is None or not HISTORY.search(operation.path):
        return st.just(query)
    paged = cursors(bulk=operation.path == "/transactions").map(
        lambda page: {**(query or {}), "page": page}
    )
    return st.one_of(paged, st.just(query))


# -- control characters ---------------------------------------------------------------------------

# What the edge refuses (gateway/edge/inputs.py), NUL first: Hypothesis favours the first. Header
# values get no CR or LF, which the test client refuses to send.
CONTROLS = ["\x00", "\x01", "\x08", "\x1b", "\x1f", "\x7f", "\x85", "\x9b"]
HEADER_CONTROLS = ["\x00", "\x01", "\x1b", "\x7f"]


def _spliced(value: str, control: str, at: int) -> str:
    at = at % (len(value) + 1)
    return value[:at] + control + value[at:]


def with_control(
    values: dict[str, Any] | None, controls: list[str] = CONTROLS
) -> st.SearchStrategy[dict[str, Any] | None]:
    """``values`` as they are, or with a control character put into one of their strings."""
    names = sorted(name for name, value in (values or {}).items() if isinstance(value, str))
    if not values or not names:
        return st.just(values)
    spliced = st.tuples(st.sampled_from(names), st.sampled_from(controls), st.integers(0, 64)).map(
        lambda choice: {**values, choice[0]: _spliced(values[choice[0]], choice[1], choice[2])}
    )
    return st.one_of(st.just(values), spliced)


def _strings(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of every string (and of every key) in a JSON document."""
    if isinstance(node, str):
        return [path]
    if isinstance(node, dict):
        found = [(*path, ("key", key)) for key in node]
        return found + [p for key, value in node.items() for p in _strings(value, (*path, key))]
    if isinstance(node, list):
        return [p for index, value in enumerate(node) for p in _strings(value, (*path, index))]
    return []


def _put(node: Any, path: tuple[Any, ...], control: str, at: int) -> Any:
    """A copy of ``node`` with ``control`` put into the string (or key) at ``path``."""
    if not path:
        return _spliced(node, control, at)
    step, rest = path[0], path[1:]
    if isinstance(step, tuple):  # a key
        key = step[1]
        return {(_spliced(k, control, at) if k == key else k): v for k, v in node.items()}
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[step] = _put(node[step], rest, control, at)
    return copy


@fuzzed.hook("flatmap_path_parameters")
def control_in_path(ctx: HookContext, path_parameters: dict[str, Any] | None) -> Any:
    return with_control(path_parameters)


@fuzzed.hook("flatmap_query")
def control_in_query(ctx: HookContext, query: dict[str, Any] | None) -> Any:
    return with_control(query)


@fuzzed.hook("flatmap_headers")
def control_in_headers(ctx: HookContext, headers: dict[str, Any] | None) -> Any:
    return with_control(headers, HEADER_CONTROLS)


@fuzzed.hook("flatmap_body")
def control_in_body(ctx: HookContext, body: Any) -> Any:
    """A string or key of the JSON body, escaped as JSON escapes a control character."""
    places = _strings(body)
    if not places:
        return st.just(body)
    spliced = st.tuples(st.sampled_from(places), st.sampled_from(CONTROLS), st.integers(0, 64)).map(
        lambda choice: _put(body, *choice)
    )
    return st.one_of(st.just(body), spliced)


# -- checks beyond schemathesis' own -------------------------------------------------------------


def obie_error_body(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A 4xx of the AIS API carries the OBIE error body (OBErrorResponse1)."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"a {response.status_code} body is not JSON") from None
    assert isinstance(body, dict), body
    assert isinstance(body.get("Code"), str) and body["Code"], body
    assert isinstance(body.get("Message"), str) and body["Message"], body
    errors = body.get("Errors")
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert isinstance(error, dict), body
        assert isinstance(error.get("ErrorCode"), str) and error["ErrorCode"], body
        assert isinstance(error.get("Message"), str) and error["Message"], body
    return None


def no_leak(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """No HTML page and no traceback in any body."""
    text = response.content.decode("utf-8", "replace").lower()
    leaked = [marker for marker in LEAKS if marker in text]
    assert not leaked, f"{leaked} in the body: {text[:500]}"
    return None


def proof_url(case: Case[Any], issuer: str) -> str:
    """The URL a DPoP proof names: the issuer and the path as the WSGI client sends it."""
    full = case.operation.schema.get_full_path(case.formatted_path)
    return issuer + iri_to_uri(urlsplit(full).path)


@fuzzed.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # Each case is a signed and verified HTTP exchange with database reads: slower than
    # Hypothesis expects a test's examples to be; and the hooks above replace, never filter.
    suppress_health_check=[HealthCheck.too_slow],
)
def test_published_document(case: Case[Any], oauth_app: Flask, target: Target) -> None:
    resolve(case, target)
    client = target.partner.client
    token = target.client_token if case.path.startswith(CONSENTS) else target.customer_token
    headers = client.resource_headers(case.method.upper(), proof_url(case, client.issuer), token)
    if case.headers and "x-fapi-interaction-id" in case.headers:
        del headers["x-fapi-interaction-id"]  # the generated one is a fuzz target too
    response = case.call(headers=headers, app=oauth_app)
    case.validate_response(
        response,
        headers=headers,
        transport_kwargs={"app": oauth_app},
        additional_checks=[obie_error_body, no_leak],
        # Positive data must not be refused, says this check; but the document's types cannot say
        # what the API refuses, rightly, with 400 (an id that is not the customer's account, an
        # x-fapi-auth-date of its pattern that is no date: "Mon, 00 Jan 0000 00:00:00 GMT").
        excluded_checks=[checks.positive_data_acceptance],
    )
