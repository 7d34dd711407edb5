"""The table of idempotency keys: one row per (client, operation, key), with the response that
the first request with that key was answered (``gw_idempotency_key``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, Timestamp


class IdempotencyKey(Base):
    """A key a partner sent with a POST, and what that POST was answered.

    The primary key is the key's scope: the client that sent it, the operation it was sent to
    and the key itself. Inserting it is how a request claims the key: a second insert of the same
    scope waits for the first request's transaction on PostgreSQL (its unique index) and fails
    once that commits, or goes ahead if it rolled back. The response (``status``, ``headers``,
    ``body``) is written in the same transaction as the resource the request created, so a
    committed row always holds one. No foreign key to the app: a key lives 24 hours, and a POST
    then locks no app row.
    """

    __tablename__ = "gw_idempotency_key"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operation: Mapped[str] = mapped_column(String(64), primary_key=True)
    # OBIE v4.0: maxLength 40 (components.parameters.x-idempotency-key of each family's file).
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    # SHA-256 (hex) of the request: its method, path and body as a JSON value (keys.fingerprint).
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    # Past this instant the key is a new one (it lives 24 hours), and the row may be purged.
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    # The response, replayed as it was: status, the headers kept (keys.REPLAYED_HEADERS), body.
    status: Mapped[int | None] = mapped_column(SmallInteger)
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
