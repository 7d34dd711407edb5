"""The organisation's sandbox in the portal: a page that answers at once while a new sandbox is
made."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from gateway.app import create_app
from gateway.core.errors import UnknownTenant
from tests.functional.test_portal import Dev, created_client_id, new_app, sign_up

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
    assert len(re.findall(r'class="login-username"', full)) == 5
    assert "First Visit Ltd" in full


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
