"""Apps: the OAuth clients of partner organisations, from registration to deletion.

Plain functions that take a :class:`~sqlalchemy.orm.Session`, flush and never commit; every rule
violation raises :class:`~partners.errors.PartnerError`. :mod:`partners.services` re-exports them.

Production apps follow the FAPI 2.0 Security Profile: they authenticate with ``private_key_jwt``,
their tokens are sender-constrained with DPoP, and ops approve them before they can be used. The
sandbox also accepts ``client_secret_basic`` and bearer tokens, to ease a partner's first steps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import string
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.orm import Session

from partners.errors import PartnerError
from partners.jwks import check_jwks, check_jwks_uri
from partners.models import ROLES, App, Organisation
from partners.redirects import ENVIRONMENTS, check_redirect_uris

# The scope each directory role entitles an organisation's apps to.
ROLE_SCOPES = {
    "AISP": "accounts",
    "PISP": "payments",
    "CBPII": "fundsconfirmations",
    "FINANCING": "financing",
}
PRIVATE_KEY_JWT = "private_key_jwt"
CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret
AUTH_METHODS = (PRIVATE_KEY_JWT, CLIENT_SECRET_BASIC)
SECRET_PREFIX = "obs_"  # noqa: S105 - marks leaked secrets as ours, is not one
_ID_ALPHABET = string.ascii_lowercase + string.digits


def utcnow() -> dt.datetime:
    """Return the current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def new_id(prefix: str) -> str:
    """Return ``prefix`` followed by 20 random lower-case letters and digits (about 103 bits)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


def text_field(value: str, field: str, max_length: int) -> str:
    """Return ``value`` stripped, or raise ``invalid_field`` unless 1 to ``max_length`` chars."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > max_length:
        raise PartnerError(
            "invalid_field", f"{field} must be 1 to {max_length} characters", field=field
        )
    return text


def _allowed_scopes(organisation: Organisation) -> list[str]:
    return [ROLE_SCOPES[role] for role in ROLES if role in organisation.roles]


def _scope(organisation: Organisation, scope: str | None) -> str:
    allowed = _allowed_scopes(organisation)
    if scope is None:
        return " ".join(allowed)
    requested = list(dict.fromkeys(scope.split())) if isinstance(scope, str) else []
    outside = [item for item in requested if item not in allowed]
    if not requested or outside:
        raise PartnerError(
            "invalid_scope",
            f"This organisation's roles allow the scopes: {' '.join(allowed)}",
            field="scope",
        )
    return " ".join(requested)


def _keys(
    method: str, jwks: dict[str, Any] | None, jwks_uri: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    # RFC 7591 §2: "The jwks_uri and jwks parameters MUST NOT both be present".
    if jwks is not None and jwks_uri is not None:
        raise PartnerError("invalid_jwks", "Give jwks or jwks_uri, not both", field="jwks")
    if method == PRIVATE_KEY_JWT and jwks is None and jwks_uri is None:
        raise PartnerError(
            "invalid_jwks", "private_key_jwt needs the app's public keys (jwks or jwks_uri)", "jwks"
        )
    return (
        check_jwks(jwks) if jwks is not None else None,
        check_jwks_uri(jwks_uri) if jwks_uri is not None else None,
    )


def _new_secret(app: App, now: dt.datetime) -> str:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    app.client_secret_hash = hashlib.sha256(secret.encode()).hexdigest()
    app.secret_rotated_at = now
    return secret


def _check_environment(
    organisation: Organisation, environment: str, auth_method: str, dpop_bound: bool
) -> None:
    """Refuse an app its organisation or its environment does not allow."""
    if environment not in ENVIRONMENTS:
        raise PartnerError(
            "invalid_environment", f"environment must be one of {ENVIRONMENTS}", "environment"
        )
    if organisation.status == "suspended":
        raise PartnerError("organisation_suspended", "The organisation is suspended")
    if auth_method not in AUTH_METHODS:
        raise PartnerError(
            "invalid_auth_method",
            f"token_endpoint_auth_method must be one of {AUTH_METHODS}",
            field="token_endpoint_auth_method",
        )
    if environment == "production":
        if organisation.status != "approved":
            raise PartnerError(
                "organisation_not_approved",
                "Only approved organisations can create production apps",
                field="environment",
            )
        # FAPI 2.0 Security Profile §5.3.2.1: the authorization server shall authenticate
        # clients using MTLS or private_key_jwt.
        if auth_method != PRIVATE_KEY_JWT:
            raise PartnerError(
                "invalid_auth_method",
                "Production apps must authenticate with private_key_jwt",
                field="token_endpoint_auth_method",
            )
        # FAPI 2.0 Security Profile §5.3.2.1: shall only issue sender-constrained access tokens.
        if not dpop_bound:
            raise PartnerError(
                "dpop_required", "Production apps must use DPoP-bound tokens", "dpop_bound"
            )


def create_app(
    session: Session,
    organisation: Organisation,
    *,
    name: str,
    redirect_uris: Sequence[str],
    token_endpoint_auth_method: str,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    environment: str = "sandbox",
    scope: str | None = None,
    dpop_bound: bool = False,
) -> tuple[App, str | None]:
    """Register an app of ``organisation``; return it and, for ``client_secret_basic``, its
    client secret (shown this once: only its SHA-256 is stored).

    Sandbox apps are active at once. Production apps need an approved organisation,
    ``private_key_jwt`` and DPoP, and stay ``pending`` until ops call :func:`approve_app`.
    ``scope`` defaults to every scope the organisation's roles allow.
    """
    _check_environment(organisation, environment, token_endpoint_auth_method, dpop_bound)
    checked_jwks, checked_jwks_uri = _keys(token_endpoint_auth_method, jwks, jwks_uri)
    now = utcnow()
    app = App(
        client_id=new_id("cli_"),
        organisation_id=organisation.id,
        name=text_field(name, "name", 140),
        environment=environment,
        status="pending" if environment == "production" else "active",
        redirect_uris=check_redirect_uris(redirect_uris, environment),
        token_endpoint_auth_method=token_endpoint_auth_method,
        jwks=checked_jwks,
        jwks_uri=checked_jwks_uri,
        client_secret_hash=None,
        secret_rotated_at=None,
        dpop_bound=bool(dpop_bound),
        tier="standard" if environment == "production" else "sandbox",
        scope=_scope(organisation, scope),
        created_at=now,
        updated_at=now,
    )
    secret = _new_secret(app, now) if token_endpoint_auth_method == CLIENT_SECRET_BASIC else None
    session.add(app)
    session.flush()
    return app, secret


def _organisation(session: Session, app: App) -> Organisation:
    return session.get_one(Organisation, app.organisation_id)


def approve_app(session: Session, app: App) -> App:
    """Approve a pending production app (ops); the organisation must be approved."""
    if app.environment != "production" or app.status != "pending":
        raise PartnerError("invalid_status", "Only pending production apps await approval")
    if _organisation(session, app).status != "approved":
        raise PartnerError("organisation_not_approved", "The organisation is not approved")
    app.status = "active"
    app.updated_at = utcnow()
    session.flush()
    return app


def rotate_secret(session: Session, app: App) -> str:
    """Replace the client secret of a ``client_secret_basic`` app; return the new one (once)."""
    if app.token_endpoint_auth_method != CLIENT_SECRET_BASIC:
        raise PartnerError(
            "invalid_auth_method", "Only client_secret_basic apps have a client secret"
        )
    now = utcnow()
    secret = _new_secret(app, now)
    app.updated_at = now
    session.flush()
    return secret


def verify_client_secret(app: App, secret: str) -> bool:
    """Return whether ``secret`` is the app's client secret (constant-time comparison)."""
    if app.client_secret_hash is None or not isinstance(secret, str):
        return False
    presented = hashlib.sha256(secret.encode()).hexdigest()
    return hmac.compare_digest(presented, app.client_secret_hash)


def set_keys(
    session: Session,
    app: App,
    *,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
) -> App:
    """Replace the app's public keys (inline ``jwks`` or a ``jwks_uri``, not both)."""
    app.jwks, app.jwks_uri = _keys(app.token_endpoint_auth_method, jwks, jwks_uri)
    app.updated_at = utcnow()
    session.flush()
    return app


def set_redirect_uris(session: Session, app: App, uris: Sequence[str]) -> App:
    """Replace the app's redirect URIs, checked as at registration."""
    app.redirect_uris = check_redirect_uris(uris, app.environment)
    app.updated_at = utcnow()
    session.flush()
    return app


def suspend_app(session: Session, app: App) -> App:
    """Suspend an active app: it can no longer obtain or use tokens (idempotent).

    A pending production app cannot be suspended (it is not usable yet); delete it instead.
    """
    if app.status == "pending":
        raise PartnerError("invalid_status", "A pending app cannot be suspended")
    if app.status != "suspended":
        app.status = "suspended"
        app.updated_at = utcnow()
        session.flush()
    return app


def reactivate_app(session: Session, app: App) -> App:
    """Reactivate a suspended app (idempotent); its organisation must not be suspended, and must
    be approved for a production app."""
    if app.status == "pending":
        raise PartnerError("invalid_status", "A pending app is activated by approving it")
    organisation = _organisation(session, app)
    if organisation.status == "suspended":
        raise PartnerError("organisation_suspended", "The organisation is suspended")
    if app.environment == "production" and organisation.status != "approved":
        raise PartnerError("organisation_not_approved", "The organisation is not approved")
    if app.status != "active":
        app.status = "active"
        app.updated_at = utcnow()
        session.flush()
    return app


def set_tier(session: Session, app: App, tier: str, known: Collection[str]) -> App:
    """Move an app to the rate-limit tier ``tier``, one of the ``known`` tiers (ops)."""
    if tier not in known:
        raise PartnerError(
            "invalid_tier", f"Choose a tier of {', '.join(sorted(known))}", field="tier"
        )
    if app.tier != tier:
        app.tier = tier
        app.updated_at = utcnow()
        session.flush()
    return app


def set_request_signing(session: Session, app: App, required: bool) -> App:
    """Require (or, for a sandbox app, stop requiring) a signed ``x-jws-signature`` on the app's
    payment, VRP and funds-confirmation requests (OBIE Read/Write Data API Profile v4.0,
    Message Signing). A production app cannot switch it off."""
    if not required and app.environment != "sandbox":
        raise PartnerError(
            "request_signing_required",
            "Production apps must sign their requests: only a sandbox app may switch it off",
            field="request_signing",
        )
    if app.request_signing != bool(required):
        app.request_signing = bool(required)
        app.updated_at = utcnow()
        session.flush()
    return app


def signing_issuers(client_id: str, organisation_id: str, software_id: str | None) -> list[str]:
    """The values of ``http://openbanking.org.uk/iss`` that name an app in its message
    signatures: its client id, or ``<organisation id>/<software id>`` as OBIE Directory
    participants send it (the software id of a dynamically registered app, else its client id).
    """
    issuers = [client_id, f"{organisation_id}/{client_id}"]
    if software_id:
        issuers.append(f"{organisation_id}/{software_id}")
    return issuers


def delete_app(session: Session, app: App) -> None:
    """Delete an app.

    Its pushed requests, authorization codes and tokens go with it: their foreign keys to
    ``ptn_app`` are ``ON DELETE CASCADE``, enforced by the database (SQLite only with
    ``PRAGMA foreign_keys=ON``, which :func:`gateway.store.database.make_engine` sets).
    """
    session.delete(app)
    session.flush()
