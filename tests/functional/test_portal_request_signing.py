"""The app page's **Message signing** card: what a signature must name, and the switch that lets
a sandbox app send unsigned requests while its developer builds its signing (never a production
app)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from gateway.app import create_app
from gateway.store.database import Database
from partners import services
from partners.models import App
from tests.common.oauth import new_key, public
from tests.functional.test_portal import Dev, created_client_id, make_ops, new_app, post, sign_up


@pytest.fixture(scope="module")
def portal(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": True}
    )
    yield app
    app.extensions["database"].dispose()


def _row(portal: Flask, client_id: str) -> App:
    database: Database = portal.extensions["database"]
    with database.sessions() as session:
        return session.get_one(App, client_id)


def _card(dev: Dev, client_id: str) -> str:
    html = dev.client.get(f"/portal/apps/{client_id}").get_data(as_text=True)
    found = re.search(r'<section class="card" aria-labelledby="signing-heading">(.*?)</section>',
                      html, re.DOTALL)  # fmt: skip
    assert found is not None, html
    return found.group(1)


def _required(card: str) -> str:
    found = re.search(r'<dd id="request-signing">([^<]*)', card)
    assert found is not None, card
    return found.group(1).strip()


def test_a_sandbox_app_page_says_how_to_sign_and_switches_signing_off_and_on(
    portal: Flask,
) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev, name="Signing App"))
    page = f"/portal/apps/{client_id}"
    card = _card(dev, client_id)
    assert _required(card) == "Required"
    assert re.findall(r'class="signing-iss">([^<]+)<', card) == [
        client_id, f"{dev.organisation_id}/{client_id}",
    ]  # fmt: skip
    assert '<code id="signing-tan">localhost</code>' in card
    assert "Stop requiring signed requests" in card
    # A client_secret_basic app has no key to sign with yet: the card says so.
    assert 'id="signing-no-keys"' in card

    action = f"/portal/apps/{client_id}/request-signing"
    off = post(dev.client, action, page, {"required": "off"})
    assert off.status_code == 303 and off.headers["Location"] == page
    assert _row(portal, client_id).request_signing is False
    card = _card(dev, client_id)
    assert _required(card).startswith("Off")
    assert "Require signed requests" in card

    on = post(dev.client, action, page, {"required": "on"})
    assert on.status_code == 303
    assert _row(portal, client_id).request_signing is True
    assert _required(_card(dev, client_id)) == "Required"


def test_a_production_app_always_signs(portal: Flask) -> None:
    dev = sign_up(portal, legal_name="Signing Production Ltd")
    ops = make_ops(portal)
    approve = f"/portal/ops/organisations/{dev.organisation_id}/approve"
    assert post(ops, approve, "/portal/ops", {}).status_code == 303
    answer = new_app(
        dev, environment="production", token_endpoint_auth_method="private_key_jwt",
        jwks=json.dumps({"keys": [public(new_key())]}), dpop_bound="on",
        redirect_uris="https://tpp.example/callback",
    )  # fmt: skip
    client_id = created_client_id(answer)
    page = f"/portal/apps/{client_id}"
    card = _card(dev, client_id)
    assert _required(card) == "Required"
    assert "Production apps always sign their requests." in card
    assert 'id="signing-no-keys"' not in card
    assert "<form" not in card

    # A form sent anyway is refused, and says why.
    refused = post(dev.client, f"{page}/request-signing", page, {"required": "off"})
    assert refused.status_code == 303
    assert _row(portal, client_id).request_signing is True
    assert "Production apps must sign their requests" in dev.client.get(page).get_data(as_text=True)


def test_an_app_registered_with_a_software_statement_is_named_by_it_too(portal: Flask) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev, name="Registered App"))
    database: Database = portal.extensions["database"]
    with database.sessions.begin() as session:
        session.get_one(App, client_id).software_id = "SoftwareId0000000000022"
    card = _card(dev, client_id)
    assert re.findall(r'class="signing-iss">([^<]+)<', card) == services.signing_issuers(
        client_id, dev.organisation_id, "SoftwareId0000000000022"
    )
    assert f"{dev.organisation_id}/SoftwareId0000000000022" in card


def test_another_organisation_cannot_switch_an_apps_signing(portal: Flask) -> None:
    owner = sign_up(portal)
    client_id = created_client_id(new_app(owner, name="Owned App"))
    stranger = sign_up(portal)
    answer = post(stranger.client, f"/portal/apps/{client_id}/request-signing", "/portal/apps",
                  {"required": "off"})  # fmt: skip
    assert answer.status_code == 404
    assert _row(portal, client_id).request_signing is True
