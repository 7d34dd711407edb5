"""The sandbox API (``/open-banking/sandbox/v1``): a partner's CI reads, moves and resets its own
sandbox with its client-credentials token; every response is checked against the published
document (specs/openapi/sandbox-v1.json), errors are OBIE bodies with internal-code-set codes."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.store.database import Database
from partners import services
from partners.example_client import GatewayError, PartnerClient
from partners.models import App, Organisation
from tests.common.clock import SANDBOX_START, bank_now
from tests.common.fapi import obtain_unbound
from tests.common.oauth import (
    ISSUER,
    REDIRECT_URI,
    Partner,
    flask_transport,
    public,
    register_partner,
)

API = "/open-banking/sandbox/v1"
START = dt.datetime.fromisoformat(SANDBOX_START)


def near(a: dt.datetime, b: dt.datetime, seconds: float = 120) -> bool:
    """Whether two readings of a clock agree: real time runs on (from the pinned start) while a
    test runs, and the API gives whole seconds. The margin is wide because a loaded machine can
    take seconds over a call (a year of due work, say); what the tests move the clock by is hours
    or days, far beyond it."""
    return abs(a - b) <= dt.timedelta(seconds=seconds)


def real_now(app: Flask) -> dt.datetime:
    """The sandbox's real time: the pinned start and the time the test run has taken."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        now: dt.datetime = app.extensions["sandbox"](session).real_time()
    assert START <= now < START + dt.timedelta(hours=2)
    return now


def call(
    http: FlaskClient, partner: Partner, token: str, method: str, path: str, body: Any = None,
    **kwargs: Any,
) -> TestResponse:  # fmt: skip
    """Call the sandbox API as the partner's client would (DPoP-bound token, fresh proof)."""
    headers = partner.client.resource_headers(method, f"{ISSUER}{API}{path}", token)
    return http.open(f"{API}{path}", method=method, headers=headers, json=body, **kwargs)


def sandbox_token(partner: Partner) -> str:
    return str(partner.client.client_credentials("sandbox")["access_token"])


def error(response: TestResponse) -> dict[str, Any]:
    body: dict[str, Any] = response.json or {}
    assert body["Id"] == response.headers["x-fapi-interaction-id"]
    first: dict[str, Any] = body["Errors"][0]
    return first


def clock(http: FlaskClient, partner: Partner, token: str) -> dt.datetime:
    response = call(http, partner, token, "GET", "/clock")
    assert response.status_code == 200, response.json
    return dt.datetime.fromisoformat((response.json or {})["Data"]["DateTime"])


@pytest.fixture
def owner(oauth_app: Flask, http: FlaskClient) -> tuple[Partner, str]:
    """A sandbox partner and its sandbox-scoped client-credentials token."""
    partner = register_partner(oauth_app, http, roles=("AISP",))
    return partner, sandbox_token(partner)


# -- reading, moving and resetting --------------------------------------------------------------


def test_the_clock_is_the_sandboxs_time(
    oauth_app: Flask, http: FlaskClient, owner: tuple[Partner, str]
) -> None:
    partner, token = owner
    response = call(http, partner, token, "GET", "/clock")
    assert response.status_code == 200, response.json
    body = response.json or {}
    assert body["Data"]["SandboxId"] == partner.organisation_id
    assert near(
        dt.datetime.fromisoformat(body["Data"]["DateTime"]),
        bank_now(oauth_app, partner.organisation_id),
    )
    assert body["Data"]["Customers"] > 0 and body["Data"]["Accounts"] > 0
    assert body["Links"]["Self"] == f"{ISSUER}{API}/clock"
    # The edge treats it as an API: an interaction id, the app's rate limits, no cookie.
    assert response.headers["x-fapi-interaction-id"]
    assert "RateLimit-Limit" in response.headers
    assert "Set-Cookie" not in response.headers


def test_advance_moves_the_clock_and_says_what_ran(
    oauth_app: Flask, http: FlaskClient, owner: tuple[Partner, str]
) -> None:
    partner, token = owner
    before = clock(http, partner, token)
    response = call(
        http, partner, token, "POST", "/clock/advance", {"Data": {"Days": 35, "Hours": 30}}
    )
    assert response.status_code == 200, response.json
    data = (response.json or {})["Data"]
    moved = dt.timedelta(days=36, hours=6)
    previous = dt.datetime.fromisoformat(data["PreviousDateTime"])
    assert near(previous, before)
    assert near(dt.datetime.fromisoformat(data["DateTime"]), previous + moved)
    assert data["Advanced"] == {"Days": 36, "Hours": 6}
    # Over a month, the rent's standing order falls due at least once.
    assert data["Executed"].get("StandingOrder", 0) >= 1
    assert all(key[:1].isupper() and "_" not in key for key in data["Executed"])
    # The clock stays where it was moved; the account APIs read the same time.
    assert near(clock(http, partner, token), before + moved)
    assert near(bank_now(oauth_app, partner.organisation_id), before + moved)


def test_reset_goes_back_to_the_seed_and_real_time(
    oauth_app: Flask, http: FlaskClient, owner: tuple[Partner, str]
) -> None:
    partner, token = owner
    accounts = _account_ids(oauth_app, partner.organisation_id)
    assert (
        call(http, partner, token, "POST", "/clock/advance", {"Data": {"Days": 3}}).status_code
        == 200
    )
    assert clock(http, partner, token) > real_now(oauth_app) + dt.timedelta(days=2)
    response = call(http, partner, token, "POST", "/reset")
    assert response.status_code == 200, response.json
    data = (response.json or {})["Data"]
    assert data["SandboxId"] == partner.organisation_id
    assert near(dt.datetime.fromisoformat(data["DateTime"]), real_now(oauth_app))
    # Same seed, same ids: a partner's fixtures survive a reset.
    assert _account_ids(oauth_app, partner.organisation_id) == accounts
    # Resetting again is the same reset; an empty Data object is a body it takes.
    again = call(http, partner, token, "POST", "/reset", {"Data": {}})
    assert again.status_code == 200
    assert {k: v for k, v in (again.json or {})["Data"].items() if k != "DateTime"} == {
        k: v for k, v in data.items() if k != "DateTime"
    }


def test_reset_of_a_sandbox_not_made_yet_makes_it(
    oauth_app: Flask, http: FlaskClient, owner: tuple[Partner, str]
) -> None:
    partner, token = owner
    response = call(http, partner, token, "POST", "/reset")
    assert response.status_code == 200, response.json
    made = dt.datetime.fromisoformat((response.json or {})["Data"]["DateTime"])
    assert near(made, real_now(oauth_app))


def _account_ids(app: Flask, tenant: str) -> list[str]:
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        core = app.extensions["sandbox"](session)
        core.ensure_tenant(tenant)
        return sorted(
            account.id
            for customer in core.customers(tenant)
            for account in core.accounts(tenant, customer.id)
        )


def test_the_example_client_can_script_it(owner: tuple[Partner, str]) -> None:
    partner, token = owner
    moved = partner.client.post(f"{API}/clock/advance", token, {"Data": {"Hours": 2}})
    assert moved["Data"]["Advanced"] == {"Days": 0, "Hours": 2}
    # The clock runs on between the two calls (by whole seconds under load): near, not equal.
    read = partner.client.get(f"{API}/clock", token)["Data"]["DateTime"]
    assert near(
        dt.datetime.fromisoformat(read), dt.datetime.fromisoformat(moved["Data"]["DateTime"])
    )


# -- who may call it ----------------------------------------------------------------------------


def test_no_token_is_401(http: FlaskClient) -> None:
    response = http.get(f"{API}/clock")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error(response)["ErrorCode"] == "U042"


def test_a_customers_token_is_told_to_use_a_client_credentials_one(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP",))
    customers = obtain_unbound(oauth_app, http, partner)
    response = http.get(f"{API}/clock", headers={"Authorization": f"Bearer {customers}"})
    assert response.status_code == 401
    assert "needs a client credentials token" in error(response)["Message"]


def test_a_token_without_the_sandbox_scope_is_403(oauth_app: Flask, http: FlaskClient) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]
    response = call(http, partner, token, "POST", "/clock/advance", {"Data": {"Days": 1}})
    assert response.status_code == 403
    assert error(response) == {"ErrorCode": "U042", "Message": "the token lacks the sandbox scope"}


def test_a_token_acts_on_its_own_organisations_sandbox_only(
    oauth_app: Flask, http: FlaskClient, owner: tuple[Partner, str]
) -> None:
    partner, token = owner
    other = register_partner(oauth_app, http, roles=("AISP",))
    other_token = sandbox_token(other)
    theirs = clock(http, other, other_token)
    ours = call(http, partner, token, "POST", "/clock/advance", {"Data": {"Days": 7}})
    assert (ours.json or {})["Data"]["SandboxId"] == partner.organisation_id
    assert near(clock(http, other, other_token), theirs)
    # There is no way to name another sandbox: such a field is refused, and nothing moves.
    for body in (
        {"Data": {"Days": 1, "SandboxId": other.organisation_id}},
        {"Data": {"Days": 1}, "SandboxId": other.organisation_id},
    ):
        refused = call(http, partner, token, "POST", "/clock/advance", body)
        assert refused.status_code == 400 and error(refused)["ErrorCode"] == "U005"
    assert near(clock(http, other, other_token), theirs)
    # Nor does another organisation's token reach this one's.
    assert (call(http, other, other_token, "POST", "/reset").json or {})["Data"][
        "SandboxId"
    ] == other.organisation_id


def _production_client(app: Flask, http: FlaskClient, partner: Partner) -> PartnerClient:
    """An approved production app of the partner's (now approved) organisation."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        organisation = session.get_one(Organisation, partner.organisation_id)
        services.set_organisation_status(session, organisation.id, "approved")
        production, _secret = services.create_app(
            session, organisation, name="Live App", redirect_uris=["https://tpp.example/cb"],
            token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [public(partner.private_jwk)]}, environment="production",
            dpop_bound=True,
        )  # fmt: skip
        services.approve_app(session, production)
        client_id = production.client_id
        assert session.get_one(App, client_id).status == "active"
    return PartnerClient(
        ISSUER, client_id, REDIRECT_URI, partner.private_jwk, transport=flask_transport(http)
    )


def test_a_production_app_is_refused_with_a_clear_error(
    oauth_app: Flask, http: FlaskClient
) -> None:
    partner = register_partner(oauth_app, http, roles=("AISP",))
    live = _production_client(oauth_app, http, partner)
    with pytest.raises(GatewayError) as refused:
        live.client_credentials("sandbox")
    assert refused.value.status == 400
    assert refused.value.body == {
        "error": "invalid_scope",
        "error_description": "the sandbox scope is for sandbox apps only",
    }
    token = live.client_credentials("accounts")["access_token"]
    headers = live.resource_headers("GET", f"{ISSUER}{API}/clock", token)
    response = http.get(f"{API}/clock", headers=headers)
    assert response.status_code == 403
    assert error(response)["ErrorCode"] == "U042"
    assert "production app, which has no sandbox" in error(response)["Message"]


def test_the_sandbox_scope_is_published_and_never_in_an_authorization_request(
    oauth_app: Flask, http: FlaskClient, owner: tuple[Partner, str]
) -> None:
    partner, _token = owner
    metadata = http.get("/.well-known/oauth-authorization-server").json or {}
    assert "sandbox" in metadata["scopes_supported"]
    from tests.common.oauth import create_consent

    consent_id = create_consent(oauth_app, partner)
    with pytest.raises(GatewayError) as refused:
        partner.client.push_authorization_request(consent_id, scope="accounts sandbox")
    assert refused.value.body["error"] == "invalid_scope"


# -- bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "path"),
    [
        ({"Data": {"Days": -1}}, "U002", "Data.Days"),
        ({"Data": {"Hours": -5}}, "U002", "Data.Hours"),
        ({"Data": {"Days": 0}}, "U002", "Data"),
        ({"Data": {"Days": 0, "Hours": 0}}, "U002", "Data"),
        ({"Data": {}}, "U002", "Data"),
        ({"Data": {"Days": 367}}, "U002", "Data.Days"),
        ({"Data": {"Days": 366, "Hours": 1}}, "U002", "Data"),
        ({"Data": {"Hours": 10**30}}, "U002", "Data.Hours"),
        ({"Data": {"Days": 1.5}}, "U002", "Data.Days"),
        ({"Data": {"Days": 1.0}}, "U002", "Data.Days"),
        ({"Data": {"Days": "1"}}, "U002", "Data.Days"),
        ({"Data": {"Days": True}}, "U002", "Data.Days"),
        ({"Data": {"Days": None}}, "U002", "Data.Days"),
        ({"Data": {"Minutes": 30}}, "U005", "Data.Minutes"),
        ({"Data": {"Days": 1}, "Risk": {}}, "U005", "Risk"),
        ({"Data": 5}, "U002", "Data"),
        ({"Days": 1}, "U004", "Data"),
        ([], "U002", None),
    ],
)
def test_a_bad_advance_is_refused_and_moves_nothing(
    http: FlaskClient, owner: tuple[Partner, str], body: Any, code: str, path: str | None
) -> None:
    partner, token = owner
    before = clock(http, partner, token)
    response = call(http, partner, token, "POST", "/clock/advance", body)
    assert response.status_code == 400, response.json
    found = error(response)
    assert found["ErrorCode"] == code, found
    assert found.get("Path") == path
    assert near(clock(http, partner, token), before)


def test_a_body_that_is_not_json_is_refused(http: FlaskClient, owner: tuple[Partner, str]) -> None:
    partner, token = owner
    url = f"{ISSUER}{API}/clock/advance"
    headers = partner.client.resource_headers("POST", url, token)
    broken = http.post(
        f"{API}/clock/advance", headers=headers, data="{", content_type="application/json"
    )
    assert broken.status_code == 400 and error(broken)["ErrorCode"] == "U010"
    headers = partner.client.resource_headers("POST", url, token)
    form = http.post(f"{API}/clock/advance", headers=headers, data={"Days": "1"})
    assert form.status_code == 415 and error(form) == {
        "ErrorCode": "U006",
        "Message": "The body must be application/json",
        "Path": "Content-Type",
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [({"Data": {"Seed": 7}}, "U005"), ({"Data": {}, "Seed": 7}, "U005"), ({}, "U004")],
)
def test_a_reset_takes_no_parameters(
    http: FlaskClient, owner: tuple[Partner, str], body: Any, code: str
) -> None:
    partner, token = owner
    response = call(http, partner, token, "POST", "/reset", body)
    assert response.status_code == 400
    assert code in {e["ErrorCode"] for e in (response.json or {})["Errors"]}


def test_a_year_at_once_is_the_most_one_call_moves(
    http: FlaskClient, owner: tuple[Partner, str]
) -> None:
    partner, token = owner
    before = clock(http, partner, token)
    response = call(http, partner, token, "POST", "/clock/advance", {"Data": {"Days": 366}})
    assert response.status_code == 200, response.json
    assert near(clock(http, partner, token), before + dt.timedelta(days=366))


def test_a_method_a_path_does_not_take_is_405(oauth_app: Flask) -> None:
    response = FlaskClient(oauth_app).get(f"{API}/reset")
    assert response.status_code == 405 and response.headers["Allow"]
    assert (response.json or {})["Errors"][0]["ErrorCode"] == "U010"


def test_the_guides_curl_calls_work_with_a_bearer_token(
    oauth_app: Flask, http: FlaskClient
) -> None:
    """docs/getting-started.md: a client_secret_basic app without DPoP, HTTP Basic at /token and
    a plain bearer token on the sandbox API."""
    partner = register_partner(oauth_app, http, roles=("AISP",), method="client_secret_basic")
    assert partner.secret is not None
    basic = base64.b64encode(f"{partner.client_id}:{partner.secret}".encode()).decode()
    issued = http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "sandbox"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert issued.status_code == 200, issued.json
    bearer = {"Authorization": f"Bearer {(issued.json or {})['access_token']}"}
    assert http.get(f"{API}/clock", headers=bearer).status_code == 200
    assert http.post(f"{API}/reset", headers=bearer).status_code == 200
    moved = http.post(
        f"{API}/clock/advance", headers=bearer, json={"Data": {"Days": 30, "Hours": 6}}
    )
    assert moved.status_code == 200, moved.json
    assert (moved.json or {})["Data"]["Advanced"] == {"Days": 30, "Hours": 6}
