"""The app page's message-signing switch in a real browser against a real server: a sandbox
app stops requiring signed requests and requires them again, without JavaScript.

Needs Chromium at /usr/bin/chromium and the ``playwright`` package, as the portal's other browser
tests (:mod:`tests.e2e.test_portal_browser`, whose browser and sign-up this test shares).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.common.server import running_gateway
from tests.e2e.test_portal_browser import _sign_up


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A gateway under gunicorn with its own database: its base URL and environment."""
    with running_gateway(tmp_path_factory.mktemp("signing-e2e"), "signing-e2e-secret") as running:
        yield running


def test_a_sandbox_app_switches_request_signing_off_and_on(
    browser: Any,
    server: tuple[str, dict[str, str]],
    shots: Path,
) -> None:
    issuer, _env = server
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    _sign_up(page, issuer, "signer@browser.example", "Signing Partner Ltd")
    page.get_by_label("PISP").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{issuer}/portal/organisation")
    page.goto(f"{issuer}/portal/apps/new")
    page.get_by_label("Name").fill("Signing App")
    page.get_by_label("Redirect URIs").fill("http://127.0.0.1:8765/callback")
    page.get_by_label("client_secret_basic").check()
    page.get_by_role("button", name="Register app").click()
    page.get_by_role("link", name="I have copied it").click()
    client_id = page.locator("#client-id").inner_text()

    card = page.locator("section", has=page.get_by_role("heading", name="Message signing"))
    assert page.locator("#request-signing").inner_text() == "Required"
    assert card.locator(".signing-iss").first.inner_text() == client_id
    assert page.locator("#signing-tan").inner_text() == "127.0.0.1"
    page.screenshot(path=str(shots / "20-message-signing.png"), full_page=True)

    card.get_by_role("button", name="Stop requiring signed requests").click()
    page.wait_for_url(f"{issuer}/portal/apps/{client_id}")
    assert "Request signing is off." in page.locator("main").inner_text()
    assert page.locator("#request-signing").inner_text().startswith("Off")
    page.screenshot(path=str(shots / "21-message-signing-off.png"), full_page=True)

    card.get_by_role("button", name="Require signed requests").click()
    page.wait_for_url(f"{issuer}/portal/apps/{client_id}")
    assert "Requests must now be signed." in page.locator("main").inner_text()
    assert page.locator("#request-signing").inner_text() == "Required"
    context.close()
