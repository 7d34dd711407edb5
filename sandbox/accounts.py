"""The sandbox's account contract (:class:`gateway.accounts.AccountsCore`): customers,
accounts, balances, history and the instructions and statements an account has."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar, cast

from sqlalchemy import bindparam, or_, select

from gateway.core.accounts import (
    Account,
    Balances,
    Beneficiary,
    Customer,
    DirectDebit,
    Party,
    Product,
    ScheduledPayment,
    StandingOrder,
    Statement,
    TransactionCursor,
    TransactionPage,
)
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.money import from_minor
from gateway.core.values import CreditDebit
from gateway.store.statements import Prepared
from sandbox import catalogue as cat
from sandbox import models as m
from sandbox import paging, records
from sandbox.binding import Binding

_Instruction = TypeVar(
    "_Instruction", m.Beneficiary, m.StandingOrder, m.DirectDebit, m.ScheduledPayment
)


# Listing accounts, the most common call, as one plain statement with the tenant's clock.
# What a business's second authoriser adds to the business's username to sign in (a payment of a
# business needs two authorisers: gateway.payments.multi_authorisation).
SECOND_AUTHORISER = ".second"
_CUSTOMER_ACCOUNTS = Prepared(
    select(
        *(m.Account.__table__.c[name] for name in records.ACCOUNT_COLUMNS),
        m.Tenant.clock_offset_seconds,
        m.Tenant.due_checked_at,
    )
    .join(m.Customer, m.Customer.pk == m.Account.customer_pk)
    .join(m.Tenant, m.Tenant.id == m.Customer.tenant_id)
    .where(
        m.Customer.tenant_id == bindparam("tenant_id"),
        m.Customer.public_id == bindparam("customer_id"),
    )
    .order_by(m.Account.pk)
)


class SandboxAccounts(Binding):
    """What account information and the consent page read of the sandbox bank."""

    def authenticate(self, tenant: str, username: str, password: str) -> Customer | None:
        """Return the customer whose sandbox credentials these are, or ``None``.

        A business has a second authoriser: its username followed by
        :data:`SECOND_AUTHORISER`, with the business's password. They act for the same customer
        (the same id), under their own username and name."""
        self._offset(tenant)
        base = username.removesuffix(SECOND_AUTHORISER)
        row = self.session.scalar(
            select(m.Customer).where(m.Customer.tenant_id == tenant, m.Customer.username == base)
        )
        if row is None or not hmac.compare_digest(row.password.encode(), password.encode()):
            return None
        customer = records.customer(row)
        if base == username:
            return customer
        if customer.kind != "Business":
            return None
        return replace(customer, username=username, name=f"{customer.name} (second authoriser)")

    def accounts(self, tenant: str, customer_id: str) -> Sequence[Account]:
        """Return a customer's accounts (unknown customer: :class:`UnknownResource`)."""
        params = {"tenant_id": tenant, "customer_id": customer_id}
        known = tenant in self._tenants or tenant in self._offsets
        rows = self.reads.rows(_CUSTOMER_ACCOUNTS, params)
        last = rows[-1] if rows else None
        if not known and not (
            last and self._settled(tenant, last.clock_offset_seconds, last.due_checked_at)
        ):
            # No accounts, or due work to run first: the full path, then read again.
            self._offset(tenant)
            rows = self.reads.rows(_CUSTOMER_ACCOUNTS, params)
        found = [records.account(cast(records.AccountColumns, a), customer_id) for a in rows]
        if not found:
            self._customer_row(tenant, customer_id)  # raises for an unknown customer
        return found

    def account(self, tenant: str, account_id: str) -> Account:
        """Return one account."""
        row, owner = self._account_row(tenant, account_id)
        return records.account(row, owner.public_id)

    def balances(self, tenant: str, account_id: str) -> Balances:
        """Return an account's balances now."""
        a, _owner = self._account_row(tenant, account_id)
        ccy = a.currency
        return Balances(
            account_id=a.public_id,
            as_of=self.now(tenant),
            booked=from_minor(a.booked_balance, ccy),
            held=from_minor(a.held_amount, ccy),
            available=from_minor(a.booked_balance - a.held_amount, ccy),
            credit_line=from_minor(a.credit_limit, ccy),
        )

    # Transactions -----------------------------------------------------------------------------

    def transactions(
        self,
        tenant: str,
        account_id: str,
        *,
        booked_from: dt.datetime | None = None,
        booked_to: dt.datetime | None = None,
        after: TransactionCursor | None = None,
        limit: int = 100,
        direction: CreditDebit | None = None,
    ) -> TransactionPage:
        """Return a page of history, newest first; pending holds (debits) lead the first page."""
        if limit < 1:
            raise InvalidInstruction("page size must be at least 1")
        self._offset(tenant)
        found = self.reads.execute(
            paging.ACCOUNT_KEY, {"tenant_id": tenant, "account_id": account_id}
        ).first()
        if found is None:
            raise UnknownResource(f"no account {account_id}")
        return paging.page(
            self.reads, found.pk, account_id, booked_from=booked_from, booked_to=booked_to,
            after=after, limit=limit, direction=direction,
        )  # fmt: skip

    # Parties, product, instructions, statements -------------------------------------------

    def parties(self, tenant: str, account_id: str) -> Sequence[Party]:
        """Return the owner's party and the account's other parties (joint, delegates)."""
        a, owner = self._account_row(tenant, account_id)
        extra = select(m.AccountParty.party_pk).where(m.AccountParty.account_pk == a.pk)
        query = (
            select(m.Party)
            .where(or_(m.Party.pk == owner.party_pk, m.Party.pk.in_(extra)))
            .order_by(m.Party.pk)
        )
        return [records.party(p) for p in self.session.scalars(query)]

    def customer_party(self, tenant: str, customer_id: str) -> Party:
        """Return the party of a customer."""
        owner = self._customer_row(tenant, customer_id)
        return records.party(self.session.get_one(m.Party, owner.party_pk))

    def product(self, tenant: str, account_id: str) -> Product:
        """Return the product of an account."""
        spec = cat.PRODUCTS[self._account_row(tenant, account_id)[0].product_code]
        return Product(spec.code, spec.name, spec.product_type)

    def beneficiaries(self, tenant: str, account_id: str) -> Sequence[Beneficiary]:
        """Return an account's saved payees."""
        a, _ = self._account_row(tenant, account_id)
        rows = self._of(m.Beneficiary, a)
        return [records.beneficiary(b, a.public_id) for b in rows]

    def standing_orders(self, tenant: str, account_id: str) -> Sequence[StandingOrder]:
        """Return an account's standing orders."""
        a, _ = self._account_row(tenant, account_id)
        return [records.standing_order(s, a.public_id) for s in self._of(m.StandingOrder, a)]

    def direct_debits(self, tenant: str, account_id: str) -> Sequence[DirectDebit]:
        """Return an account's direct debit mandates."""
        a, _ = self._account_row(tenant, account_id)
        return [records.direct_debit(d, a) for d in self._of(m.DirectDebit, a)]

    def scheduled_payments(self, tenant: str, account_id: str) -> Sequence[ScheduledPayment]:
        """Return an account's scheduled payments."""
        a, _ = self._account_row(tenant, account_id)
        rows = self._of(m.ScheduledPayment, a)
        return [records.scheduled_payment(s, a.public_id) for s in rows]

    def statements(self, tenant: str, account_id: str) -> Sequence[Statement]:
        """Return an account's statements, newest first."""
        a, _ = self._account_row(tenant, account_id)
        query = (
            select(m.Statement)
            .where(m.Statement.account_pk == a.pk)
            .order_by(m.Statement.start.desc())
        )
        return [records.statement(s, a) for s in self.session.scalars(query)]

    def _of(self, model: type[_Instruction], a: m.Account) -> Sequence[_Instruction]:
        """Rows of ``model`` that belong to account ``a``, oldest first."""
        query = select(model).where(model.account_pk == a.pk).order_by(model.pk)
        return self.session.scalars(query).all()
