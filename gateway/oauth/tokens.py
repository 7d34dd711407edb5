"""Issuing, finding, rotating and revoking tokens.

Policy (documented for partners in the getting-started guide):

* access tokens are opaque, prefixed ``oba_``, live at most :data:`ACCESS_TTL` (10 minutes) and
  carry the consent they were issued for;
* refresh tokens (``obr_``) are issued only by the authorization-code grant, live as long as
  the consent allows (at most :data:`REFRESH_TTL`), and rotate: each use returns a new refresh
  token and retires the old one. Presenting a retired refresh token again revokes every token of
  that consent for that client (RFC 9700 §4.14.2 reuse detection);
* a token bound to a DPoP key (``cnf.jkt``) is usable only with proofs signed by that key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core import changes
from gateway.oauth import secrets, token_cache
from gateway.oauth.models import Token
from gateway.oauth.oidc import Authentication
from gateway.store.reads import Reads
from gateway.store.statements import Prepared
from partners.models import App

ACCESS_TTL = dt.timedelta(minutes=10)
REFRESH_TTL = dt.timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Issued:
    """Token values as the client receives them (the database keeps only their hashes)."""

    access_token: str
    refresh_token: str | None
    token_type: str
    expires_in: int
    scope: str
    row: Token
    # With the openid scope: what the ID token of this response says (OIDC Core §3.1.3.3).
    authentication: Authentication | None = None


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A live access token as a resource request sees it, with the tier of its app."""

    client_id: str
    grant_type: str
    scope: str
    consent_id: str | None
    customer_id: str | None
    cnf_jkt: str | None
    auth_time: dt.datetime | None
    issued_at: dt.datetime
    expires_at: dt.datetime
    tier: str
    consent: consents.Snapshot | None


# Every API call runs this: one statement for the token, its app and its consent, read without
# the ORM's identity map (nothing here is changed by the request).
_TOKEN_FIELDS = tuple(name for name in AccessToken.__slots__ if name not in ("tier", "consent"))
_LIVE_ACCESS = Prepared(
    select(
        *(Token.__table__.c[name] for name in _TOKEN_FIELDS),
        App.tier,
        *consents.SNAPSHOT_COLUMNS,
    )
    .join(App, App.client_id == Token.client_id)
    .outerjoin(Consent, Consent.id == Token.consent_id)
    .where(
        Token.access_hash == bindparam("access_hash"),
        Token.revoked_at.is_(None),
        App.status == "active",
    )
)


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def issue(
    session: Session,
    app: App,
    *,
    grant_type: str,
    scope: str,
    consent_id: str | None = None,
    customer_id: str | None = None,
    cnf_jkt: str | None = None,
    auth_time: dt.datetime | None = None,
    with_refresh: bool = False,
    refresh_until: dt.datetime | None = None,
) -> Issued:
    """Create an access token (and a refresh token when asked) and store their hashes."""
    issued_at = now()
    access = secrets.new(secrets.ACCESS_PREFIX)
    refresh = secrets.new(secrets.REFRESH_PREFIX) if with_refresh else None
    refresh_expiry = None
    if refresh is not None:
        refresh_expiry = min(issued_at + REFRESH_TTL, refresh_until or issued_at + REFRESH_TTL)
    row = Token(
        access_hash=secrets.digest(access),
        refresh_hash=secrets.digest(refresh) if refresh else None,
        client_id=app.client_id,
        grant_type=grant_type,
        scope=scope,
        consent_id=consent_id,
        customer_id=customer_id,
        cnf_jkt=cnf_jkt,
        auth_time=auth_time,
        issued_at=issued_at,
        expires_at=issued_at + ACCESS_TTL,
        refresh_expires_at=refresh_expiry,
    )
    # A plain INSERT: the row is written once and never changed by this request, so the ORM's
    # unit of work has nothing to add (and costs a good part of a token grant).
    session.execute(insert(Token), [{c.key: getattr(row, c.key) for c in Token.__table__.c}])
    return Issued(
        access_token=access,
        refresh_token=refresh,
        token_type="DPoP" if cnf_jkt else "Bearer",
        expires_in=int(ACCESS_TTL.total_seconds()),
        scope=scope,
        row=row,
    )


def find_access(reads: Reads, value: str) -> AccessToken | None:
    """Return the live token with this access value (not expired, revoked, or of an inactive
    app), or ``None``."""
    if not value.startswith(secrets.ACCESS_PREFIX):
        return None
    rows = reads.rows(_LIVE_ACCESS, {"access_hash": secrets.digest(value)})
    found = rows[0] if rows else None
    if found is None or found.expires_at <= now():
        return None
    # The token's columns and its app's tier, then the consent's.
    named = dict(zip((*_TOKEN_FIELDS, "tier"), found, strict=False))
    return AccessToken(**named, consent=consents.snapshot_of(found[len(named) :]))


def find_refresh(session: Session, value: str) -> Token | None:
    """Return the token row holding this refresh value, live or not."""
    if not value.startswith(secrets.REFRESH_PREFIX):
        return None
    return session.scalar(select(Token).where(Token.refresh_hash == secrets.digest(value)))


def refresh_usable(row: Token) -> bool:
    """Tell whether a refresh token may still be exchanged."""
    expiry = row.refresh_expires_at
    return row.revoked_at is None and expiry is not None and expiry > now()


def revoke(session: Session, row: Token) -> None:
    """Revoke one token (access and refresh together)."""
    if row.revoked_at is None:
        row.revoked_at = now()
        session.flush()


def revoke_consent(session: Session, client_id: str, consent_id: str) -> int:
    """Revoke every token a client holds for a consent; return how many were live."""
    # Every kept token of the consent depends on the consent's version: replacing it is enough.
    changes.mark(session.info, "consent", consent_id)
    result = session.execute(
        update(Token)
        .where(
            Token.client_id == client_id,
            Token.consent_id == consent_id,
            Token.revoked_at.is_(None),
        )
        .values(revoked_at=now()),
        execution_options={token_cache.MARKED: True},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def find_any(session: Session, value: str) -> Token | None:
    """Return the token row whose access or refresh value this is (for revocation)."""
    hashed = secrets.digest(value)
    return session.scalar(
        select(Token).where(or_(Token.access_hash == hashed, Token.refresh_hash == hashed))
    )
