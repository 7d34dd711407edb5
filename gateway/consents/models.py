"""The consent table shared by every API family.

A consent is created by a partner with a client-credentials token, authorised (or rejected) by
the customer on the consent page, and bound to every token issued for it. Its status follows the
ISO 20022 / OBIE v4.0 codes of its family (for account access: AWAU, AUTH, RJCT, CANC, EXPD).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, Timestamp


class Consent(Base):
    """One consent resource of one partner app, in one sandbox tenant."""

    __tablename__ = "gw_consent"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("ptn_app.client_id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64))
    # accounts | payments | fundsconfirmations | financing: the scope that authorises it
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Family-specific request data (date windows, amounts, creditor, ...), as received.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    customer_id: Mapped[str | None] = mapped_column(String(40))
    account_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    status_updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
