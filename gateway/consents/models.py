"""The consent table shared by every API family.

A consent is created by a partner with a client-credentials token, authorised (or rejected) by
the customer on the consent page, and bound to every token issued for it. Its status follows the
ISO 20022 / OBIE v4.0 codes of its family (for account access: AWAU, AUTH, RJCT, CANC, EXPD).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, UniqueConstraint
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


class FundsConfirmation(Base):
    """One answer to a funds-confirmation request of a CBPII (OBIE Confirmation of Funds v4.0).

    The bank is asked, never changed; this row keeps what the payer may ask the bank for (PSD2
    Art. 65(4): which CBPII asked, and the answer given). A ``Reference`` is used once per consent
    (the CBPII's "unique reference ... to unambiguously refer to the request").
    """

    __tablename__ = "gw_funds_confirmation"
    __table_args__ = (UniqueConstraint("consent_id", "reference"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("gw_consent.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(35))
    # The amount asked about, in minor units of its currency (ISO 4217 exponent).
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    funds_available: Mapped[bool] = mapped_column(Boolean)
    # On the bank's clock, as the consent's times are.
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class FinancedLoan(Base):
    """A loan drawn down when a partner's customer accepted an offer of a ``financing`` consent:
    which partner it belongs to (the loan itself is the bank's)."""

    __tablename__ = "gw_financed_loan"

    loan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("gw_consent.id", ondelete="CASCADE"), unique=True
    )
    client_id: Mapped[str] = mapped_column(
        ForeignKey("ptn_app.client_id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64))
    offer_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
