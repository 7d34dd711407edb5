"""Builders shared by the partner tests: organisations, key sets, apps and sign-ups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partners import services
from partners.models import App, Developer, Organisation
from partners.services import PartnerError

PASSWORD = "a long enough passphrase"
REDIRECTS = ["https://app.example.com/callback"]


def make_org(
    session: Session, *, roles: list[str] | None = None, status: str = "pending"
) -> Organisation:
    """An organisation inserted directly (no developer, so no password hashing)."""
    now = dt.datetime.now(dt.UTC)
    organisation = Organisation(
        id=services.new_id("org_"),
        legal_name="Acme Payments Ltd",
        country="GB",
        registration_number="01234567",
        roles=roles or ["AISP", "PISP"],
        status=status,
        created_at=now,
        status_changed_at=now,
    )
    session.add(organisation)
    session.flush()
    return organisation


def make_jwks(kid: str = "k1") -> dict[str, Any]:
    """A JWKS with one fresh public EC P-256 key."""
    return {"keys": [dict(ECKey.generate_key("P-256").as_dict(private=False), kid=kid)]}


def sandbox_app(
    session: Session, organisation: Organisation, **kwargs: Any
) -> tuple[App, str | None]:
    """A sandbox app using ``client_secret_basic`` unless ``kwargs`` say otherwise."""
    options: dict[str, Any] = {
        "name": "Budget app",
        "redirect_uris": REDIRECTS,
        "token_endpoint_auth_method": "client_secret_basic",
    }
    options.update(kwargs)
    return services.create_app(session, organisation, **options)


def production_app(session: Session, organisation: Organisation, **kwargs: Any) -> App:
    """A production app with inline keys and DPoP unless ``kwargs`` say otherwise."""
    options: dict[str, Any] = {
        "name": "Budget app",
        "redirect_uris": REDIRECTS,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": make_jwks(),
        "environment": "production",
        "dpop_bound": True,
    }
    options.update(kwargs)
    app, secret = services.create_app(session, organisation, **options)
    assert secret is None
    return app


def sign_up(session: Session, **kwargs: Any) -> Developer:
    """Sign up Ada of Acme Payments, with ``kwargs`` overriding any field."""
    options: dict[str, Any] = {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "password": PASSWORD,
        "legal_name": "Acme Payments Ltd",
        "country": "GB",
        "registration_number": "01234567",
        "roles": ["AISP", "PISP"],
    }
    options.update(kwargs)
    return services.sign_up(session, **options)


def rows(session: Session, model: type[Any]) -> int:
    """How many rows the table of ``model`` holds, as this session sees it."""
    return session.scalar(select(func.count()).select_from(model)) or 0


def apps_of(session: Session, organisation: Organisation) -> list[App]:
    """The organisation's apps, read from the database."""
    return list(session.scalars(select(App).where(App.organisation_id == organisation.id)))


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> PartnerError:
    """The :class:`PartnerError` that ``call(*args, **kwargs)`` raises (fails if none)."""
    with pytest.raises(PartnerError) as info:
        call(*args, **kwargs)
    return info.value
