"""Partner services: sign-up and sign-in, organisation status, and (from :mod:`partners.apps`)
the lifecycle of apps.

Plain functions that take a :class:`~sqlalchemy.orm.Session`, flush and never commit (the request
or CLI boundary commits). Every rule violation raises :class:`PartnerError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from partners import passwords
from partners.apps import (
    ROLE_SCOPES,
    approve_app,
    create_app,
    delete_app,
    new_id,
    reactivate_app,
    rotate_secret,
    set_keys,
    set_redirect_uris,
    set_request_signing,
    set_tier,
    signing_issuers,
    suspend_app,
    text_field,
    utcnow,
    verify_client_secret,
)
from partners.errors import PartnerError
from partners.models import ROLES, App, Developer, Organisation

__all__ = [
    "ROLE_SCOPES",
    "PartnerError",
    "approve_app",
    "authenticate_developer",
    "create_app",
    "create_ops_account",
    "delete_app",
    "reactivate_app",
    "rotate_secret",
    "set_keys",
    "set_organisation_status",
    "set_redirect_uris",
    "set_request_signing",
    "set_tier",
    "sign_up",
    "signing_issuers",
    "suspend_app",
    "verify_client_secret",
]

ORGANISATION_STATUSES = ("approved", "suspended")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _roles(roles: Iterable[str]) -> list[str]:
    if isinstance(roles, str):
        raise PartnerError("invalid_roles", "roles must be a list", field="roles")
    chosen = list(dict.fromkeys(roles))
    unknown = [role for role in chosen if role not in ROLES]
    if unknown or not chosen:
        raise PartnerError(
            "invalid_roles", f"Choose one or more roles of {', '.join(ROLES)}", field="roles"
        )
    return chosen


def _email_taken(session: Session, email: str) -> bool:
    return session.scalar(select(Developer.id).where(Developer.email == email)) is not None


# The longest text each sign-up field takes (the sizes of their columns).
SIGN_UP_TEXT_LIMITS = {"name": 140, "legal_name": 140, "registration_number": 35}


def _developer_fields(session: Session, email: str, name: str, password: str) -> tuple[str, str]:
    """Check a new account's e-mail address, name and password; return the address and name."""
    address = passwords.normalise_email(email)
    display_name = text_field(name, "name", SIGN_UP_TEXT_LIMITS["name"])
    passwords.check_password(password, email=address)
    # Checked first for a clear message; the unique constraint on email still guards a race.
    if _email_taken(session, address):
        raise PartnerError("email_taken", "An account with this e-mail exists", field="email")
    return address, display_name


def _add_developer(
    session: Session, address: str, name: str, password: str, organisation_id: str | None
) -> Developer:
    developer = Developer(
        id=new_id("dev_"),
        email=address,
        name=name,
        password_hash=passwords.hash_password(password),
        organisation_id=organisation_id,
        is_ops=organisation_id is None,
        created_at=utcnow(),
        last_login_at=None,
    )
    session.add(developer)
    session.flush()
    return developer


def sign_up(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    legal_name: str,
    country: str,
    registration_number: str,
    roles: Sequence[str],
) -> Developer:
    """Register an organisation (status ``pending``) and its first developer; return the developer.

    ``country`` is an ISO 3166-1 alpha-2 code (its shape is checked, not the list of countries);
    ``roles`` a non-empty subset of :data:`partners.models.ROLES`. Nothing is written unless
    every field is valid.
    """
    organisation = Organisation(
        id=new_id("org_"),
        legal_name=text_field(legal_name, "legal_name", SIGN_UP_TEXT_LIMITS["legal_name"]),
        country=country if isinstance(country, str) and _COUNTRY.match(country) else "",
        registration_number=text_field(
            registration_number, "registration_number", SIGN_UP_TEXT_LIMITS["registration_number"]
        ),
        roles=_roles(roles),
        status="pending",
    )
    if not organisation.country:
        raise PartnerError(
            "invalid_field", "country must be an ISO 3166-1 alpha-2 code", field="country"
        )
    address, display_name = _developer_fields(session, email, name, password)
    organisation.created_at = organisation.status_changed_at = utcnow()
    # The organisation is written first: the developer row refers to it, and no ORM relationship
    # tells the unit of work to order the two INSERTs.
    session.add(organisation)
    session.flush()
    return _add_developer(session, address, display_name, password, organisation.id)


def create_ops_account(session: Session, email: str, name: str, password: str) -> Developer:
    """Create a bank ops account (``is_ops``, no organisation) and return it."""
    address, display_name = _developer_fields(session, email, name, password)
    return _add_developer(session, address, display_name, password, None)


def authenticate_developer(session: Session, email: str, password: str) -> Developer | None:
    """Return the developer these credentials belong to, recording the sign-in, or ``None``.

    An unknown or malformed e-mail address costs the same hash verification as a wrong password,
    so response times do not reveal which addresses have accounts.
    """
    try:
        address = passwords.normalise_email(email)
    except PartnerError:
        address = None
    developer = None
    if address is not None:
        developer = session.scalar(select(Developer).where(Developer.email == address))
    if developer is None:
        passwords.burn_verification(password)
        return None
    if not passwords.verify_password(developer.password_hash, password):
        return None
    developer.last_login_at = utcnow()
    session.flush()
    return developer


def set_organisation_status(session: Session, org_id: str, status: str) -> Organisation:
    """Approve or suspend an organisation (ops); suspending it also suspends its active apps.

    Pending production apps stay pending: they cannot be used, and :func:`approve_app` refuses
    them while the organisation is not approved. Approving an organisation again does not
    reactivate its apps; ops reactivate each with :func:`reactivate_app`.
    """
    if status not in ORGANISATION_STATUSES:
        raise PartnerError(
            "invalid_status", f"status must be one of {ORGANISATION_STATUSES}", field="status"
        )
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        raise PartnerError("unknown_organisation", f"No organisation {org_id!r}")
    now = utcnow()
    if organisation.status != status:
        organisation.status = status
        organisation.status_changed_at = now
    if status == "suspended":
        apps = session.scalars(
            select(App).where(App.organisation_id == org_id, App.status == "active")
        )
        for app in apps:
            app.status = "suspended"
            app.updated_at = now
    session.flush()
    return organisation
