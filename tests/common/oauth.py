"""A test partner: an organisation, an app with keys, and the example partner client wired to
the app under test through Flask's test client."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.store.database import Database
from partners import services
from partners.example_client import PartnerClient, Transport
from partners.models import App, Organisation
from sandbox.models import Customer

ISSUER = "http://localhost"
REDIRECT_URI = "https://tpp.example/callback"


def flask_transport(client: FlaskClient) -> Transport:
    """Send the example client's requests to the app under test."""

    def send(
        method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        response = client.open(
            parts.path,
            method=method,
            query_string=parts.query,
            headers=headers,
            data=body,
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        return response.status_code, dict(response.headers), response.get_data()

    return send


@dataclass
class Partner:
    """What a test needs of a partner."""

    organisation_id: str
    client_id: str
    client: PartnerClient
    private_jwk: dict[str, Any]
    secret: str | None


def new_key(kty: str = "EC") -> dict[str, Any]:
    """A fresh private JWK with a kid: P-256, or RSA 2048 for PS256."""
    key = (
        ECKey.generate_key("P-256", auto_kid=True)
        if kty == "EC"
        else RSAKey.generate_key(2048, auto_kid=True)
    )
    return key.as_dict(private=True)


def public(jwk: dict[str, Any]) -> dict[str, Any]:
    """The public half of a private JWK."""
    private = {"d", "p", "q", "dp", "dq", "qi"}
    return {k: v for k, v in jwk.items() if k not in private}


def new_organisation(session: Session, tag: str, roles: tuple[str, ...]) -> Organisation:
    """Sign up a test organisation (its developer's e-mail made unique by ``tag``)."""
    developer = services.sign_up(
        session,
        email=f"dev-{tag[:10].lower()}@tpp.example",
        name="Test Developer",
        password="correct horse battery staple",
        legal_name="Test Partner Ltd",
        country="GB",
        registration_number="01234567",
        roles=list(roles),
    )
    return session.get_one(Organisation, developer.organisation_id)


def register_partner(
    app: Flask,
    client: FlaskClient,
    *,
    roles: tuple[str, ...] = ("AISP", "PISP"),
    method: str = "private_key_jwt",
    dpop_bound: bool = False,
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
    kty: str = "EC",
) -> Partner:
    """Create an organisation and a sandbox app, committed, and a client for it."""
    database: Database = app.extensions["database"]
    private_jwk = new_key(kty)
    with database.sessions.begin() as session:
        organisation = new_organisation(session, private_jwk["kid"], roles)
        new_app, secret = services.create_app(
            session,
            organisation,
            name="Test App",
            redirect_uris=list(redirect_uris),
            token_endpoint_auth_method=method,
            jwks={"keys": [public(private_jwk)]} if method == "private_key_jwt" else None,
            dpop_bound=dpop_bound,
        )
        org_id, client_id = organisation.id, new_app.client_id
    partner_client = PartnerClient(
        ISSUER,
        client_id,
        redirect_uris[0],
        private_jwk,
        transport=flask_transport(client),
        alg="ES256" if kty == "EC" else "PS256",
    )
    return Partner(org_id, client_id, partner_client, private_jwk, secret)


def create_consent(app: Flask, partner: Partner, kind: str = "accounts", **kwargs: Any) -> str:
    """Create a consent awaiting authorisation for ``partner``; return its id. A payment
    consent holds a domestic payment, as the payment API stages it, unless ``data`` is given."""
    if kind == "payments" and "data" not in kwargs:
        from tests.common.pisp import consent_body

        body = consent_body()
        staged = {"family": "domestic-payment-consents", "Risk": body["Risk"]}
        kwargs["data"] = body["Data"] | staged
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        consent = consents.create(
            session,
            client_id=partner.client_id,
            tenant_id=partner.organisation_id,
            kind=kind,
            permissions=kwargs.pop("permissions", ["ReadAccountsBasic", "ReadBalances"]),
            now=dt.datetime.now(dt.UTC),
            **kwargs,
        )
        return consent.id


def sandbox_login(app: Flask, tenant: str) -> tuple[str, str]:
    """The username and password of the first test customer of a tenant (created if needed)."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        app.extensions["bank_core"](session).ensure_tenant(tenant)
        customer = session.scalars(
            select(Customer).where(Customer.tenant_id == tenant).order_by(Customer.pk)
        ).first()
        assert customer is not None
        return customer.username, customer.password


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ACCOUNT = re.compile(r'name="account" value="([^"]+)"')


def approve_in_browser(
    app: Flask, browser: FlaskClient, url: str, tenant: str, *, decision: str = "approve",
    accounts: int = 1, login: tuple[str, str] | None = None,
) -> dict[str, str]:  # fmt: skip
    """Play the customer (``login``, or the tenant's first): sign in, pick accounts, decide;
    return the redirect's parameters."""
    username, password = login or sandbox_login(app, tenant)
    page = browser.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    token = CSRF.search(page.get_data(as_text=True))
    assert token is not None
    login = browser.post(
        "/authorize/login",
        data={"csrf_token": token.group(1), "username": username, "password": password},
    )
    assert login.status_code == 303, login.get_data(as_text=True)
    consent_page = browser.get(login.headers["Location"])
    html = consent_page.get_data(as_text=True)
    token = CSRF.search(html)
    assert token is not None
    picked = _ACCOUNT.findall(html)[:accounts]
    answer = browser.post(
        "/authorize/consent",
        data={"csrf_token": token.group(1), "decision": decision, "account": picked},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI) or "?" in location
    return dict(parse_qsl(urlsplit(location).query))


def app_row(app: Flask, client_id: str) -> App:
    """The app row, read in a short session."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        return session.get_one(App, client_id)
