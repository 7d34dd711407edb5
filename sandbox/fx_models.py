"""Tables of the sandbox's foreign-exchange desk beyond its quotes: the conversion terms of
instructions executed later, and every conversion the bank made (see
:mod:`gateway.core.fx_orders`). Amounts in minor units of their currencies, rates as exact
decimal strings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.models import Base, BigId, Timestamp


class FxInstruction(Base):
    """How an international scheduled payment or standing order converts on each execution."""

    __tablename__ = "sbx_fx_instruction"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    # The public id of the sbx_scheduled_payment or sbx_standing_order.
    instruction_id: Mapped[str] = mapped_column(String(40), unique=True)
    buy_currency: Mapped[str] = mapped_column(String(3))
    fixed_side: Mapped[str] = mapped_column(String(4))
    # Minor units of the sell currency (fixed side Sell) or of the buy currency (Buy).
    fixed_amount: Mapped[int] = mapped_column(BigInteger)
    rate_type: Mapped[str] = mapped_column(String(10))
    contract_id: Mapped[str | None] = mapped_column(String(40))
    destination_country: Mapped[str | None] = mapped_column(String(2))


class FxExecution(Base):
    """One conversion the bank made, beside its journal: outgoing (a payment abroad) or incoming
    (money arriving from abroad)."""

    __tablename__ = "sbx_fx_execution"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    journal_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_journal.pk", ondelete="CASCADE"), unique=True
    )
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    # The bank's payment (outgoing) and the instruction it executed, if any.
    payment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    instruction_id: Mapped[str | None] = mapped_column(String(40), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    contract_id: Mapped[str] = mapped_column(String(40), index=True)
    rate_type: Mapped[str] = mapped_column(String(10))
    rate: Mapped[str] = mapped_column(String(40))
    sell_currency: Mapped[str] = mapped_column(String(3))
    sell_amount: Mapped[int] = mapped_column(BigInteger)
    buy_currency: Mapped[str] = mapped_column(String(3))
    buy_amount: Mapped[int] = mapped_column(BigInteger)
    # In the sell currency.
    fee: Mapped[int] = mapped_column(BigInteger)
    quoted_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    executed_at: Mapped[dt.datetime] = mapped_column(Timestamp)
