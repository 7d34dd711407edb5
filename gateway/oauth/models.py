"""Tables of the authorization server.

Secrets are never stored: authorization codes, access and refresh tokens are kept as SHA-256
hashes of their values, so a copy of the database grants nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, Timestamp


class ServerKey(Base):
    """A signing key of the authorization server (published in its JWKS while not retired)."""

    __tablename__ = "gw_server_key"
    __table_args__ = (
        # At most one key signs: two workers generating the first key at once cannot both win.
        Index(
            "uq_gw_server_key_one_active",
            "status",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))
    private_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    # active (signs), published (verifies only, after rotation), retired
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class PushedRequest(Base):
    """An authorization request pushed to the PAR endpoint (RFC 9126)."""

    __tablename__ = "gw_pushed_request"

    request_uri: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("ptn_app.client_id", ondelete="CASCADE"))
    parameters: Mapped[dict[str, str]] = mapped_column(JSON)
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class AuthorizationCode(Base):
    """An authorization code, single-use, bound to client, redirect URI and PKCE challenge."""

    __tablename__ = "gw_authorization_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("ptn_app.client_id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(256))
    code_challenge: Mapped[str] = mapped_column(String(128))
    consent_id: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(40))
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    # OIDC Core §3.1.3.6: the nonce of the authorization request, echoed in the ID token.
    nonce: Mapped[str | None] = mapped_column(Text)
    auth_time: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class Token(Base):
    """An access token and, for code grants, its refresh token (both stored hashed)."""

    __tablename__ = "gw_token"

    access_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("ptn_app.client_id", ondelete="CASCADE"), index=True
    )
    grant_type: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(256))
    consent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(40))
    # RFC 9449 confirmation: SHA-256 thumbprint of the DPoP key the token is bound to.
    cnf_jkt: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    issued_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    refresh_expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
