"""Helpers of the confirmation-of-funds tests: a CBPII partner, the test customers' accounts and
how they are identified, and a funds-confirmation consent the customer authorised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.core.accounts import Account, Balances
from gateway.core.administration import SandboxBank
from gateway.core.bank import BankCore
from gateway.store.database import Database
from sandbox.models import Customer
from tests.common.oauth import Partner, approve_in_browser, register_partner

CBPII = "/open-banking/v4.0/cbpii"
CONSENTS = f"{CBPII}/funds-confirmation-consents"
CONFIRMATIONS = f"{CBPII}/funds-confirmations"
SCAN = "UK.OBIE.SortCodeAccountNumber"


def cbpii_partner(app: Flask, http: FlaskClient, **kwargs: Any) -> Partner:
    """A sandbox partner whose organisation is a CBPII (its app has ``fundsconfirmations``)."""
    return register_partner(app, http, roles=("CBPII",), **kwargs)


def customer_accounts(app: Flask, tenant: str, customer: int = 0) -> Sequence[Account]:
    """The accounts of a tenant's test customer (the first by default), as the bank has them."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        bank: SandboxBank = app.extensions["bank_core"](session)
        bank.ensure_tenant(tenant)
        customers = session.scalars(
            select(Customer.public_id).where(Customer.tenant_id == tenant).order_by(Customer.pk)
        ).all()
        return bank.accounts(tenant, customers[customer])


def balances(app: Flask, tenant: str, account_id: str) -> Balances:
    """An account's balances now."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        bank: BankCore = app.extensions["bank_core"](session)
        return bank.balances(tenant, account_id)


def debtor(account: Account, scheme: str | None = None) -> dict[str, str]:
    """``DebtorAccount`` naming ``account`` by its identification in ``scheme`` (by default its
    first: the sort code and account number of a current account, a card's number)."""
    ident = next(i for i in account.identifiers if scheme in (None, i.scheme))
    return {"SchemeName": ident.scheme, "Identification": ident.identification}


@dataclass
class Authorised:
    """A funds-confirmation consent the customer authorised, and its tokens."""

    partner: Partner
    consent_id: str
    account: Account
    tokens: dict[str, Any]

    @property
    def token(self) -> str:
        """The access token (authorization code grant)."""
        return str(self.tokens["access_token"])

    def confirm(self, amount: str, currency: str = "GBP", reference: str | None = None) -> Any:
        """POST /funds-confirmations with the consent's token."""
        return self.partner.client.confirm_funds(
            self.token, self.consent_id, amount, currency, reference
        )


def authorised(
    app: Flask,
    http: FlaskClient,
    partner: Partner | None = None,
    *,
    account: int = 0,
    expiration: str | None = None,
) -> Authorised:
    """A partner (new, or ``partner``) whose first test customer authorised a funds-confirmation
    consent on their ``account``-th account (named by its first identification)."""
    partner = partner or cbpii_partner(app, http)
    chosen = customer_accounts(app, partner.organisation_id)[account]
    created = partner.client.create_funds_confirmation_consent(debtor(chosen), expiration)
    consent_id = created["Data"]["ConsentId"]
    request_uri, verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="fundsconfirmations"
    )
    answer = approve_in_browser(
        app, app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id,
    )  # fmt: skip
    assert "code" in answer, answer
    tokens = partner.client.exchange_code(answer["code"], verifier)
    return Authorised(partner, consent_id, chosen, tokens)


def refusal(call: Any, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Make a call expected to fail; return the status and body of the error."""
    from partners.example_client import GatewayError

    with pytest.raises(GatewayError) as refused:
        call(*args, **kwargs)
    return refused.value.status, refused.value.body


def first_error(body: dict[str, Any]) -> tuple[str, str | None]:
    """The code and path of the first entry of an OBIE error body."""
    error = body["Errors"][0]
    return error["ErrorCode"], error.get("Path")
