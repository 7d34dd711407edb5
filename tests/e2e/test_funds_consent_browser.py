"""The funds-confirmation consent page in a real browser against a real server: a CBPII's consent
is agreed to on the page that says who asks, for which account, until when, and its token
confirms funds; a consent naming another customer's account cannot be agreed to.

Needs Chromium at /usr/bin/chromium and the ``playwright`` package, as the portal's browser tests
do (they skip without them on a developer's machine and fail under CI). Screenshots go to
``PORTAL_SCREENSHOT_DIR`` if set, else to a temporary folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.consents.wording import account_kind, plain_date
from gateway.core.accounts import Account
from gateway.store.database import make_engine
from partners import services
from partners.example_client import PartnerClient, parse_redirect
from partners.models import Organisation
from sandbox.models import Customer
from tests.common.cbpii import CONSENTS, debtor
from tests.common.clock import SANDBOX_START
from tests.common.oauth import new_key, public
from tests.common.sandbox import sandbox_core
from tests.common.server import running_gateway

REDIRECT_URI = "http://127.0.0.1:9/callback"
# Thirty days after the sandbox's pinned start: the server's bank clock runs from there.
EXPIRY = dt.datetime.fromisoformat(SANDBOX_START) + dt.timedelta(days=30)


@dataclass
class Cbpii:
    """The partner, its sandbox's first test customer (login, accounts) and the second's."""

    client: PartnerClient
    login: tuple[str, str]
    accounts: list[Account]
    elsewhere: Account


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A gateway under gunicorn with its own database: its base URL and database URL."""
    with running_gateway(tmp_path_factory.mktemp("funds-e2e"), "funds-e2e-secret") as running:
        issuer, env = running
        yield issuer, env["GATEWAY_DATABASE_URL"]


@pytest.fixture(scope="module")
def cbpii(server: tuple[str, str]) -> Cbpii:
    """A CBPII organisation with a private_key_jwt app, and its sandbox's test customers."""
    issuer, database_url = server
    engine = make_engine(database_url)
    key = new_key()
    with Session(engine) as session, session.begin():
        developer = services.sign_up(
            session, email="funds-e2e@tpp.example", name="Funds E2E",
            password="funds correct horse battery", legal_name="Card Issuer Ltd", country="GB",
            registration_number="07654329", roles=["CBPII"],
        )  # fmt: skip
        organisation = session.get_one(Organisation, developer.organisation_id)
        app, _secret = services.create_app(
            session, organisation, name="Card App", redirect_uris=[REDIRECT_URI],
            token_endpoint_auth_method="private_key_jwt", jwks={"keys": [public(key)]},
            dpop_bound=True,
        )  # fmt: skip
        bank = sandbox_core(session)
        bank.ensure_tenant(organisation.id)
        customers = session.scalars(
            select(Customer).where(Customer.tenant_id == organisation.id).order_by(Customer.pk)
        ).all()
        first, second = customers[0], customers[1]
        cbpii = Cbpii(
            PartnerClient(issuer, app.client_id, REDIRECT_URI, key),
            (first.username, first.password),
            list(bank.accounts(organisation.id, first.public_id)),
            bank.accounts(organisation.id, second.public_id)[0],
        )
    engine.dispose()
    return cbpii


def _signed_in(browser: Any, cbpii: Cbpii, consent_id: str) -> tuple[Any, Any, str, str]:
    """A new browser context signed in as the first test customer on the consent's page (the
    partner's redirect URI answered by the test); the context, page, PKCE verifier and state."""
    request_uri, verifier, state = cbpii.client.push_authorization_request(
        consent_id, "fundsconfirmations", signed=True
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(f"{REDIRECT_URI}**", lambda route: route.fulfill(status=200, body="back"))
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(cbpii.client.authorization_url(request_uri))
    page.get_by_label("Username").fill(cbpii.login[0])
    page.get_by_label("Password").fill(cbpii.login[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{cbpii.client.issuer}/authorize/consent")
    return context, page, verifier, state


def test_the_customer_agrees_to_funds_checks_on_the_named_account_and_the_cbpii_asks(
    browser: Any, cbpii: Cbpii, shots: Path
) -> None:
    account = cbpii.accounts[0]
    consent = cbpii.client.create_funds_confirmation_consent(
        debtor(account), EXPIRY.isoformat(timespec="seconds")
    )
    consent_id = consent["Data"]["ConsentId"]
    context, page, verifier, state = _signed_in(browser, cbpii, consent_id)

    # Who asks, for which account, until when: in words.
    text = " ".join(page.locator("main").inner_text().split())
    assert "Card App, run by Card Issuer Ltd, wants to check whether you have enough money" in text
    ending = debtor(account)["Identification"][-4:]
    shown = page.locator("#funds-account").inner_text()
    assert account.nickname in shown and account_kind(account.account_subtype) in shown
    assert f"ending {ending}" in shown
    assert page.locator("#funds-until").inner_text() == f"Until {plain_date(EXPIRY)}."
    assert "not your balance" in text
    # Nothing to choose: the consent is for the account it names.
    assert page.locator('input[name="account"]').count() == 0
    page.screenshot(path=str(shots / "20-funds-consent.png"), full_page=True)

    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    code = parse_redirect(page.url, state, cbpii.client.issuer)
    context.close()
    tokens = cbpii.client.exchange_code(code, verifier)
    answer = cbpii.client.confirm_funds(tokens["access_token"], consent_id, "0.01", "GBP")
    assert answer["Data"]["FundsAvailable"] is True


def test_a_consent_for_another_customers_account_cannot_be_agreed_to(
    browser: Any, cbpii: Cbpii, shots: Path
) -> None:
    consent = cbpii.client.create_funds_confirmation_consent(debtor(cbpii.elsewhere))
    consent_id = consent["Data"]["ConsentId"]
    context, page, _verifier, state = _signed_in(browser, cbpii, consent_id)

    alert = page.get_by_role("alert").inner_text()
    assert "not one of your accounts" in alert
    assert page.get_by_role("button", name="Approve").count() == 0
    assert cbpii.elsewhere.nickname not in page.locator("main").inner_text()
    page.screenshot(path=str(shots / "21-funds-not-yours.png"), full_page=True)

    page.get_by_role("button", name="Go back to Card App").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    answer = dict(parse_qsl(urlsplit(page.url).query))
    context.close()
    assert answer["state"] == state and answer["error"] == "access_denied"
    assert "not one of the customer's accounts" in answer["error_description"]
    token = cbpii.client.client_credentials("fundsconfirmations")["access_token"]
    assert cbpii.client.get(f"{CONSENTS}/{consent_id}", token)["Data"]["Status"] == "RJCT"
