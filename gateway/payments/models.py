"""The payment-order table: one row per payment resource a partner created (``DomesticPaymentId``
and its kin), beside the consent that authorised it and the bank's own payment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, Timestamp


class PaymentOrder(Base):
    """A payment order submitted under a single-use payment consent.

    ``consent_id`` is unique: a single-payment consent is consumed by exactly one order (OBIE
    Payment Initiation API profile: a consent in ``Consumed`` status allows no further order), and
    the unique index keeps it so when two submissions race.
    """

    __tablename__ = "gw_payment_order"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("gw_consent.id", ondelete="CASCADE"), unique=True
    )
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    # The resource family: domestic-payments (the scheduled, standing-order and file families
    # and the international ones add theirs).
    family: Mapped[str] = mapped_column(String(40))
    debtor_account_id: Mapped[str] = mapped_column(String(40))
    # The bank's payment (absent when the bank refused it outright, e.g. insufficient funds).
    bank_payment_id: Mapped[str | None] = mapped_column(String(40))
    # ExternalPaymentTransactionStatus1Code as recorded; ACSP becomes ACSC at ``settles_at`` on
    # the tenant's clock (read, not written: see gateway.payments.orders.status).
    status: Mapped[str] = mapped_column(String(4))
    status_reason: Mapped[str | None] = mapped_column(String(4))
    status_reason_description: Mapped[str | None] = mapped_column(String(500))
    initiation: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    status_updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    settles_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # A PDNG order's decision (its family's accepted status, or RJCT with ``status_reason``) and
    # the moment on the tenant's clock it takes effect (gateway.payments.scenarios).
    decision: Mapped[str | None] = mapped_column(String(4))
    decided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # The multiple-authorisation flow of a business's payment: how many authorisers it needs,
    # who approved, its status (AWAF, AUTH, RJCT) and when it changed or expires
    # (gateway.payments.multi_authorisation).
    multi_authorisation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
