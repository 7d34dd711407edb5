"""Partner organisations, their developers and their apps (OAuth clients).

An app is an OAuth 2.0 client of the gateway's authorization server: its ``client_id``, redirect
URIs, client authentication method, keys and (sandbox only) hashed secret live here. Every
organisation is also a sandbox tenant: its id names its isolated data set in the sandbox bank.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

# One metadata for the gateway's and the partners' tables: they reference each other.
from gateway.store.models import Base, Timestamp

# Roles an organisation can hold, as the OBIE directory names them, plus our own financing role.
ROLES = ("AISP", "PISP", "CBPII", "FINANCING")


class Organisation(Base):
    """A partner organisation: a legal entity with directory roles and one sandbox tenant."""

    __tablename__ = "ptn_organisation"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(140))
    country: Mapped[str] = mapped_column(String(2))
    registration_number: Mapped[str] = mapped_column(String(35))
    roles: Mapped[list[str]] = mapped_column(JSON)
    # pending -> approved (may use production) -> suspended
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    status_changed_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class Developer(Base):
    """A person who signs in to the portal: a member of one organisation, or bank ops."""

    __tablename__ = "ptn_developer"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(140))
    password_hash: Mapped[str] = mapped_column(String(256))
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("ptn_organisation.id", ondelete="CASCADE"), index=True
    )
    is_ops: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class App(Base):
    """An OAuth client of an organisation, in the sandbox or (after ops approval) production."""

    __tablename__ = "ptn_app"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("ptn_organisation.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(140))
    environment: Mapped[str] = mapped_column(String(16), default="sandbox")
    # active | suspended | pending (a production app awaiting ops approval)
    status: Mapped[str] = mapped_column(String(16), default="active")
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(512))
    # SHA-256 of the client secret (sandbox apps using client_secret_basic only).
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    secret_rotated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # Sandbox apps may use bearer tokens until they opt in; production apps must use DPoP.
    dpop_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    # OBIE message signing: payment, VRP and funds-confirmation requests carry x-jws-signature.
    # Always for production apps; a sandbox app may switch it off while it builds its signing.
    request_signing: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Rate-limit tier (GATEWAY_RATE_LIMIT_TIERS), set by ops.
    tier: Mapped[str] = mapped_column(String(32), default="sandbox", server_default="sandbox")
    scope: Mapped[str] = mapped_column(String(256))
    software_id: Mapped[str | None] = mapped_column(String(64))
    software_statement: Mapped[str | None] = mapped_column(Text)
    # Client metadata registered dynamically (RFC 7591 §2): grant_types, application_type,
    # signing algorithms. None for apps made in the portal (every grant type allowed).
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # SHA-256 of the RFC 7592 registration access token of a dynamically registered client.
    registration_token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
