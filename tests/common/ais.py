"""Helpers of the account-information tests: a partner whose customer authorised a consent, and
reads through the example client (whose responses the conforming test client checks)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.oauth import Partner, approve_in_browser, register_partner

AIS = "/open-banking/v4.0/aisp"
# (partner, access token, ids of the accounts the customer shared)
Consented = tuple[Partner, str, list[str]]


def authorised(
    app: Flask,
    http: FlaskClient,
    permissions: list[str],
    partner: Partner | None = None,
    *,
    accounts: int = 3,
    **consent: Any,
) -> Consented:
    """A partner (new, or ``partner``) whose customer authorised a consent with ``permissions``
    (and ``consent``, the other arguments of the example client's request) on the first
    ``accounts`` of their accounts (three: all of the first test customer's)."""
    partner = partner or register_partner(app, http, roles=("AISP",))
    created = partner.client.create_account_access_consent(permissions, **consent)
    request_uri, verifier, _ = partner.client.push_authorization_request(
        created["Data"]["ConsentId"]
    )
    answer = approve_in_browser(
        app, app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id, accounts=accounts,
    )  # fmt: skip
    token = partner.client.exchange_code(answer["code"], verifier)["access_token"]
    shared = partner.client.get(f"{AIS}/accounts", token)["Data"]["Account"]
    return partner, token, [a["AccountId"] for a in shared]


def read(consented: Consented, path: str) -> Any:
    """GET ``path`` under the AIS prefix with the consented token."""
    partner, token, _accounts = consented
    return partner.client.get(f"{AIS}{path}", token)


def refusal(consented: Consented, path: str) -> tuple[int, dict[str, Any]]:
    """GET ``path`` expecting an error; return its status and body."""
    from partners.example_client import GatewayError

    partner, token, _accounts = consented
    with pytest.raises(GatewayError) as refused:
        partner.client.get(f"{AIS}{path}", token)
    return refused.value.status, refused.value.body
