"""Sandbox scenarios' page flows in a real browser against a real server: a business's payment
approved by its first authoriser on the consent page waits (``AWAF``) until the second approves
on the bank's approval page; a customer who denies a payment consent sends the partner
``access_denied``.

Needs Chromium at /usr/bin/chromium and the ``playwright`` package, as the portal's browser tests
do (they skip without them on a developer's machine and fail under CI). Screenshots go to
``PORTAL_SCREENSHOT_DIR`` if set, else to a temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.database import make_engine
from partners import services
from partners.example_client import PartnerClient, parse_redirect
from partners.models import Organisation
from sandbox.models import Customer
from tests.common.oauth import new_key, public
from tests.common.pisp import PISP, consent_body, payment_body
from tests.common.sandbox import sandbox_core
from tests.common.server import running_gateway

REDIRECT_URI = "http://127.0.0.1:9/callback"


@dataclass
class Pisp:
    """The partner and its sandbox's first business customer's login."""

    client: PartnerClient
    business: tuple[str, str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A gateway under gunicorn with its own database: its base URL and database URL."""
    with running_gateway(tmp_path_factory.mktemp("awaf-e2e"), "awaf-e2e-secret") as running:
        issuer, env = running
        yield issuer, env["GATEWAY_DATABASE_URL"]


@pytest.fixture(scope="module")
def pisp(server: tuple[str, str]) -> Pisp:
    """A PISP organisation with a private_key_jwt app, and its sandbox's business login."""
    issuer, database_url = server
    engine = make_engine(database_url)
    key = new_key()
    with Session(engine) as session, session.begin():
        developer = services.sign_up(
            session, email="awaf-e2e@tpp.example", name="Awaf E2E",
            password="awaf correct horse battery", legal_name="Pay Init Ltd", country="GB",
            registration_number="07654330", roles=["PISP"],
        )  # fmt: skip
        organisation = session.get_one(Organisation, developer.organisation_id)
        app, _secret = services.create_app(
            session, organisation, name="Pay App", redirect_uris=[REDIRECT_URI],
            token_endpoint_auth_method="private_key_jwt", jwks={"keys": [public(key)]},
            dpop_bound=True,
        )  # fmt: skip
        sandbox_core(session).ensure_tenant(organisation.id)
        business = session.scalars(
            select(Customer).where(
                Customer.tenant_id == organisation.id, Customer.kind == "Business"
            ).order_by(Customer.pk)
        ).first()  # fmt: skip
        assert business is not None
        pisp = Pisp(PartnerClient(issuer, app.client_id, REDIRECT_URI, key),
                    (business.username, business.password))  # fmt: skip
    engine.dispose()
    return pisp


def _consent_page(browser: Any, pisp: Pisp, body: dict[str, Any]) -> tuple[Any, Any, str, str, str]:
    """The business signed in on a new payment consent's page: the context, the page, the
    consent id, the PKCE verifier and the state."""
    staff = pisp.client.client_credentials("payments")["access_token"]
    created = pisp.client.post_signed(f"{PISP}/domestic-payment-consents", staff, body)
    consent_id = created["Data"]["ConsentId"]
    request_uri, verifier, state = pisp.client.push_authorization_request(
        consent_id, "payments", signed=True
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(f"{REDIRECT_URI}**", lambda route: route.fulfill(status=200, body="back"))
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(pisp.client.authorization_url(request_uri))
    page.get_by_label("Username").fill(pisp.business[0])
    page.get_by_label("Password").fill(pisp.business[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{pisp.client.issuer}/authorize/consent")
    return context, page, consent_id, verifier, state


def test_the_second_authoriser_approves_on_the_banks_page(
    browser: Any, pisp: Pisp, shots: Path
) -> None:
    body = consent_body("21.00")
    context, page, consent_id, verifier, state = _consent_page(browser, pisp, body)
    page.locator('input[name="account"]').first.check()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    code = parse_redirect(page.url, state, pisp.client.issuer)
    context.close()
    token = pisp.client.exchange_code(code, verifier)["access_token"]
    order = pisp.client.post_signed(
        f"{PISP}/domestic-payments", token, payment_body(consent_id, body)
    )["Data"]
    assert order["Status"] == "PDNG" and order["MultiAuthorisation"]["Status"] == "AWAF"

    second = browser.new_context(viewport={"width": 1280, "height": 900})
    page = second.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{pisp.client.issuer}/authorize/approvals/{order['DomesticPaymentId']}")
    text = " ".join(page.locator("main").inner_text().split())
    assert "needs 2 authorisers for this payment; 1 has approved it" in text
    page.screenshot(path=str(shots / "30-second-authoriser.png"), full_page=True)
    page.get_by_label("Username").fill(f"{pisp.business[0]}.second")
    page.get_by_label("Password").fill(pisp.business[1])
    page.get_by_role("button", name="Approve").click()
    assert page.locator("#outcome").inner_text() == "You approved the payment"
    second.close()

    staff = pisp.client.client_credentials("payments")["access_token"]
    now = pisp.client.get(f"{PISP}/domestic-payments/{order['DomesticPaymentId']}", staff)
    assert now["Data"]["Status"] == "ACSP"
    assert now["Data"]["MultiAuthorisation"]["Status"] == "AUTH"
    assert now["Data"]["MultiAuthorisation"]["NumberReceived"] == 2


def test_a_customer_who_denies_sends_the_partner_access_denied(browser: Any, pisp: Pisp) -> None:
    context, page, consent_id, _verifier, state = _consent_page(
        browser, pisp, consent_body("21.01")
    )
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    answer = dict(parse_qsl(urlsplit(page.url).query))
    context.close()
    assert answer["state"] == state and answer["error"] == "access_denied"
    assert "code" not in answer and answer["iss"] == pisp.client.issuer
    staff = pisp.client.client_credentials("payments")["access_token"]
    consent = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}", staff)
    assert consent["Data"]["Status"] == "RJCT"
