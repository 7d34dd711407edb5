"""Plain functions behind the portal pages: who may see an app, the lists the pages show, the
sandbox test customers of an organisation, and software statements.

They take a :class:`~sqlalchemy.orm.Session` (and a :class:`~gateway.core.SandboxBank` where the
sandbox is involved), flush and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.administration import MAX_ADVANCE, DueRun, SandboxBank, TenantInfo
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


# The sandbox's kinds of due work, as the organisation page names them.
DUE_WORK = {
    "standing_order": "Standing order payments",
    "scheduled_payment": "Scheduled payments",
    "card_hold": "Card payments settled",
}
# The steps the organisation page offers for the sandbox clock.
CLOCK_STEPS = {
    "1h": dt.timedelta(hours=1),
    "1d": dt.timedelta(days=1),
    "7d": dt.timedelta(days=7),
}


def sandbox_ready(core: SandboxBank, tenant: str) -> TenantInfo | None:
    """The tenant as it stands, or ``None`` while it has not been made (making it takes seconds:
    the portal says so and makes it in a request of its own)."""
    try:
        return core.tenant_info(tenant)
    except UnknownTenant:
        return None


def clock_text(moment: dt.datetime) -> str:
    """A sandbox time as the page writes it: ``Wednesday 4 March 2026, 10:00 UTC``."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc:%A} {utc.day} {utc:%B %Y, %H:%M} UTC"


def duration_text(delta: dt.timedelta) -> str:
    """``1 day and 6 hours``, ``7 days``, ``1 hour``."""
    hours = delta.seconds // 3600
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((delta.days, "day"), (hours, "hour"))
        if n
    ]
    return " and ".join(parts) or "no time"


def advance_request(step: str, days: str = "", hours: str = "") -> dt.timedelta:
    """The time a clock form asks for: one of :data:`CLOCK_STEPS`, or ``custom`` whole days and
    hours (at least an hour, at most :data:`MAX_ADVANCE`); ``PartnerError`` otherwise."""
    if step in CLOCK_STEPS:
        return CLOCK_STEPS[step]
    try:
        whole_days, whole_hours = int(days.strip() or 0), int(hours.strip() or 0)
    except ValueError:
        raise PartnerError("invalid_field", "Give whole numbers of days and hours") from None
    if whole_days < 0 or whole_hours < 0:
        raise PartnerError("invalid_field", "The clock only moves forward")
    if whole_days > MAX_ADVANCE.days or whole_hours > MAX_ADVANCE.days * 24:
        raise PartnerError(
            "invalid_field", f"Move the clock at most {MAX_ADVANCE.days} days at a time"
        )
    delta = dt.timedelta(days=whole_days, hours=whole_hours)
    if delta < dt.timedelta(hours=1):
        raise PartnerError("invalid_field", "Move the clock forward by at least an hour")
    if delta > MAX_ADVANCE:
        raise PartnerError(
            "invalid_field", f"Move the clock at most {MAX_ADVANCE.days} days at a time"
        )
    return delta


def run_summary(before: dt.datetime, delta: dt.timedelta, run: DueRun) -> dict[str, Any]:
    """What an advance did, as the organisation page shows it once (kept in the session)."""
    kinds = sorted(set(run.executed) | set(run.rejected))
    return {
        "moved": duration_text(delta),
        "from": clock_text(before),
        "to": clock_text(run.now),
        "lines": [
            [DUE_WORK.get(kind, kind.replace("_", " ").capitalize()),
             run.executed.get(kind, 0), run.rejected.get(kind, 0)]
            for kind in kinds
        ],
    }  # fmt: skip


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
