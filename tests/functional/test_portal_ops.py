"""The portal's ops page: suspending takes a confirmation step (a page of its own, no script
needed), rate-limit tiers are changed there, every form carries the CSRF token, and each change is
logged with the ops account that made it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from tests.common.oauth import register_partner
from tests.functional.test_portal import (
    app_status,
    created_client_id,
    csrf,
    make_ops,
    new_app,
    post,
    sign_up,
)

TIERS = {"sandbox": "100000/second", "tiny": "7/hour", "premium": "200/second;20000/minute"}
CONSENT = "/open-banking/v4.0/aisp/account-access-consents/aac-missing"


@pytest.fixture(scope="module")
def portal(database_url: str) -> Iterator[Flask]:
    """The gateway with CSRF protection on and one configured tier beside the defaults."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "WTF_CSRF_ENABLED": True,
            "RATE_LIMIT_TIERS": TIERS,
        }
    )
    yield app
    app.extensions["database"].dispose()


def _tier(app: Flask, client_id: str) -> str:
    with app.extensions["database"].sessions() as session:
        from partners.models import App

        return session.get_one(App, client_id).tier


def _confirmation(ops: FlaskClient, url: str) -> str:
    page = ops.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    # A real form: posting back to the action with the CSRF token and confirm=yes.
    main = html.split("<main", 1)[1]
    form = re.search(r'<form method="post" action="([^"]+)"', main)
    assert form is not None and form.group(1) == url
    assert 'name="confirm" value="yes"' in html and 'name="csrf_token"' in html
    return html


def test_suspending_an_app_asks_for_confirmation_first(
    portal: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    dev = sign_up(portal, legal_name="Careful Partner Ltd")
    client_id = created_client_id(new_app(dev, name="Careful App"))
    ops = make_ops(portal)
    suspend = f"/portal/ops/apps/{client_id}/suspend"
    overview = ops.get("/portal/ops").get_data(as_text=True)
    # The ops page links to the confirmation; it has no form that suspends at once.
    assert f'href="{suspend}"' in overview
    assert f'action="{suspend}"' not in overview
    html = _confirmation(ops, suspend)
    assert "Suspend Careful App?" in html and "stop working at once" in html
    assert 'href="/portal/ops"' in html  # cancel
    # A post without the confirmation is sent to the confirmation page, and changes nothing.
    unconfirmed = post(ops, suspend, "/portal/ops", {})
    assert unconfirmed.status_code == 303 and unconfirmed.headers["Location"] == suspend
    assert app_status(portal, client_id) == "active"
    with caplog.at_level(logging.INFO, logger="gateway.portal.ops"):
        confirmed = post(ops, suspend, suspend, {"confirm": "yes"})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/portal/ops"
    assert app_status(portal, client_id) == "suspended"
    assert "Careful App" in ops.get("/portal/ops").get_data(as_text=True)
    audit = [r.getMessage() for r in caplog.records if r.name == "gateway.portal.ops"]
    assert any("suspend app " + client_id in line and "@bank.example" in line for line in audit)
    # Reactivating needs no confirmation.
    reactivate = f"/portal/ops/apps/{client_id}/reactivate"
    assert post(ops, reactivate, "/portal/ops", {}).status_code == 303
    assert app_status(portal, client_id) == "active"


def test_suspending_an_organisation_says_what_it_does_and_waits_for_confirmation(
    portal: Flask,
) -> None:
    dev = sign_up(portal, legal_name="Two Apps Ltd")
    first = created_client_id(new_app(dev, name="First"))
    second = created_client_id(new_app(dev, name="Second"))
    ops = make_ops(portal)
    suspend = f"/portal/ops/organisations/{dev.organisation_id}/suspend"
    html = _confirmation(ops, suspend)
    assert "Suspend Two Apps Ltd?" in html and "Its 2 active app(s)" in html
    assert post(ops, suspend, "/portal/ops", {}).status_code == 303
    assert {app_status(portal, first), app_status(portal, second)} == {"active"}
    assert post(ops, suspend, suspend, {"confirm": "yes"}).status_code == 303
    assert {app_status(portal, first), app_status(portal, second)} == {"suspended"}
    assert "Suspended by the bank" in dev.client.get("/portal/organisation").get_data(as_text=True)


def test_the_confirmation_pages_are_for_ops_only(portal: Flask) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev))
    for url in (
        f"/portal/ops/apps/{client_id}/suspend",
        f"/portal/ops/organisations/{dev.organisation_id}/suspend",
    ):
        assert dev.client.get(url).status_code == 404
    ops = make_ops(portal)
    # Only suspensions have a confirmation page; unknown apps and actions are not found.
    assert ops.get(f"/portal/ops/apps/{client_id}/approve").status_code == 404
    assert ops.get("/portal/ops/apps/cli_nosuchapp/suspend").status_code == 404
    assert ops.get(f"/portal/ops/apps/{client_id}/explode").status_code == 404


def test_ops_move_an_app_to_another_tier_effective_on_its_next_calls(portal: Flask) -> None:
    http = portal.test_client()
    partner = register_partner(portal, http, roles=("AISP",))
    token = partner.client.client_credentials("accounts")["access_token"]

    def limit() -> str:
        url = f"http://localhost{CONSENT}"
        headers = partner.client.resource_headers("GET", url, token)
        return str(http.get(CONSENT, headers=headers).headers["RateLimit-Limit"])

    assert limit() == "100000"
    ops = make_ops(portal)
    overview = ops.get("/portal/ops").get_data(as_text=True)
    # Every tier is offered, the defaults and the configured ones, with their limits listed.
    for tier in ("sandbox", "standard", "premium", "tiny"):
        assert f'<option value="{tier}"' in overview
        assert f'id="tier-row-{tier}"' in overview
    assert "7/hour" in overview
    answer = post(
        ops, f"/portal/ops/apps/{partner.client_id}/tier", "/portal/ops", {"tier": "tiny"}
    )
    assert answer.status_code == 303
    assert _tier(portal, partner.client_id) == "tiny"
    assert "is in tier tiny: 7/hour" in ops.get("/portal/ops").get_data(as_text=True)
    # Counted at the new tier from the next call; with the token cache (Redis), the worker that
    # kept the token charges that call before its round trip tells it the app changed.
    assert "7" in (limit(), limit())
    assert limit() == "7"


def test_an_unknown_tier_is_refused(portal: Flask) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev))
    ops = make_ops(portal)
    answer = post(ops, f"/portal/ops/apps/{client_id}/tier", "/portal/ops", {"tier": "gold"})
    assert answer.status_code == 303
    assert "Choose a tier of" in ops.get("/portal/ops").get_data(as_text=True)
    assert _tier(portal, client_id) == "sandbox"
    # A developer cannot change tiers at all.
    token = csrf(dev.client.get("/portal/apps"))
    refused = dev.client.post(
        f"/portal/ops/apps/{client_id}/tier", data={"csrf_token": token, "tier": "premium"}
    )
    assert refused.status_code == 404 and _tier(portal, client_id) == "sandbox"


def test_every_ops_form_needs_the_csrf_token(portal: Flask) -> None:
    dev = sign_up(portal)
    client_id = created_client_id(new_app(dev))
    ops = make_ops(portal)
    html = ops.get("/portal/ops").get_data(as_text=True)
    forms = re.findall(r"<form\b.*?</form>", html, re.S)
    assert forms and all('name="csrf_token"' in form for form in forms)
    for url, data in (
        (f"/portal/ops/apps/{client_id}/suspend", {"confirm": "yes"}),
        (f"/portal/ops/organisations/{dev.organisation_id}/suspend", {"confirm": "yes"}),
        (f"/portal/ops/apps/{client_id}/tier", {"tier": "premium"}),
    ):
        answer = ops.post(url, data=data)
        assert answer.status_code == 400, url
        assert "Form expired" in answer.get_data(as_text=True)
    assert app_status(portal, client_id) == "active" and _tier(portal, client_id) == "sandbox"
