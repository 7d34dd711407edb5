"""The developer portal through Flask's test client: accounts, apps, secrets, software
statements, ops, and the try-the-flow walkthrough."""

from __future__ import annotations

import base64
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from gateway.app import create_app
from gateway.store.database import Database
from partners import services
from partners.models import App, Developer
from tests.common.oauth import (
    ISSUER,
    Transport,
    approve_in_browser,
    flask_transport,
    new_key,
    public,
    register_partner,
)

PASSWORD = "correct horse battery staple"
CONSENTS = "/open-banking/v4.0/aisp/account-access-consents"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SECRET = re.compile(r'id="client-secret"[^>]*value="(obs_[^"]+)"')
_CLIENT_ID = re.compile(r'id="client-id">(cli_[a-z0-9]+)<')


def threaded(transport: Transport) -> Transport:
    """Send each request from a thread of its own, as a separate server thread would serve it.

    The portal calls the gateway while it serves a request; Flask's test client run in the same
    thread would reuse that request's application context (and its database session).
    """

    def send(
        method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(transport, method, url, headers, body).result()

    return send


@pytest.fixture(scope="module")
def portal(database_url: str) -> Iterator[Flask]:
    """The gateway with CSRF protection on, its try-the-flow client wired to the test client."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": True}
    )
    app.config["PORTAL_TRIAL_TRANSPORT"] = threaded(flask_transport(app.test_client()))
    yield app
    app.extensions["database"].dispose()


def csrf(page: Any) -> str:
    """The CSRF token of a rendered page."""
    found = _CSRF.search(page.get_data(as_text=True))
    assert found is not None, page.get_data(as_text=True)
    return found.group(1)


def post(client: FlaskClient, url: str, form_page: str, data: dict[str, Any]) -> Any:
    """Post a form the way a browser does: with the CSRF token of the page it came from."""
    return client.post(url, data={"csrf_token": csrf(client.get(form_page)), **data})


@dataclass
class Dev:
    """A developer signed in to the portal in ``client``."""

    client: FlaskClient
    email: str
    organisation_id: str


def signup_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "name": "Ada Developer",
        "email": f"ada-{uuid.uuid4().hex[:10]}@tpp.example",
        "password": PASSWORD,
        "legal_name": "Portal Partner Ltd",
        "country": "GB",
        "registration_number": "09876543",
        "roles": ["AISP", "PISP"],
    }
    return {**form, **overrides}


def sign_up(app: Flask, *, prepare: bool = True, **overrides: Any) -> Dev:
    """A new organisation and its first developer, signed in; with ``prepare``, its sandbox made
    as the browser makes it (the "Preparing your sandbox" page's refresh)."""
    client = app.test_client()
    form = signup_form(**overrides)
    answer = post(client, "/portal/signup", "/portal/signup", form)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"] == "/portal/organisation"
    if prepare:
        prepared = client.get("/portal/organisation/sandbox/prepare")
        assert prepared.status_code == 303, prepared.get_data(as_text=True)
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        developer = session.scalars(select(Developer).where(Developer.email == form["email"])).one()
        assert developer.organisation_id is not None
        return Dev(client, form["email"], developer.organisation_id)


def new_app(dev: Dev, **fields: Any) -> Any:
    form = {
        "name": "Portal App",
        "redirect_uris": "https://tpp.example/callback\nhttp://127.0.0.1:8765/callback",
        "token_endpoint_auth_method": "client_secret_basic",
        "environment": "sandbox",
        **fields,
    }
    return post(dev.client, "/portal/apps/new", "/portal/apps/new", form)


def created_client_id(answer: Any) -> str:
    if answer.status_code == 303:
        return str(answer.headers["Location"].rsplit("/", 1)[1])
    found = _CLIENT_ID.search(answer.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def make_ops(app: Flask) -> FlaskClient:
    database: Database = app.extensions["database"]
    email = f"ops-{uuid.uuid4().hex[:8]}@bank.example"
    with database.sessions.begin() as session:
        services.create_ops_account(session, email, "Olive Ops", PASSWORD)
    client = app.test_client()
    answer = post(client, "/portal/login", "/portal/login", {"email": email, "password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal/ops"
    return client


def app_status(app: Flask, client_id: str) -> str:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        return session.get_one(App, client_id).status


# -- accounts ---------------------------------------------------------------------------------


def test_sign_up_lands_on_the_organisation_with_its_sandbox(portal: Flask) -> None:
    dev = sign_up(portal, legal_name="Lumen Pay Ltd", country="SG")
    page = dev.client.get("/portal/organisation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Lumen Pay Ltd" in html and "09876543" in html and "SG" in html
    assert "pending" in html and "Production needs the bank&#39;s approval" in html
    assert f'id="organisation-id">{dev.organisation_id}<' in html
    assert "AISP" in html and "PISP" in html
    # Five test customers with their logins and a table of their accounts.
    assert len(re.findall(r'class="login-username"', html)) == 5
    assert len(re.findall(r'class="login-password"', html)) == 5
    assert "Booked balance" in html and "CurrentAccount" in html and "GBP" in html


def test_sign_up_shows_each_error_next_to_its_field(portal: Flask) -> None:
    client = portal.test_client()
    cases = {
        "password": signup_form(password="short"),
        "email": signup_form(email="not-an-address"),
        "roles": signup_form(roles=[]),
        "country": signup_form(country="XX1"),
        "legal_name": signup_form(legal_name=" "),
    }
    for field, form in cases.items():
        answer = post(client, "/portal/signup", "/portal/signup", form)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 400, field
        assert f'id="{field}-error"' in html, field
        assert len(re.findall(r'class="field-error"', html)) == 1, field
    taken = sign_up(portal)
    answer = post(client, "/portal/signup", "/portal/signup", signup_form(email=taken.email))
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'id="email-error">E-mail address: an account with this e-mail exists<' in html


def _field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'class="field-error" id="([a-z_]+)-error">([^<]+)<', html))


def test_an_empty_sign_up_shows_every_error_at_once_by_the_fields_labels(portal: Flask) -> None:
    client = portal.test_client()
    answer = post(client, "/portal/signup", "/portal/signup", {})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    labels = {
        "name": "Your name",
        "email": "E-mail address",
        "password": "Password",
        "legal_name": "Legal name",
        "country": "Country of registration",
        "registration_number": "Company registration number",
        "roles": "Roles you will use",
    }
    errors = _field_errors(html)
    assert list(errors) == list(labels)  # every field, in the order of the page
    for field, label in labels.items():
        assert f">{label}<" in html  # the label the page shows ...
        assert label.casefold() in errors[field].casefold(), errors[field]  # ... names the error
        assert "_" not in errors[field]  # never the raw name (legal_name, ...)
    # The summary above the form lists the same messages, each a link to its field.
    summary = re.search(r'class="error-summary".*?</div>', html, re.S)
    assert summary is not None and "Fix these 7 problems" in summary.group(0)
    links = re.findall(r'<a href="#([a-z_]+)">([^<]+)</a>', summary.group(0))
    assert links == list(errors.items())


def test_sign_up_errors_keep_what_was_typed_except_the_password(portal: Flask) -> None:
    client = portal.test_client()
    form = signup_form(
        name="Ada Developer", password="short", legal_name="x" * 141, country="SG", roles=["AISP"]
    )
    answer = post(client, "/portal/signup", "/portal/signup", form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert _field_errors(html) == {
        "password": "Password: use at least 12 characters",
        "legal_name": "Legal name must be 1 to 140 characters",
    }
    assert "Fix these 2 problems" in html
    assert 'value="Ada Developer"' in html and f'value="{form["email"]}"' in html
    assert f'value="{"x" * 141}"' in html and 'value="09876543"' in html
    assert '<option value="SG" selected>' in html
    assert 'value="AISP" checked' in html and 'value="PISP" checked' not in html
    assert 'value="short"' not in html


def _sign_in_error(client: FlaskClient, email: str, password: str) -> str:
    answer = post(client, "/portal/login", "/portal/login", {"email": email, "password": password})
    assert answer.status_code == 401
    found = re.search(r'id="login-error">([^<]+)<', answer.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_sign_in_failure_does_not_say_whether_the_address_exists(portal: Flask) -> None:
    dev = sign_up(portal)
    client = portal.test_client()
    unknown = _sign_in_error(client, "nobody-here@tpp.example", PASSWORD)
    wrong = _sign_in_error(client, dev.email, PASSWORD + "!")
    assert unknown == wrong == "The e-mail address or password is not right."


def test_sign_in_starts_a_new_session_and_sign_out_ends_it(portal: Flask) -> None:
    dev = sign_up(portal)
    client = portal.test_client()
    assert client.get("/portal/").headers["Location"] == "/portal/login"
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    answer = post(
        client, "/portal/login", "/portal/login", {"email": dev.email, "password": PASSWORD}
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal/apps"
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get("/portal/").headers["Location"] == "/portal/apps"
    assert client.get("/portal/apps").status_code == 200
    assert post(client, "/portal/logout", "/portal/apps", {}).status_code == 303
    answer = client.get("/portal/apps")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/portal/login")


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("gateway_session")
    assert cookie is not None
    return cookie.value


def test_a_copied_session_cookie_dies_with_the_session(portal: Flask) -> None:
    """Sessions live server-side: signing out ends them for every holder of the cookie, and a
    sign-in moves to a new session id (fixation)."""
    dev = sign_up(portal)
    browser = portal.test_client()
    browser.get("/portal/login")  # the sign-in form starts a session (its CSRF token)
    before = _session_cookie(browser)
    form = {"email": dev.email, "password": PASSWORD}
    assert post(browser, "/portal/login", "/portal/login", form).status_code == 303
    signed_in = _session_cookie(browser)
    assert signed_in != before
    # The cookie is an opaque id: nothing of the developer travels in it.
    assert dev.email not in signed_in and "." not in signed_in
    thief = portal.test_client()
    thief.set_cookie("gateway_session", signed_in)
    assert thief.get("/portal/apps").status_code == 200
    assert post(browser, "/portal/logout", "/portal/apps", {}).status_code == 303
    answer = thief.get("/portal/apps")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/portal/login")
    # The id from before the sign-in opens nothing either.
    planted = portal.test_client()
    planted.set_cookie("gateway_session", before)
    assert planted.get("/portal/apps").status_code == 303


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(portal: Flask) -> None:
    dev = sign_up(portal)
    client = portal.test_client()
    form = {"email": dev.email, "password": PASSWORD}
    back = post(client, "/portal/login", "/portal/login", {**form, "next": "/portal/organisation"})
    assert back.headers["Location"] == "/portal/organisation"
    client = portal.test_client()
    away = post(client, "/portal/login", "/portal/login", {**form, "next": "//evil.example/"})
    assert away.headers["Location"] == "/portal/apps"


@pytest.mark.parametrize("base_url", ["https://portal.example", "http://gateway.example"])
def test_session_cookie_is_httponly_lax_and_secure_by_default(portal: Flask, base_url: str) -> None:
    # Secure everywhere but on a plain-http loopback URL (see gateway.sessions).
    client = portal.test_client()
    token = csrf(client.get("/portal/signup", base_url=base_url))
    answer = client.post(
        "/portal/signup",
        base_url=base_url,
        data={"csrf_token": token, **signup_form()},
        # Over https, Flask-WTF also checks that the form came from this origin.
        headers={"Referer": f"{base_url}/portal/signup"},
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("gateway_"))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax"} <= flags


def test_every_form_post_needs_the_csrf_token(portal: Flask) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev))
    org = dev.organisation_id
    urls = [
        "/portal/signup",
        "/portal/login",
        "/portal/logout",
        "/portal/apps/new",
        *(
            f"/portal/apps/{client_id}/{action}"
            for action in (
                "redirect-uris", "keys", "secret", "delete", "software-statement", "try",
                "try/redirect-uri",
            )
        ),
        f"/portal/ops/organisations/{org}/approve",
        f"/portal/ops/organisations/{org}/suspend",
        f"/portal/ops/apps/{client_id}/suspend",
        f"/portal/ops/apps/{client_id}/tier",
        "/portal/organisation/sandbox/clock",
        "/portal/organisation/sandbox/reset",
    ]  # fmt: skip
    for url in urls:
        answer = dev.client.post(url, data={"confirm": "yes"})
        assert answer.status_code == 400, url
        assert "Form expired" in answer.get_data(as_text=True)
    assert app_status(portal, client_id) == "active"  # nothing happened


# -- apps ---------------------------------------------------------------------------------------


def test_private_key_jwt_app_shows_its_keys_and_test_customers(portal: Flask) -> None:
    dev = sign_up(portal)
    key = new_key()
    answer = new_app(
        dev,
        name="Keyed App",
        token_endpoint_auth_method="private_key_jwt",
        jwks=json.dumps({"keys": [public(key)]}),
        dpop_bound="on",
    )
    assert answer.status_code == 303
    client_id = created_client_id(answer)
    html = dev.client.get(f"/portal/apps/{client_id}").get_data(as_text=True)
    assert client_id in html and "private_key_jwt" in html and key["kid"] in html
    assert "ES256" in html and "EC" in html and "https://tpp.example/callback" in html
    assert "DPoP-bound tokens</dt><dd>Yes" in html
    assert len(re.findall(r'class="login-username"', html)) == 5
    assert "<code>.second</code>" in html and 'href="/docs/scenarios"' in html
    listing = dev.client.get("/portal/apps").get_data(as_text=True)
    assert "Keyed App" in listing and client_id in listing and "sandbox" in listing


def test_new_app_errors_are_shown_next_to_their_fields(portal: Flask) -> None:
    dev = sign_up(portal)
    cases = {
        "redirect_uris": {"redirect_uris": "http://tpp.example/callback"},
        "jwks": {"token_endpoint_auth_method": "private_key_jwt", "jwks": "{not json"},
        "environment": {"environment": "production"},
        "name": {"name": ""},
    }
    for field, fields in cases.items():
        answer = new_app(dev, **fields)
        assert answer.status_code == 400, field
        assert f'id="{field}-error"' in answer.get_data(as_text=True), field
    page = dev.client.get("/portal/apps/new").get_data(as_text=True)
    assert 'value="production"' not in page  # offered to approved organisations only


def test_client_secret_is_shown_once_and_works(portal: Flask) -> None:
    dev = sign_up(portal, roles=["AISP"])
    answer = new_app(dev)
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    html = answer.get_data(as_text=True)
    assert "Copy the client secret now" in html
    found = _SECRET.search(html)
    assert found is not None
    secret = found.group(1)
    client_id = created_client_id(answer)
    for url in (f"/portal/apps/{client_id}", "/portal/apps", "/portal/organisation"):
        assert secret not in dev.client.get(url).get_data(as_text=True)
    with dev.client.session_transaction() as session:
        assert secret not in json.dumps(dict(session))
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = dev.client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "accounts"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200, token.get_data(as_text=True)
    rotated = post(dev.client, f"/portal/apps/{client_id}/secret", f"/portal/apps/{client_id}", {})
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    new_found = _SECRET.search(rotated.get_data(as_text=True))
    assert new_found is not None and new_found.group(1) != secret
    old = dev.client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "accounts"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert old.status_code == 401


def test_redirect_uris_keys_and_delete(portal: Flask) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev))
    page = f"/portal/apps/{client_id}"
    saved = post(dev.client, f"{page}/redirect-uris", page, {"uris": "https://tpp.example/new\n"})
    assert saved.status_code == 303
    html = dev.client.get(page).get_data(as_text=True)
    assert "Redirect URIs saved." in html and "https://tpp.example/new" in html
    refused = post(dev.client, f"{page}/redirect-uris", page, {"uris": "http://tpp.example/x"})
    assert refused.status_code == 303
    assert "redirect URIs must use https" in dev.client.get(page).get_data(as_text=True)
    key = new_key()
    post(dev.client, f"{page}/keys", page, {"jwks": json.dumps({"keys": [public(key)]})})
    assert key["kid"] in dev.client.get(page).get_data(as_text=True)
    unconfirmed = post(dev.client, f"{page}/delete", page, {})
    assert unconfirmed.status_code == 303 and app_status(portal, client_id) == "active"
    deleted = post(dev.client, f"{page}/delete", page, {"confirm": "yes"})
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/portal/apps"
    assert dev.client.get(page).status_code == 404


def test_another_organisations_app_is_not_found(portal: Flask) -> None:
    owner = sign_up(portal)
    client_id = created_client_id(new_app(owner))
    stranger = sign_up(portal)
    page = f"/portal/apps/{client_id}"
    assert stranger.client.get(page).status_code == 404
    assert stranger.client.get(f"{page}/try").status_code == 404
    token = csrf(stranger.client.get("/portal/apps"))
    for action in ("redirect-uris", "keys", "secret", "delete", "software-statement", "try"):
        answer = stranger.client.post(
            f"{page}/{action}",
            data={"csrf_token": token, "confirm": "yes", "uris": "https://x.example/"},
        )
        assert answer.status_code == 404, action
    assert client_id not in stranger.client.get("/portal/apps").get_data(as_text=True)
    assert app_status(portal, client_id) == "active"


def test_software_statement_names_the_organisation_and_redirect_uris(portal: Flask) -> None:
    dev = sign_up(portal, legal_name="Statement Partner Ltd")
    key = new_key()
    client_id = created_client_id(
        new_app(dev, token_endpoint_auth_method="private_key_jwt", jwks=json.dumps(public(key)))
    )
    page = f"/portal/apps/{client_id}"
    answer = post(dev.client, f"{page}/software-statement", page, {})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    ssa = re.search(r'id="ssa"[^>]*>([^<]+)<', html)
    software_id = re.search(r'id="software-id">([^<]+)<', html)
    assert ssa is not None and software_id is not None
    server_keys = KeySet.import_key_set(dev.client.get("/jwks").json)
    claims = jwt.decode(ssa.group(1).strip(), server_keys, algorithms=["ES256"]).claims
    assert claims["org_name"] == "Statement Partner Ltd"
    assert claims["org_id"] == dev.organisation_id
    assert claims["software_redirect_uris"] == [
        "https://tpp.example/callback",
        "http://127.0.0.1:8765/callback",
    ]
    assert claims["software_id"] == software_id.group(1)
    assert claims["software_jwks"]["keys"][0]["kid"] == key["kid"]
    # An app without keys has nothing for a statement to name.
    keyless = created_client_id(new_app(dev))
    refused = post(dev.client, f"/portal/apps/{keyless}/software-statement", page, {})
    assert refused.status_code == 303
    assert "register a JWKS" in dev.client.get(f"/portal/apps/{keyless}").get_data(as_text=True)


# -- ops ----------------------------------------------------------------------------------------


def test_ops_pages_do_not_exist_for_developers(portal: Flask) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev))
    assert dev.client.get("/portal/ops").status_code == 404
    token = csrf(dev.client.get("/portal/apps"))
    for url in (
        f"/portal/ops/organisations/{dev.organisation_id}/approve",
        f"/portal/ops/apps/{client_id}/suspend",
    ):
        assert dev.client.post(url, data={"csrf_token": token}).status_code == 404
    assert "/portal/ops" not in dev.client.get("/portal/apps").get_data(as_text=True)
    assert app_status(portal, client_id) == "active"


def test_ops_approve_an_organisation_and_its_production_app(portal: Flask) -> None:
    dev = sign_up(portal, legal_name="Approved Partner Ltd")
    ops = make_ops(portal)
    overview = ops.get("/portal/ops")
    assert overview.status_code == 200 and "Approved Partner Ltd" in overview.get_data(as_text=True)
    approve = f"/portal/ops/organisations/{dev.organisation_id}/approve"
    assert post(ops, approve, "/portal/ops", {}).status_code == 303
    html = dev.client.get("/portal/organisation").get_data(as_text=True)
    assert "Approved for production" in html
    assert 'value="production"' in dev.client.get("/portal/apps/new").get_data(as_text=True)
    key = new_key()
    answer = new_app(
        dev, environment="production", token_endpoint_auth_method="private_key_jwt",
        jwks=json.dumps({"keys": [public(key)]}), dpop_bound="on",
        redirect_uris="https://tpp.example/callback",
    )  # fmt: skip
    client_id = created_client_id(answer)
    assert app_status(portal, client_id) == "pending"
    assert post(ops, f"/portal/ops/apps/{client_id}/approve", "/portal/ops", {}).status_code == 303
    assert app_status(portal, client_id) == "active"
    # Ops see every app's page; suspending the organisation suspends its apps.
    assert ops.get(f"/portal/apps/{client_id}").status_code == 200
    suspend = f"/portal/ops/organisations/{dev.organisation_id}/suspend"
    assert post(ops, suspend, suspend, {"confirm": "yes"}).status_code == 303
    assert app_status(portal, client_id) == "suspended"
    assert "Suspended by the bank" in dev.client.get("/portal/organisation").get_data(as_text=True)


def test_a_suspended_apps_tokens_stop_working(portal: Flask) -> None:
    partner = register_partner(portal, portal.test_client(), roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]
    body = {"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}
    assert partner.client.post(CONSENTS, token, body)["Data"]["Status"] == "AWAU"
    ops = make_ops(portal)
    suspend = f"/portal/ops/apps/{partner.client_id}/suspend"
    answer = post(ops, suspend, suspend, {"confirm": "yes"})
    assert answer.status_code == 303
    assert "is suspended" in ops.get("/portal/ops").get_data(as_text=True)
    gateway_error = sys.modules[type(partner.client).__module__].GatewayError
    with pytest.raises(gateway_error) as refused:
        partner.client.post(CONSENTS, token, body)
    assert refused.value.status == 401
    reactivate = f"/portal/ops/apps/{partner.client_id}/reactivate"
    assert post(ops, reactivate, "/portal/ops", {}).status_code == 303
    assert app_status(portal, partner.client_id) == "active"


# -- try the flow -------------------------------------------------------------------------------


def _start_trial(dev: Dev, client_id: str, credential: str) -> str:
    page = f"/portal/apps/{client_id}/try"
    first = dev.client.get(page).get_data(as_text=True)
    assert "Add it as a redirect URI" in first
    assert post(dev.client, f"{page}/redirect-uri", page, {}).status_code == 303
    callback = f"{ISSUER}{page}/callback"
    assert callback in dev.client.get(f"/portal/apps/{client_id}").get_data(as_text=True)
    answer = post(
        dev.client, page, page,
        {"credential": credential, "permissions": ["ReadAccountsDetail", "ReadBalances"]},
    )  # fmt: skip
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    for title in ("Get a client-credentials token", "Create the account-access consent",
                  "Push the authorization request (PAR)"):  # fmt: skip
        assert title in html
    assert html.count("HTTP 201") >= 2
    link = re.search(r'id="authorization-link" href="([^"]+)"', html)
    assert link is not None
    return link.group(1).replace("&amp;", "&")


def _finish_trial(portal: Flask, dev: Dev, client_id: str, authorization_url: str) -> str:
    answer = approve_in_browser(portal, dev.client, authorization_url, dev.organisation_id)
    assert answer["iss"] == ISSUER and "code" in answer
    callback = dev.client.get(f"/portal/apps/{client_id}/try/callback", query_string=answer)
    html = callback.get_data(as_text=True)
    assert callback.status_code == 200, html
    assert "Exchange the code for tokens" in html
    assert "Call the API: the customer&#39;s accounts" in html
    assert "HTTP 200" in html and re.search(r'class="account-id">[^<]+<', html)
    return html


def test_try_the_flow_with_a_client_secret(portal: Flask) -> None:
    dev = sign_up(portal, roles=["AISP"])
    created = new_app(dev)
    secret_match = _SECRET.search(created.get_data(as_text=True))
    assert secret_match is not None
    secret, client_id = secret_match.group(1), created_client_id(created)
    url = _start_trial(dev, client_id, secret)
    with dev.client.session_transaction() as session:
        kept = json.dumps(dict(session))
    assert secret not in kept and "verifier" not in kept and "portal_trial" in kept
    html = _finish_trial(portal, dev, client_id, url)
    assert secret not in html  # the Basic credentials are shown masked
    assert re.search(r"Authorization: Basic \S{6}…\S{4}", html)
    again = dev.client.get(f"/portal/apps/{client_id}/try/callback?code=x&state=y")
    assert again.status_code == 400 and "expired" in again.get_data(as_text=True)


def test_try_the_flow_with_a_private_key(portal: Flask) -> None:
    dev = sign_up(portal, roles=["AISP"])
    key = new_key()
    client_id = created_client_id(
        new_app(dev, token_endpoint_auth_method="private_key_jwt", jwks=json.dumps(public(key)))
    )
    url = _start_trial(dev, client_id, json.dumps(key))
    html = _finish_trial(portal, dev, client_id, url)
    assert key["d"] not in html
    assert "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" in html


def test_try_the_flow_refuses_a_forged_authorization_response(portal: Flask) -> None:
    dev = sign_up(portal, roles=["AISP"])
    created = new_app(dev)
    secret_match = _SECRET.search(created.get_data(as_text=True))
    assert secret_match is not None
    client_id = created_client_id(created)
    url = _start_trial(dev, client_id, secret_match.group(1))
    answer = approve_in_browser(portal, dev.client, url, dev.organisation_id)
    forged = {**answer, "iss": "https://attacker.example"}
    callback = dev.client.get(f"/portal/apps/{client_id}/try/callback", query_string=forged)
    assert callback.status_code == 400
    assert "not from this issuer" in callback.get_data(as_text=True)


def test_try_the_flow_explains_a_wrong_credential(portal: Flask) -> None:
    dev = sign_up(portal, roles=["AISP"])
    key = new_key()
    client_id = created_client_id(
        new_app(dev, token_endpoint_auth_method="private_key_jwt", jwks=json.dumps(public(key)))
    )
    page = f"/portal/apps/{client_id}/try"
    post(dev.client, f"{page}/redirect-uri", page, {})
    form: Callable[[str], dict[str, Any]] = lambda credential: {  # noqa: E731
        "credential": credential, "permissions": ["ReadAccountsBasic"],
    }  # fmt: skip
    public_only = post(dev.client, page, page, form(json.dumps(public(key))))
    assert public_only.status_code == 400
    assert "This is a public key" in public_only.get_data(as_text=True)
    other = new_key()
    refused = post(dev.client, page, page, form(json.dumps(other)))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "HTTP 401" in html and "invalid_client" in html


def test_try_the_flow_reports_a_customer_who_says_no(portal: Flask) -> None:
    dev = sign_up(portal, roles=["AISP"])
    created = new_app(dev)
    secret_match = _SECRET.search(created.get_data(as_text=True))
    assert secret_match is not None
    client_id = created_client_id(created)
    url = _start_trial(dev, client_id, secret_match.group(1))
    answer = approve_in_browser(portal, dev.client, url, dev.organisation_id, decision="deny")
    callback = dev.client.get(f"/portal/apps/{client_id}/try/callback", query_string=answer)
    assert callback.status_code == 400
    assert "the bank answered access_denied" in callback.get_data(as_text=True)


def test_try_the_flow_runs_the_example_client_partners_download(portal: Flask) -> None:
    from gateway.portal import trial
    from partners import example_client

    dev = sign_up(portal, roles=["AISP"])
    client_id = created_client_id(new_app(dev))
    html = dev.client.get(f"/portal/apps/{client_id}/try").get_data(as_text=True)
    assert 'href="/docs/examples/partner_client.py"' in html
    with dev.client.get("/docs/examples/partner_client.py") as served:
        assert served.status_code == 200
        assert served.get_data(as_text=True) == Path(example_client.__file__).read_text()
    assert trial.example_client() is example_client


def test_navigation(portal: Flask) -> None:
    dev = sign_up(portal)
    html = dev.client.get("/portal/apps").get_data(as_text=True)
    nav = html.split('<nav class="portal-nav"', 1)[1].split("</nav>", 1)[0]
    for link in ("/portal/organisation", "/portal/apps", "/portal/logout"):
        assert link in nav
    assert ("/docs" in nav) == ("docs.index" in portal.view_functions)
    assert "/portal/ops" not in nav
    ops_nav = make_ops(portal).get("/portal/apps").get_data(as_text=True)
    assert 'href="/portal/ops"' in ops_nav and "/portal/organisation" not in ops_nav
