"""Try the flow with a payment: the portal runs the example client's domestic payment (OBIE
Payment Initiation v4.0) for the developer, through the bank's pages, and shows every exchange."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import pytest
from flask import Flask

from gateway.app import create_app
from tests.common.oauth import ISSUER, approve_in_browser, flask_transport, new_key, public
from tests.functional.test_portal import (
    _SECRET,
    Dev,
    created_client_id,
    new_app,
    post,
    sign_up,
    threaded,
)


@pytest.fixture(scope="module")
def portal(database_url: str) -> Iterator[Flask]:
    """The gateway with CSRF protection on, its try-the-flow client wired to the test client."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": True}
    )
    app.config["PORTAL_TRIAL_TRANSPORT"] = threaded(flask_transport(app.test_client()))
    yield app
    app.extensions["database"].dispose()


def _keyed_app(dev: Dev) -> tuple[str, dict[str, str]]:
    key = new_key()
    answer = new_app(dev, token_endpoint_auth_method="private_key_jwt",
                     jwks=json.dumps(public(key)))  # fmt: skip
    client_id = created_client_id(answer)
    page = f"/portal/apps/{client_id}/try"
    assert post(dev.client, f"{page}/redirect-uri", page, {}).status_code == 303
    return client_id, key


def _pay(dev: Dev, client_id: str, credential: str, amount: str) -> tuple[int, str]:
    page = f"/portal/apps/{client_id}/try"
    form = {"credential": credential, "flow": "payment", "amount": amount}
    answer = post(dev.client, page, page, form)
    return answer.status_code, answer.get_data(as_text=True)


def test_a_payment_from_the_portal(portal: Flask) -> None:
    dev = sign_up(portal, roles=["PISP"])
    client_id, key = _keyed_app(dev)
    form = dev.client.get(f"/portal/apps/{client_id}/try").get_data(as_text=True)
    assert 'name="flow" value="payment"' in form and 'name="amount" value="12.50"' in form
    status, html = _pay(dev, client_id, json.dumps(key), "3.25")
    assert status == 200, html
    for title in ("Get a client-credentials token", "Stage the domestic-payment consent",
                  "Push the authorization request (PAR)"):  # fmt: skip
        assert title in html
    assert "x-jws-signature: " in html and "x-idempotency-key: " in html
    assert '"Amount": "3.25"' in unescape(html) and "Read the bank&#39;s keys" in html
    link = re.search(r'id="authorization-link" href="([^"]+)"', html)
    assert link is not None
    answer = approve_in_browser(portal, dev.client, link.group(1).replace("&amp;", "&"),
                                dev.organisation_id)  # fmt: skip
    assert answer["iss"] == ISSUER and "code" in answer
    callback = dev.client.get(f"/portal/apps/{client_id}/try/callback", query_string=answer)
    html = callback.get_data(as_text=True)
    assert callback.status_code == 200, html
    for title in ("Exchange the code for tokens", "Submit the payment (signed, idempotency key)",
                  "Read the payment&#39;s status", "Done: payment ACSP"):  # fmt: skip
        assert title in html
    assert re.search(r'id="payment-id">dp-[0-9a-f]+<', html)
    assert "3.25 GBP to ACME Inc" in html and key["d"] not in html


@pytest.mark.parametrize("amount", ["0", "0.00", "1.234", "12,50", "-1", "", "1e3"])
def test_an_amount_that_is_not_a_payment_is_refused_before_any_call(
    portal: Flask, amount: str
) -> None:
    dev = sign_up(portal, roles=["PISP"])
    client_id, key = _keyed_app(dev)
    status, html = _pay(dev, client_id, json.dumps(key), amount)
    assert status == 400
    assert "Give an amount in GBP greater than zero" in html and "HTTP " not in html


def test_an_organisation_without_the_pisp_role_is_told_why(portal: Flask) -> None:
    dev = sign_up(portal, roles=["AISP"])
    client_id, key = _keyed_app(dev)
    status, html = _pay(dev, client_id, json.dumps(key), "1.00")
    assert status == 400
    assert "invalid_scope" in html and "HTTP 400" in html


def test_a_secret_app_pays_once_its_message_signing_is_off(portal: Flask) -> None:
    dev = sign_up(portal, roles=["PISP"])
    created = new_app(dev)
    secret = _SECRET.search(created.get_data(as_text=True))
    assert secret is not None
    client_id = created_client_id(created)
    page = f"/portal/apps/{client_id}/try"
    post(dev.client, f"{page}/redirect-uri", page, {})
    # No key to sign with: the bank refuses the unsigned consent (U019), and the page says so.
    status, html = _pay(dev, client_id, secret.group(1), "1.00")
    assert status == 400 and "U019" in html
    app_page = f"/portal/apps/{client_id}"
    assert post(dev.client, f"{app_page}/request-signing", app_page, {}).status_code == 303
    status, html = _pay(dev, client_id, secret.group(1), "1.00")
    assert status == 200 and "Stage the domestic-payment consent" in html, html
    assert html.count("HTTP 201") >= 2  # the consent (unsigned, accepted) and PAR
