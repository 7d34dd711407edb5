"""Small builders of sandbox rows for tests that exercise the ledger directly.

They write through the ORM and only ``flush()``: the caller decides whether to commit. Amounts are
integers in minor units, as in :mod:`sandbox.models`.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from sandbox import ledger
from sandbox.models import Account, Journal, Tenant

#: A fixed, timezone-aware instant for journals booked by tests.
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


def make_tenant(session: Session, tenant_id: str, *, seed: int = 1) -> Tenant:
    """Insert the tenant row ``tenant_id`` (anchored at :data:`NOW`) and return it."""
    tenant = Tenant(
        id=tenant_id,
        seed=seed,
        profile="standard",
        anchor=NOW,
        clock_offset_seconds=0,
        created_at=NOW,
    )
    session.add(tenant)
    session.flush()
    return tenant


def make_account(
    session: Session,
    tenant_id: str,
    *,
    currency: str = "GBP",
    credit_limit: int = 0,
    status: str = "Enabled",
    nickname: str = "Test account",
) -> Account:
    """Insert an empty customer account (no customer row, no internal code) and return it."""
    account = Account(
        tenant_id=tenant_id,
        public_id=f"acc-{uuid.uuid4().hex}",
        customer_pk=None,
        internal_code=None,
        currency=currency,
        account_type="Personal",
        account_subtype="CurrentAccount",
        product_code="TEST",
        nickname=nickname,
        opening_date=NOW.date(),
        status=status,
        sort_code="040004",
        account_number=f"{uuid.uuid4().int % 10**8:08d}",
        credit_limit=credit_limit,
        booked_balance=0,
        held_amount=0,
    )
    session.add(account)
    session.flush()
    return account


def detail(information: str = "Test") -> ledger.Detail:
    """Return the transaction detail used on test postings."""
    return ledger.Detail(information=information)


def clearing(session: Session, tenant_id: str, currency: str) -> Account:
    """Return (creating it if needed) the tenant's internal clearing account in ``currency``."""
    return ledger.internal_account(session, tenant_id, "clearing", currency)


def fund(
    session: Session, account: Account, amount: int, *, booked_at: dt.datetime = NOW
) -> Journal:
    """Credit ``amount`` minor units to ``account`` from its tenant's clearing account."""
    source = clearing(session, account.tenant_id, account.currency)
    return ledger.post(
        session,
        tenant_id=account.tenant_id,
        kind="funding",
        legs=[
            ledger.Leg(source.pk, -amount, account.currency, detail("Funding")),
            ledger.Leg(account.pk, amount, account.currency, detail("Funding")),
        ],
        booked_at=booked_at,
    )


def transfer(
    session: Session,
    source: Account,
    target: Account,
    amount: int,
    *,
    booked_at: dt.datetime = NOW,
) -> Journal:
    """Move ``amount`` minor units from ``source`` to ``target`` (same tenant and currency)."""
    return ledger.post(
        session,
        tenant_id=source.tenant_id,
        kind="transfer",
        legs=[
            ledger.Leg(source.pk, -amount, source.currency, detail("Transfer out")),
            ledger.Leg(target.pk, amount, target.currency, detail("Transfer in")),
        ],
        booked_at=booked_at,
    )
