"""The payment-order table: one row per payment resource a partner created (``DomesticPaymentId``
and its kin), beside the consent that authorised it and the bank's own payment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
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


class VrpPayment(Base):
    """A variable recurring payment made under a domestic VRP consent (OBIE VRP v4.0,
    ``/domestic-vrps``).

    A VRP consent is not consumed by its payments: it holds many, each with its own
    ``Instruction`` (the amount varies within the consent's control parameters), so they have a
    table of their own rather than :class:`PaymentOrder`'s one row per consent. The amount is
    kept in minor units of its currency (ISO 4217 exponent): the periodic limits are summed over
    the payments the bank accepted under the consent.
    """

    __tablename__ = "gw_vrp_payment"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("gw_consent.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    debtor_account_id: Mapped[str] = mapped_column(String(40))
    bank_payment_id: Mapped[str | None] = mapped_column(String(40))
    # ACSP (ACSC from ``settles_at`` on the tenant's clock) or RJCT with its reason.
    status: Mapped[str] = mapped_column(String(4))
    status_reason: Mapped[str | None] = mapped_column(String(4))
    status_reason_description: Mapped[str | None] = mapped_column(String(500))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The request's Data (PSUAuthenticationMethod, VRPType, Initiation, Instruction) and Risk.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    status_updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    settles_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class PaymentFile(Base):
    """The file uploaded for a file payment consent (``POST .../file``), as it arrived, and
    the transactions read from it.

    One per consent (the primary key): a file is uploaded once, while the consent awaits it
    (``AWUP``).
    """

    __tablename__ = "gw_payment_file"

    consent_id: Mapped[str] = mapped_column(
        ForeignKey("gw_consent.id", ondelete="CASCADE"), primary_key=True
    )
    media_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # The transactions of gateway.payments.file_formats.Transaction, in file order.
    transactions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    uploaded_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class FileTransaction(Base):
    """What became of one transaction of a file payment: the bank's payment, or its refusal."""

    __tablename__ = "gw_file_transaction"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("gw_payment_order.id", ondelete="CASCADE"))
    # The place of the transaction in the file, from 0.
    position: Mapped[int] = mapped_column(Integer)
    instruction_id: Mapped[str] = mapped_column(String(35))
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    # The decimal amount as the file wrote it, in ``currency`` (ISO 4217).
    amount: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    creditor_name: Mapped[str] = mapped_column(String(350))
    creditor_scheme: Mapped[str] = mapped_column(String(40))
    creditor_identification: Mapped[str] = mapped_column(String(256))
    bank_payment_id: Mapped[str | None] = mapped_column(String(40))
    # ACSP (booked; ACSC from ``settles_at``, read not written) or RJCT with its reason.
    status: Mapped[str] = mapped_column(String(4))
    status_reason: Mapped[str | None] = mapped_column(String(4))
    settles_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
