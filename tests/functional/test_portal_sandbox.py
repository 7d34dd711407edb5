"""The organisation's sandbox in the portal: a page that answers at once while a new sandbox is
made, its clock moved forward with what ran on the way, and a reset after a confirmation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from gateway.app import create_app
from gateway.core.errors import UnknownTenant
from tests.common.clock import bank_now
from tests.functional.test_portal import Dev, created_client_id, csrf, new_app, post, sign_up

PREPARE = "/portal/organisation/sandbox/prepare"
CLOCK = "/portal/organisation/sandbox/clock"
RESET = "/portal/organisation/sandbox/reset"


@pytest.fixture(scope="module")
def portal(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": True}
    )
    yield app
    app.extensions["database"].dispose()


def exists(app: Flask, tenant: str) -> bool:
    with app.extensions["database"].sessions() as session:
        try:
            app.extensions["sandbox"](session).tenant_info(tenant)
        except UnknownTenant:
            return False
        return True


def shown_time(html: str) -> dt.datetime:
    """The sandbox time the organisation page shows (to the minute)."""
    found = re.search(r'id="sandbox-time">\w+ (\d+ \w+ \d{4}, \d\d:\d\d) UTC<', html)
    assert found is not None, html
    return dt.datetime.strptime(found.group(1), "%d %B %Y, %H:%M").replace(tzinfo=dt.UTC)


def organisation(dev: Dev) -> str:
    page = dev.client.get("/portal/organisation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Preparing your sandbox" not in html
    return html


def shows(html: str, moment: dt.datetime) -> bool:
    """Whether the page shows the sandbox time read around ``moment`` (real time runs on while
    the test runs; the page gives the minute)."""
    shown = shown_time(html)
    return moment.replace(second=0, microsecond=0) <= shown <= moment + dt.timedelta(minutes=2)


# -- a new sandbox ------------------------------------------------------------------------------


def test_the_first_organisation_page_answers_at_once_and_prepares_the_sandbox_after(
    portal: Flask,
) -> None:
    dev = sign_up(portal, prepare=False, legal_name="First Visit Ltd")
    page = dev.client.get("/portal/organisation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Preparing your sandbox" in html and 'role="status"' in html
    # The page makes nothing itself: it sends the browser on, with no script, to the step that
    # does, which comes back here.
    assert not exists(portal, dev.organisation_id)
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', html)
    assert refresh is not None
    target = refresh.group(1).replace("&amp;", "&")
    assert target == f"{PREPARE}?next=/portal/organisation"
    prepared = dev.client.get(target)
    assert prepared.status_code == 303 and prepared.headers["Location"] == "/portal/organisation"
    assert exists(portal, dev.organisation_id)
    full = organisation(dev)
    assert len(re.findall(r'class="login-username"', full)) == 13
    assert "First Visit Ltd" in full and 'id="sandbox-time"' in full


def test_other_pages_that_need_the_sandbox_prepare_it_and_come_back(portal: Flask) -> None:
    dev = sign_up(portal, prepare=False)
    client_id = created_client_id(new_app(dev))
    for page in (f"/portal/apps/{client_id}", f"/portal/apps/{client_id}/try"):
        html = dev.client.get(page).get_data(as_text=True)
        assert f'content="0;url={PREPARE}?next={page}"' in html, page
    back = dev.client.get(f"{PREPARE}?next=/portal/apps/{client_id}")
    assert back.status_code == 303 and back.headers["Location"] == f"/portal/apps/{client_id}"
    assert "login-username" in dev.client.get(f"/portal/apps/{client_id}").get_data(as_text=True)
    # Never off the portal.
    for outside in ("https://evil.example/", "//evil.example/", "/docs"):
        answer = dev.client.get(PREPARE, query_string={"next": outside})
        assert answer.headers["Location"] == "/portal/organisation", outside


# -- the clock ----------------------------------------------------------------------------------


def test_the_clock_moves_by_a_step_and_the_page_says_what_ran(portal: Flask) -> None:
    dev = sign_up(portal)
    before = bank_now(portal, dev.organisation_id)
    assert shows(organisation(dev), before)
    answer = post(dev.client, CLOCK, "/portal/organisation", {"step": "1d"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/portal/organisation#sandbox-heading"
    html = organisation(dev)
    assert "Moved forward 1 day" in html
    now = bank_now(portal, dev.organisation_id)
    assert dt.timedelta(days=1) <= now - before < dt.timedelta(days=1, minutes=5)
    assert shows(html, before + dt.timedelta(days=1))
    # What ran is shown once.
    assert "Moved forward" not in organisation(dev)


def test_a_custom_move_runs_a_months_standing_orders(portal: Flask) -> None:
    dev = sign_up(portal)
    before = bank_now(portal, dev.organisation_id)
    form = {"step": "custom", "days": "35", "hours": "6"}
    assert post(dev.client, CLOCK, "/portal/organisation", form).status_code == 303
    html = organisation(dev)
    assert "Moved forward 35 days and 6 hours" in html
    row = re.search(r"<td>Standing order payments</td><td class=\"num\">(\d+)</td>", html)
    assert row is not None and int(row.group(1)) >= 1, html
    moved = bank_now(portal, dev.organisation_id) - before
    assert dt.timedelta(days=35, hours=6) <= moved < dt.timedelta(days=35, hours=6, minutes=5)


@pytest.mark.parametrize(
    ("days", "hours", "message"),
    [
        ("-1", "0", "only moves forward"),
        ("0", "0", "at least an hour"),
        ("", "", "at least an hour"),
        ("1.5", "0", "whole numbers"),
        ("abc", "1", "whole numbers"),
        ("367", "0", "at most 366 days"),
        ("366", "1", "at most 366 days"),
        ("0", "99999999999999999999", "at most 366 days"),
        ("2", "-5", "only moves forward"),
    ],
)
def test_a_move_the_page_cannot_make_is_explained_and_changes_nothing(
    portal: Flask, days: str, hours: str, message: str
) -> None:
    dev = sign_up(portal)
    before = bank_now(portal, dev.organisation_id)
    form = {"step": "custom", "days": days, "hours": hours}
    assert post(dev.client, CLOCK, "/portal/organisation", form).status_code == 303
    html = organisation(dev)
    assert message in html and "Moved forward" not in html
    assert bank_now(portal, dev.organisation_id) - before < dt.timedelta(minutes=5)


def test_moving_one_organisations_clock_leaves_anothers(portal: Flask) -> None:
    ours, theirs = sign_up(portal), sign_up(portal)
    before = bank_now(portal, theirs.organisation_id)
    post(ours.client, CLOCK, "/portal/organisation", {"step": "7d"})
    assert bank_now(portal, theirs.organisation_id) - before < dt.timedelta(minutes=5)


# -- reset --------------------------------------------------------------------------------------


def test_a_reset_waits_for_its_confirmation(portal: Flask) -> None:
    dev = sign_up(portal)
    post(dev.client, CLOCK, "/portal/organisation", {"step": "7d"})
    moved = bank_now(portal, dev.organisation_id)
    page = dev.client.get(RESET)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Reset your sandbox?" in html
    assert f'action="{RESET}"' in html and 'name="confirm" value="yes"' in html
    unconfirmed = post(dev.client, RESET, "/portal/organisation", {})
    assert unconfirmed.status_code == 303 and unconfirmed.headers["Location"] == RESET
    assert bank_now(portal, dev.organisation_id) >= moved
    confirmed = post(dev.client, RESET, RESET, {"confirm": "yes"})
    assert confirmed.status_code == 303
    after = bank_now(portal, dev.organisation_id)
    assert after < moved - dt.timedelta(days=6)
    assert "Your sandbox is back at its seed" in organisation(dev)


def test_the_sandbox_forms_need_the_csrf_token_and_a_developer(portal: Flask) -> None:
    dev = sign_up(portal)
    before = bank_now(portal, dev.organisation_id)
    for url, data in ((CLOCK, {"step": "7d"}), (RESET, {"confirm": "yes"})):
        answer = dev.client.post(url, data=data)
        assert answer.status_code == 400 and "Form expired" in answer.get_data(as_text=True)
    assert bank_now(portal, dev.organisation_id) - before < dt.timedelta(minutes=5)
    # Signed out: the sign-in page, nothing else.
    stranger = portal.test_client()
    token = csrf(stranger.get("/portal/login"))
    answer = stranger.post(CLOCK, data={"csrf_token": token, "step": "7d"})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/portal/login")
