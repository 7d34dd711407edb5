"""The portal in a real browser against a real server: sign up, register an app, and walk the
try-the-flow pages through the bank's consent page to the first API call, or to a payment.

Needs Chromium at /usr/bin/chromium and the ``playwright`` package (the ``dev`` extra); without
them the test skips on a developer's machine and fails under CI. Screenshots of each main page go
to ``PORTAL_SCREENSHOT_DIR`` if set, else to a temporary folder.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.common.server import GATEWAY, ROOT, running_gateway

PASSWORD = "browser correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A gateway under gunicorn with its own database: its base URL and environment."""
    with running_gateway(tmp_path_factory.mktemp("portal-e2e"), "portal-e2e-secret") as running:
        yield running


def _sign_up(page: Any, issuer: str, email: str, legal_name: str) -> None:
    page.goto(f"{issuer}/portal/signup")
    page.get_by_label("Your name").fill("Bea Browser")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Legal name").fill(legal_name)
    page.get_by_label("Country of registration").select_option("HK")
    page.get_by_label("Company registration number").fill("HK123456")
    page.get_by_label("AISP").check()


def test_sign_up_register_an_app_and_try_the_flow(
    browser: Any, server: tuple[str, dict[str, str]], shots: Path
) -> None:
    issuer, _env = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)

    def snap(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    # Sign up: the organisation page shows the sandbox's test customers.
    _sign_up(page, issuer, "bea@browser.example", "Browser Partner Ltd")
    snap("01-signup")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{issuer}/portal/organisation")
    # The sandbox is made behind a "Preparing" page, which then loads the organisation's page.
    page.get_by_role("heading", name="Browser Partner Ltd").wait_for()
    username = page.locator(".login-username").first.inner_text()
    password = page.locator(".login-password").first.inner_text()
    snap("02-organisation")

    # A client_secret_basic sandbox app: the secret is on the page that created it, once.
    page.get_by_role("link", name="Apps", exact=True).click()
    page.get_by_role("link", name="New app").first.click()
    page.get_by_label("Name").fill("Browser App")
    page.get_by_label("Redirect URIs").fill("http://127.0.0.1:8765/callback")
    page.get_by_label("client_secret_basic").check()
    page.get_by_label("Bind tokens with DPoP").uncheck()
    snap("03-new-app")
    page.get_by_role("button", name="Register app").click()
    secret = page.get_by_label("Client secret").input_value()
    assert secret.startswith("obs_")
    snap("04-secret")
    page.get_by_role("link", name="I have copied it").click()
    assert secret not in page.content()
    snap("05-app")

    # Try the flow: register the portal's callback with one click, then run step 1.
    page.get_by_role("link", name="Try the flow").first.click()
    page.get_by_role("button", name="Add it as a redirect URI").click()
    page.get_by_label("Client secret").fill(secret)
    snap("06-try")
    page.get_by_role("button", name="Run step 1").click()
    page.get_by_role("heading", name="Push the authorization request (PAR)").wait_for()
    snap("07-step1")

    # Step 2 at the bank, as a test customer; the bank sends the browser back to the portal.
    page.get_by_role("link", name="Open the bank's sign-in page").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{issuer}/authorize/consent")
    # The page names the customer and the kinds of account in words, and says several may be
    # shared.
    consent = page.locator("main").inner_text()
    assert "Signed in as" in consent and "You can choose more than one" in consent
    assert "Current account" in consent and "CurrentAccount" not in consent
    # A reload, and the back button to the bank's sign-in, both come back to this page.
    page.reload()
    page.get_by_role("button", name="Approve").wait_for()
    page.go_back()
    page.wait_for_url(f"{issuer}/authorize/consent")
    page.locator('input[name="account"]').first.check()
    snap("08-consent")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{issuer}/portal/apps/*/try/callback*")
    snap("09-callback")
    text = page.locator("main").inner_text()
    assert "Call the API: the customer's accounts" in text
    assert "HTTP 200" in text
    assert page.locator(".account-id").first.inner_text().strip()
    assert "Done: the first API call returned 1 account" in text
    # Back to the bank after answering: the bank sends the browser on to the app with an error
    # (and iss), not to a page that says the request was used.
    page.go_back()
    page.wait_for_url(f"{issuer}/portal/apps/*/try/callback?*error=invalid_request*")
    assert "iss=" in page.url and "used already" not in page.content()
    context.close()


def test_ops_approve_an_organisation(
    browser: Any, server: tuple[str, dict[str, str]], shots: Path
) -> None:
    issuer, env = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    _sign_up(page, issuer, "ops-e2e@browser.example", "Awaiting Approval Ltd")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{issuer}/portal/organisation")
    org_id = page.locator("#organisation-id").inner_text()
    context.close()

    subprocess.run(
        [str(GATEWAY), "ops", "create-account", "--email", "olive@bank.example", "--name", "Olive",
         "--password", PASSWORD],
        env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{issuer}/portal/login")
    page.get_by_label("E-mail address").fill("olive@bank.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{issuer}/portal/ops")
    row = page.locator(f"#org-{org_id}")
    row.get_by_role("button", name="Approve Awaiting Approval Ltd").click()
    page.wait_for_url(f"{issuer}/portal/ops")
    assert "Awaiting Approval Ltd is approved." in page.locator("main").inner_text()
    assert page.locator(f"#org-{org_id} .badge").inner_text().lower() == "approved"
    page.screenshot(path=str(shots / "10-ops.png"), full_page=True)
    context.close()


def _new_sandbox_app(page: Any, issuer: str, name: str) -> str:
    """Register a client_secret_basic sandbox app through the pages; its client id."""
    page.goto(f"{issuer}/portal/apps/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Redirect URIs").fill("http://127.0.0.1:8765/callback")
    page.get_by_label("client_secret_basic").check()
    page.get_by_role("button", name="Register app").click()
    return str(page.locator("#client-id").inner_text())


def _ops_page(browser: Any, issuer: str, env: dict[str, str], email: str) -> tuple[Any, Any]:
    """A context without JavaScript, signed in as a new ops account, on the ops page."""
    subprocess.run(
        [str(GATEWAY), "ops", "create-account", "--email", email, "--name", "Otto",
         "--password", PASSWORD],
        env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{issuer}/portal/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{issuer}/portal/ops")
    return context, page


def test_ops_suspend_only_once_confirmed_and_change_a_tier_without_javascript(
    browser: Any, server: tuple[str, dict[str, str]], shots: Path
) -> None:
    issuer, env = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    _sign_up(page, issuer, "tiers@browser.example", "Tiered Partner Ltd")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{issuer}/portal/organisation")
    # The "Preparing" page is still making the sandbox (slowly on a busy machine): leaving it for
    # another page before it is done would wait on its navigation.
    page.get_by_role("heading", name="Tiered Partner Ltd").wait_for(timeout=120_000)
    client_id = _new_sandbox_app(page, issuer, "Tiered App")
    context.close()

    context, page = _ops_page(browser, issuer, env, "otto@bank.example")
    row = page.locator(f"#app-{client_id}")
    row.get_by_label("Rate-limit tier of Tiered App").select_option("premium")
    row.get_by_role("button", name="Change the tier of Tiered App").click()
    page.wait_for_url(f"{issuer}/portal/ops")
    assert "is in tier premium" in page.locator("main").inner_text()
    assert page.locator(f"#tier-{client_id}").input_value() == "premium"

    # Suspend: a confirmation page first; cancelling changes nothing.
    page.locator(f"#app-{client_id}").get_by_role("link", name="Suspend Tiered App…").click()
    page.get_by_role("heading", name="Suspend Tiered App?").wait_for()
    page.screenshot(path=str(shots / "11-ops-confirm.png"), full_page=True)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"{issuer}/portal/ops")
    assert page.locator(f"#app-{client_id} .badge").inner_text().lower() == "active"
    page.locator(f"#app-{client_id}").get_by_role("link", name="Suspend Tiered App…").click()
    page.get_by_role("button", name="Suspend Tiered App").click()
    page.wait_for_url(f"{issuer}/portal/ops")
    assert "is suspended" in page.locator("main").inner_text()
    assert page.locator(f"#app-{client_id} .badge").inner_text().lower() == "suspended"
    context.close()


def test_a_new_sandbox_is_prepared_behind_a_page_then_its_clock_moves_and_it_resets(
    browser: Any, server: tuple[str, dict[str, str]], shots: Path
) -> None:
    """Without JavaScript: the first organisation page answers at once saying the sandbox is
    being prepared and goes on by itself to the step that makes it; the clock moves by a step or
    by days and hours, saying what ran; a reset asks first."""
    issuer, _env = server
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    # The first time the browser goes on to make the sandbox, answer 204 for the server: the
    # browser then stays on the page it shows while that request runs.
    prepare = "**/portal/organisation/sandbox/prepare**"
    asked: list[str] = []

    def hold(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=204)

    page.route(prepare, hold)
    _sign_up(page, issuer, "clock@browser.example", "Clockwork Ltd")
    started = time.monotonic()
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Preparing your sandbox…").wait_for()
    assert time.monotonic() - started < 5  # the page did not wait for the sandbox
    deadline = time.monotonic() + 10
    while not asked and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert asked, "the page did not go on by itself to make the sandbox"
    assert asked[0].startswith(f"{issuer}/portal/organisation/sandbox/prepare?next=")
    assert page.locator(".preparing[role=status] .spinner").is_visible()
    page.screenshot(path=str(shots / "12-preparing.png"), full_page=True)
    # Let it through: the page goes on by itself, and the organisation's page follows.
    page.unroute(prepare)
    page.reload()
    page.locator("#sandbox-time").wait_for()
    assert page.url == f"{issuer}/portal/organisation"
    assert page.locator(".login-username").count() == 13
    first = page.locator("#sandbox-time").inner_text()

    page.get_by_role("button", name="+1 day").click()
    page.locator("#sandbox-run").wait_for()
    assert "Moved forward 1 day" in page.locator("#sandbox-run").inner_text()
    assert page.locator("#sandbox-time").inner_text() != first
    page.get_by_label("Days").fill("35")
    page.get_by_role("button", name="Move the clock").click()
    page.locator("#sandbox-run").wait_for()
    run = page.locator("#sandbox-run").inner_text()
    assert "Moved forward 35 days" in run and "Standing order payments" in run
    page.screenshot(path=str(shots / "13-sandbox-clock.png"), full_page=True)

    page.get_by_role("link", name="Reset the sandbox…").click()
    page.get_by_role("heading", name="Reset your sandbox?").wait_for()
    page.get_by_role("button", name="Reset the sandbox").click()
    page.wait_for_url(f"{issuer}/portal/organisation*")
    assert "Your sandbox is back at its seed" in page.locator("main").inner_text()
    # Back at real time: the day the sandbox was made (the pinned start's), not 36 days on.
    assert page.locator("#sandbox-time").inner_text().split(",")[0] == first.split(",")[0]
    context.close()


def test_a_partner_pays_from_try_the_flow(
    browser: Any, server: tuple[str, dict[str, str]], shots: Path
) -> None:
    issuer, _env = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)

    def snap(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    _sign_up(page, issuer, "pia@browser.example", "Browser Payments Ltd")
    page.get_by_label("PISP").check()
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Browser Payments Ltd").wait_for()
    username = page.locator(".login-username").first.inner_text()
    password = page.locator(".login-password").first.inner_text()

    # A client_secret_basic app has no key to sign with: its message signing goes off first.
    page.get_by_role("link", name="Apps", exact=True).click()
    page.get_by_role("link", name="New app").first.click()
    page.get_by_label("Name").fill("Browser Pay App")
    page.get_by_label("Redirect URIs").fill("http://127.0.0.1:8765/callback")
    page.get_by_label("client_secret_basic").check()
    page.get_by_role("button", name="Register app").click()
    secret = page.get_by_label("Client secret").input_value()
    page.get_by_role("link", name="I have copied it").click()
    page.get_by_role("button", name="Stop requiring signed requests").click()
    assert page.locator("#request-signing").inner_text().startswith("Off")

    page.get_by_role("link", name="Try the flow").first.click()
    page.get_by_role("button", name="Add it as a redirect URI").click()
    page.get_by_label("Client secret").fill(secret)
    page.get_by_label("Make a domestic payment").check()
    page.get_by_label("Amount in GBP").fill("7.45")
    snap("p1-try-payment")
    page.get_by_role("button", name="Run step 1").click()
    page.get_by_role("heading", name="Stage the domestic-payment consent").wait_for()
    snap("p2-step1")

    # At the bank: the customer reads the payment and picks the account to pay from.
    page.get_by_role("link", name="Open the bank's sign-in page").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{issuer}/authorize/consent")
    consent = page.locator("main").inner_text()
    assert "7.45" in consent and "ACME Inc" in consent
    assert "Choose the account to pay from" in consent
    page.locator('input[name="account"]').first.check()
    snap("p3-consent")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{issuer}/portal/apps/*/try/callback*")
    snap("p4-paid")
    text = page.locator("main").inner_text()
    assert "Done: payment ACSP" in text
    assert "Submit the payment (signed, idempotency key)" in text
    assert "Read the payment's status" in text
    assert page.locator("#payment-id").inner_text().startswith("dp-")
    assert "7.45 GBP to ACME Inc" in text
    context.close()
