"""The authorization server's signing keys: generated on first use, stored, rotated by CLI.

One key is ``active`` (it signs); after a rotation the previous one stays ``published`` in the
JWKS so that what it signed can still be verified, until it is retired.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from joserfc.jwk import ECKey, import_key
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.oauth.models import ServerKey
from gateway.store.reads import Reads

SIGNING_ALG = "ES256"


def _generate(session: Session) -> ServerKey:
    key = ECKey.generate_key("P-256", auto_kid=True)
    row = ServerKey(
        kid=key.kid or key.thumbprint(),
        alg=SIGNING_ALG,
        private_jwk=key.as_dict(private=True),
        status="active",
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    return row


def active_key(session: Session) -> tuple[str, ECKey]:
    """Return the kid and private key that signs now, generating the first one if needed."""
    row = session.scalar(select(ServerKey).where(ServerKey.status == "active"))
    if row is None:
        try:
            with session.begin_nested():
                row = _generate(session)
        except IntegrityError:
            # Another worker generated the first key meanwhile (one active key: see 0005).
            row = session.scalars(select(ServerKey).where(ServerKey.status == "active")).one()
    key = import_key(row.private_jwk, "EC")
    return row.kid, key


_ACTIVE = select(ServerKey.kid, ServerKey.alg, ServerKey.private_jwk).where(
    ServerKey.status == "active"
)


def read_active(reads: Reads) -> tuple[str, str, ECKey] | None:
    """Return the kid, algorithm and private key that signs now, read outside the unit of work
    (see :class:`~gateway.store.reads.Reads`), or ``None`` before the first key is made."""
    row = reads.execute(_ACTIVE, {}).first()
    if row is None:
        return None
    return row.kid, row.alg, import_key(row.private_jwk, "EC")


def public_jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Return the JWKS to publish: the public halves of the active and published keys."""
    active_key(session)
    rows = session.scalars(
        select(ServerKey)
        .where(ServerKey.status.in_(("active", "published")))
        .order_by(ServerKey.created_at.desc())
    )
    keys = []
    for row in rows:
        public = import_key(row.private_jwk, "EC").as_dict(private=False)
        keys.append({**public, "kid": row.kid, "alg": row.alg, "use": "sig"})
    return {"keys": keys}


def rotate(session: Session, *, retire_published: bool = True) -> str:
    """Make a new active key; the old active key stays published, older ones are retired."""
    if retire_published:
        session.execute(
            update(ServerKey).where(ServerKey.status == "published").values(status="retired")
        )
    session.execute(
        update(ServerKey).where(ServerKey.status == "active").values(status="published")
    )
    return _generate(session).kid
