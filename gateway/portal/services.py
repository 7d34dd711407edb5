"""Plain functions behind the portal pages: who may see an app, the lists the pages show, the
sandbox test customers of an organisation, and software statements.

They take a :class:`~sqlalchemy.orm.Session` (and a :class:`~gateway.core.SandboxBank` where the
sandbox is involved), flush and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.administration import SandboxBank, TenantInfo
from gateway.core.errors import UnknownTenant
from gateway.core.money import Money
from gateway.edge.ratelimit import DEFAULT_TIERS
from gateway.oauth import keys
from partners.apps import set_redirect_uris
from partners.directory import issue_software_statement
from partners.errors import PartnerError
from partners.models import App, Developer, Organisation

STATUS_MEANINGS = {
    "pending": (
        "Your organisation can use its sandbox now. Production needs the bank's approval: "
        "until ops approve it, you can only create sandbox apps."
    ),
    "approved": (
        "Approved for production: you may create production apps, and each one works once "
        "ops have approved it too."
    ),
    "suspended": (
        "Suspended by the bank: your apps cannot obtain or use tokens, and you cannot create "
        "new ones. Contact the bank to find out why."
    ),
}


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One sandbox account as the organisation page lists it."""

    subtype: str
    currency: str
    nickname: str
    booked: Money


@dataclass(frozen=True, slots=True)
class SandboxCustomer:
    """A test customer of an organisation's sandbox, with the credentials to sign in as them."""

    name: str
    kind: str
    username: str
    password: str
    accounts: tuple[AccountRow, ...]


@dataclass(frozen=True, slots=True)
class KeySummary:
    """What the app page shows of a registered public key."""

    kid: str
    kty: str
    alg: str


def rate_limit_tiers(configured: Mapping[str, str]) -> dict[str, str]:
    """Every rate-limit tier ops may put an app in, with its limits: the defaults, and those
    configured (``GATEWAY_RATE_LIMIT_TIERS``) over them."""
    return {**DEFAULT_TIERS, **configured}


def can_see(developer: Developer, app: App) -> bool:
    """Whether ``developer`` may see and change ``app``: a member of its organisation, or ops."""
    return developer.is_ops or app.organisation_id == developer.organisation_id


def organisation_apps(session: Session, organisation_id: str | None) -> Sequence[App]:
    """The apps of one organisation (every app when ``organisation_id`` is ``None``, for ops)."""
    query = select(App).order_by(App.created_at.desc(), App.client_id)
    if organisation_id is not None:
        query = query.where(App.organisation_id == organisation_id)
    return session.scalars(query).all()


def organisations(session: Session) -> Sequence[Organisation]:
    """Every organisation, newest first."""
    query = select(Organisation).order_by(Organisation.created_at.desc(), Organisation.id)
    return session.scalars(query).all()


def sandbox_customers(
    core: SandboxBank, tenant: str, *, with_accounts: bool = True
) -> list[SandboxCustomer]:
    """The test customers of ``tenant`` (created on first use) with their logins and, if asked,
    their accounts and booked balances."""
    core.ensure_tenant(tenant)
    customers = []
    for login in core.sandbox_logins(tenant):
        rows: list[AccountRow] = []
        if with_accounts:
            for account in core.accounts(tenant, login.customer.id):
                booked = core.balances(tenant, account.id).booked
                rows.append(
                    AccountRow(account.account_subtype, account.currency, account.nickname, booked)
                )
        customers.append(
            SandboxCustomer(
                login.customer.name,
                login.customer.kind,
                login.username,
                login.password,
                tuple(rows),
            )
        )
    return customers


def sandbox_ready(core: SandboxBank, tenant: str) -> TenantInfo | None:
    """The tenant as it stands, or ``None`` while it has not been made (making it takes seconds:
    the portal says so and makes it in a request of its own)."""
    try:
        return core.tenant_info(tenant)
    except UnknownTenant:
        return None


def key_summaries(app: App) -> list[KeySummary]:
    """The app's inline public keys: kid, key type, and the algorithm they sign with."""
    summaries = []
    for key in (app.jwks or {}).get("keys", []):
        kty = str(key.get("kty", ""))
        alg = str(key.get("alg") or {"EC": "ES256", "RSA": "PS256"}.get(kty, ""))
        summaries.append(KeySummary(str(key.get("kid", "")), kty, alg))
    return summaries


def add_redirect_uri(session: Session, app: App, uri: str) -> App:
    """Register one more redirect URI for a sandbox app (checked like every other)."""
    if app.environment != "sandbox":
        raise PartnerError(
            "invalid_environment", "Only sandbox apps can try the flow in the portal"
        )
    if uri in app.redirect_uris:
        return app
    return set_redirect_uris(session, app, [*app.redirect_uris, uri])


def software_statement(session: Session, app: App) -> tuple[str, str]:
    """Have the sandbox directory sign a software statement for ``app``'s redirect URIs and
    keys; return (software_id, the SSA as a compact JWT)."""
    if app.jwks is None and app.jwks_uri is None:
        raise PartnerError(
            "invalid_jwks",
            "A software statement names the software's public keys: register a JWKS or a "
            "jwks_uri for this app first",
        )
    organisation = session.get_one(Organisation, app.organisation_id)
    kid, key = keys.active_key(session)
    return issue_software_statement(
        organisation,
        signing_key=key,
        kid=kid,
        alg=keys.SIGNING_ALG,
        client_name=app.name,
        redirect_uris=app.redirect_uris,
        jwks=app.jwks,
        jwks_uri=app.jwks_uri,
    )
