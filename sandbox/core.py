"""The sandbox bank behind the gateway's :class:`gateway.core.BankCore` interface."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from typing import TypeVar, cast

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from gateway import core
from gateway.core import InvalidInstruction, UnknownResource
from gateway.reads import Reads, SessionReads
from sandbox import catalogue as cat
from sandbox import clock, ledger, paging, records, tenants
from sandbox import models as m
from sandbox.money import from_minor, to_minor
from sandbox.records import SCAN

_Instruction = TypeVar(
    "_Instruction", m.Beneficiary, m.StandingOrder, m.DirectDebit, m.ScheduledPayment
)


# Listing accounts, the most common call, as one plain statement with the tenant's clock.
_CUSTOMER_ACCOUNTS = (
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

# The tables and columns that accounts() and now() read: a cache of their answers must be
# dropped when a commit changes one of them (the gateway's authorisation epoch,
# gateway.oauth.token_cache). Balances and the due-work bookmark are not among them, so payments
# and the clock's catch-up leave such caches alone.
LISTING_TABLES: dict[str, tuple[str, ...] | None] = {
    m.Tenant.__tablename__: ("id", "clock_offset_seconds"),
    m.Customer.__tablename__: ("pk", "tenant_id", "public_id"),
    m.Account.__tablename__: ("pk", "customer_pk", *records.ACCOUNT_COLUMNS),
    # Deleting a party deletes its customer records by ON DELETE CASCADE.
    m.Party.__tablename__: (),
}
# A new account changes its customer's listing.
LISTING_INSERTS = (m.Account.__tablename__,)


class SandboxCore(tenants.Directory):
    """The sandbox bank, bound to one unit of work: it flushes, the caller commits.

    The first call for a tenant creates its data set if needed and runs whatever fell due since
    the last look (standing orders, scheduled payments, card holds); only the lookups of
    :class:`sandbox.tenants.Directory` create nothing.
    """

    def __init__(
        self,
        session: Session,
        *,
        default_seed: int,
        reads: Reads | None = None,
        real_time: clock.RealTime = clock.system_time,
    ) -> None:
        self.session = session
        self.default_seed = default_seed
        # Real time, which each tenant's clock offsets: the system's, or one a test pins.
        self.real_time = real_time
        # The lone reads of the busiest calls; by default in the unit of work.
        self.reads: Reads = reads or SessionReads(session)
        self._tenants: dict[str, m.Tenant] = {}
        # Clock offsets of tenants found ready (existing, nothing due) without loading them.
        self._offsets: dict[str, int] = {}

    # Tenants and clock ----------------------------------------------------------------------

    def _tenant(self, tenant_id: str) -> m.Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            seed = tenants.tenant_seed(self.default_seed, tenant_id)
            tenant = tenants.ensure(self.session, tenant_id, seed, anchor=self._anchor())
            clock.catch_up(self.session, tenant, self.real_time())
            self._tenants[tenant_id] = tenant
        return tenant

    def _offset(self, tenant_id: str) -> int:
        """The tenant's clock offset, once the tenant exists and its due work has run.

        Most calls find the tenant there and nothing due: one light read, no ORM object. Any
        other case takes the full path of :meth:`_tenant`.
        """
        tenant = self._tenants.get(tenant_id)
        if tenant is not None:
            return tenant.clock_offset_seconds
        offset = self._offsets.get(tenant_id)
        if offset is not None:
            return offset
        found = self.reads.execute(clock.CLOCK, {"tenant_id": tenant_id}).first()
        if found is not None and self._settled(
            tenant_id, found.clock_offset_seconds, found.due_checked_at
        ):
            return self._offsets[tenant_id]
        return self._tenant(tenant_id).clock_offset_seconds

    def _settled(self, tenant_id: str, offset: int, due_checked_at: dt.datetime) -> bool:
        """Remember a clock read with nothing due (``False``: due work has to run first)."""
        settled = clock.settled_offset(int(offset), due_checked_at, self.real_time())
        if settled is not None:
            self._offsets[tenant_id] = settled
        return settled is not None

    def ensure_tenant(
        self,
        tenant: str,
        seed: int | None = None,
        *,
        profile: str = "standard",
        transactions: int | None = None,
    ) -> core.TenantInfo:
        """Return the tenant, generating its data set from ``seed`` on first use."""
        if self.session.get(m.Tenant, tenant) is None:
            if seed is None:
                seed = tenants.tenant_seed(self.default_seed, tenant)
            tenants.ensure(
                self.session, tenant, seed, profile=profile, transactions=transactions,
                anchor=self._anchor(),
            )  # fmt: skip
        return self._info(self._tenant(tenant))

    def reset_tenant(self, tenant: str, seed: int | None = None) -> core.TenantInfo:
        """Throw away the tenant's data and regenerate it from its seed (or a new one)."""
        self._tenant(tenant)
        self._tenants.pop(tenant, None)
        self._offsets.pop(tenant, None)
        tenants.reset(self.session, tenant, seed, anchor=self._anchor())
        # A new data set leaves the rest of its anchor day to the clock: run it now, as the first
        # use of a new tenant does (what fell due earlier today would be lost otherwise).
        return self._info(self._tenant(tenant))

    def _anchor(self) -> dt.datetime:
        """The anchor of a data set made now: real time, to the second."""
        return self.real_time().replace(microsecond=0)

    def _info(self, tenant: m.Tenant) -> core.TenantInfo:
        return self.tenant_info(tenant.id)

    def now(self, tenant: str) -> dt.datetime:
        """Return the tenant's current time."""
        return self.real_time() + dt.timedelta(seconds=self._offset(tenant))

    def advance_clock(self, tenant: str, delta: dt.timedelta) -> core.DueRun:
        """Move the tenant's clock forward and execute whatever falls due on the way."""
        if delta <= dt.timedelta(0):
            raise InvalidInstruction("the sandbox clock only moves forward")
        run = clock.advance(self.session, self._tenant(tenant), delta, self.real_time())
        return core.DueRun(
            now=run.now,
            executed={k: o.executed for k, o in run.outcomes.items() if o.executed},
            rejected={k: o.rejected for k, o in run.outcomes.items() if o.rejected},
        )

    # Customers and accounts -----------------------------------------------------------------

    def customers(self, tenant: str) -> Sequence[core.Customer]:
        """Return the tenant's customers."""
        self._offset(tenant)
        query = select(m.Customer).where(m.Customer.tenant_id == tenant).order_by(m.Customer.pk)
        return [records.customer(c) for c in self.session.scalars(query)]

    def authenticate(self, tenant: str, username: str, password: str) -> core.Customer | None:
        """Return the customer whose sandbox credentials these are, or ``None``."""
        self._offset(tenant)
        row = self.session.scalar(
            select(m.Customer).where(
                m.Customer.tenant_id == tenant, m.Customer.username == username
            )
        )
        if row is None or not hmac.compare_digest(row.password.encode(), password.encode()):
            return None
        return records.customer(row)

    def sandbox_logins(self, tenant: str) -> Sequence[core.SandboxLogin]:
        """Return every test customer's username and password, for the developer portal."""
        self._offset(tenant)
        query = select(m.Customer).where(m.Customer.tenant_id == tenant).order_by(m.Customer.pk)
        return [
            core.SandboxLogin(records.customer(c), c.username, c.password)
            for c in self.session.scalars(query)
        ]

    def _customer_row(self, tenant: str, customer_id: str) -> m.Customer:
        self._offset(tenant)
        row = self.session.scalar(
            select(m.Customer).where(
                m.Customer.tenant_id == tenant, m.Customer.public_id == customer_id
            )
        )
        if row is None:
            raise UnknownResource(f"no customer {customer_id}")
        return row

    def _account_row(self, tenant: str, account_id: str) -> tuple[m.Account, m.Customer]:
        self._offset(tenant)
        found = self.session.execute(
            select(m.Account, m.Customer)
            .join(m.Customer, m.Customer.pk == m.Account.customer_pk)
            .where(m.Account.tenant_id == tenant, m.Account.public_id == account_id)
        ).one_or_none()
        if found is None:
            raise UnknownResource(f"no account {account_id}")
        account, owner = found
        return account, owner

    def accounts(self, tenant: str, customer_id: str) -> Sequence[core.Account]:
        """Return a customer's accounts (unknown customer: :class:`UnknownResource`)."""
        params = {"tenant_id": tenant, "customer_id": customer_id}
        known = tenant in self._tenants or tenant in self._offsets
        rows = self.reads.execute(_CUSTOMER_ACCOUNTS, params).all()
        last = rows[-1] if rows else None
        if not known and not (
            last and self._settled(tenant, last.clock_offset_seconds, last.due_checked_at)
        ):
            # No accounts, or due work to run first: the full path, then read again.
            self._offset(tenant)
            rows = self.reads.execute(_CUSTOMER_ACCOUNTS, params).all()
        found = [records.account(cast(records.AccountColumns, a), customer_id) for a in rows]
        if not found:
            self._customer_row(tenant, customer_id)  # raises for an unknown customer
        return found

    def account(self, tenant: str, account_id: str) -> core.Account:
        """Return one account."""
        row, owner = self._account_row(tenant, account_id)
        return records.account(row, owner.public_id)

    def balances(self, tenant: str, account_id: str) -> core.Balances:
        """Return an account's balances now."""
        a, _owner = self._account_row(tenant, account_id)
        ccy = a.currency
        return core.Balances(
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
        after: core.TransactionCursor | None = None,
        limit: int = 100,
        direction: core.CreditDebit | None = None,
    ) -> core.TransactionPage:
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

    def parties(self, tenant: str, account_id: str) -> Sequence[core.Party]:
        """Return the owner's party and the account's other parties (joint, delegates)."""
        a, owner = self._account_row(tenant, account_id)
        extra = select(m.AccountParty.party_pk).where(m.AccountParty.account_pk == a.pk)
        query = (
            select(m.Party)
            .where(or_(m.Party.pk == owner.party_pk, m.Party.pk.in_(extra)))
            .order_by(m.Party.pk)
        )
        return [records.party(p) for p in self.session.scalars(query)]

    def customer_party(self, tenant: str, customer_id: str) -> core.Party:
        """Return the party of a customer."""
        owner = self._customer_row(tenant, customer_id)
        return records.party(self.session.get_one(m.Party, owner.party_pk))

    def product(self, tenant: str, account_id: str) -> core.Product:
        """Return the product of an account."""
        spec = cat.PRODUCTS[self._account_row(tenant, account_id)[0].product_code]
        return core.Product(spec.code, spec.name, spec.product_type)

    def beneficiaries(self, tenant: str, account_id: str) -> Sequence[core.Beneficiary]:
        """Return an account's saved payees."""
        a, _ = self._account_row(tenant, account_id)
        rows = self._of(m.Beneficiary, a)
        return [records.beneficiary(b, a.public_id) for b in rows]

    def standing_orders(self, tenant: str, account_id: str) -> Sequence[core.StandingOrder]:
        """Return an account's standing orders."""
        a, _ = self._account_row(tenant, account_id)
        return [records.standing_order(s, a.public_id) for s in self._of(m.StandingOrder, a)]

    def direct_debits(self, tenant: str, account_id: str) -> Sequence[core.DirectDebit]:
        """Return an account's direct debit mandates."""
        a, _ = self._account_row(tenant, account_id)
        return [records.direct_debit(d, a) for d in self._of(m.DirectDebit, a)]

    def scheduled_payments(self, tenant: str, account_id: str) -> Sequence[core.ScheduledPayment]:
        """Return an account's scheduled payments."""
        a, _ = self._account_row(tenant, account_id)
        rows = self._of(m.ScheduledPayment, a)
        return [records.scheduled_payment(s, a.public_id) for s in rows]

    def statements(self, tenant: str, account_id: str) -> Sequence[core.Statement]:
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

    # Payments ---------------------------------------------------------------------------------

    def transfer(self, tenant: str, instruction: core.TransferInstruction) -> core.PostedTransfer:
        """Book a transfer atomically to an account of the tenant or out through clearing."""
        debtor, _owner = self._account_row(tenant, instruction.debtor_account_id)
        money = instruction.amount
        if money.currency != debtor.currency:
            raise InvalidInstruction(
                f"account {debtor.public_id} is in {debtor.currency}, not {money.currency}"
            )
        amount = to_minor(money.amount, money.currency)
        if amount <= 0:
            raise InvalidInstruction("the amount must be positive")
        if instruction.creditor_account_id:
            target, _ = self._account_row(tenant, instruction.creditor_account_id)
            creditor = core.Counterparty(
                target.nickname, SCAN, f"{target.sort_code}{target.account_number}"
            )
        elif instruction.creditor is not None:
            creditor = instruction.creditor
            target = ledger.internal_account(self.session, tenant, "clearing", debtor.currency)
        else:
            raise InvalidInstruction("a transfer needs a creditor account")
        booked_at = self.now(tenant)
        out = ledger.Detail(
            information=(instruction.information or f"Payment to {creditor.name}")[:140],
            reference=instruction.reference,
            btc=cat.CREDIT_OUT,
            proprietary_code="Transfer",
            counterparty_name=creditor.name,
            counterparty_scheme=creditor.scheme,
            counterparty_id=creditor.identification,
        )
        incoming = ledger.Detail(
            information=f"Payment from {debtor.nickname}"[:140],
            reference=instruction.reference,
            btc=cat.CREDIT_IN,
            proprietary_code="Transfer",
            counterparty_name=debtor.nickname,
            counterparty_scheme=SCAN,
            counterparty_id=f"{debtor.sort_code}{debtor.account_number}",
        )
        legs = [
            ledger.Leg(debtor.pk, -amount, debtor.currency, out),
            ledger.Leg(target.pk, amount, debtor.currency, incoming),
        ]
        journal = ledger.post(
            self.session, tenant_id=tenant, kind="transfer", legs=legs, booked_at=booked_at
        )
        self.session.refresh(debtor)
        return core.PostedTransfer(
            str(journal.pk), booked_at, from_minor(debtor.booked_balance, debtor.currency)
        )
