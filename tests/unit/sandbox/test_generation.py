"""Generated tenants: reproducible from their seed, realistic, and consistent with the ledger."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from sandbox import tenants
from sandbox.identifiers import iban_is_valid, luhn_check_digit
from sandbox.models import Account, Customer, Posting, Statement
from sandbox.synth.population import populate

ANCHOR = dt.datetime(2025, 3, 14, 10, 30, tzinfo=dt.UTC)


def snapshot(session: Session, tenant_id: str) -> dict[str, list[tuple[object, ...]]]:
    """Everything a tenant holds, without surrogate keys and ids derived from the tenant id."""
    customers = session.execute(
        select(Customer.username, Customer.password, Customer.name, Customer.kind)
        .where(Customer.tenant_id == tenant_id)
        .order_by(Customer.pk)
    ).all()
    accounts = session.execute(
        select(
            Account.account_subtype, Account.currency, Account.sort_code, Account.account_number,
            Account.iban, Account.pan, Account.credit_limit, Account.booked_balance,
            Account.held_amount, Account.opening_date,
        )
        .where(Account.tenant_id == tenant_id, Account.customer_pk.is_not(None))
        .order_by(Account.pk)
    ).all()  # fmt: skip
    postings = session.execute(
        select(
            Posting.amount, Posting.currency, Posting.booking_datetime, Posting.balance_after,
            Posting.information, Posting.reference, Posting.merchant_name,
            Posting.counterparty_id,
        )
        .join(Account, Account.pk == Posting.account_pk)
        .where(Account.tenant_id == tenant_id)
        .order_by(Posting.pk)
    ).all()  # fmt: skip
    return {"customers": customers, "accounts": accounts, "postings": postings}  # type: ignore[dict-item]


def test_same_seed_and_day_give_the_same_data(session: Session, tenant: str) -> None:
    tenants.ensure(session, f"{tenant}-a", 42, dataset=populate, anchor=ANCHOR)
    tenants.ensure(session, f"{tenant}-b", 42, dataset=populate, anchor=ANCHOR)
    tenants.ensure(session, f"{tenant}-c", 43, dataset=populate, anchor=ANCHOR)
    a, b, c = (snapshot(session, f"{tenant}-{x}") for x in "abc")
    assert len(a["postings"]) > 3000
    assert a == b
    assert a["customers"] != c["customers"]
    assert a["postings"] != c["postings"]


def test_history_balances_per_currency_and_per_journal(session: Session, tenant: str) -> None:
    tenants.ensure(session, tenant, 7, dataset=populate, anchor=ANCHOR)
    by_currency = session.execute(
        text(
            "SELECT p.currency, SUM(p.amount) FROM sbx_posting p "
            "JOIN sbx_account a ON a.pk = p.account_pk WHERE a.tenant_id = :t GROUP BY p.currency"
        ),
        {"t": tenant},
    ).all()
    assert {ccy for ccy, _ in by_currency} >= {"GBP", "EUR", "USD", "CNY"}
    assert all(total == 0 for _, total in by_currency)
    unbalanced = session.scalar(
        text(
            "SELECT COUNT(*) FROM (SELECT p.journal_pk, p.currency FROM sbx_posting p "
            "JOIN sbx_journal j ON j.pk = p.journal_pk WHERE j.tenant_id = :t "
            "GROUP BY p.journal_pk, p.currency HAVING SUM(p.amount) <> 0) x"
        ),
        {"t": tenant},
    )
    assert unbalanced == 0


def test_balances_match_postings_and_limits_hold(session: Session, tenant: str) -> None:
    tenants.ensure(session, tenant, 8, dataset=populate, anchor=ANCHOR)
    accounts = session.scalars(
        select(Account).where(Account.tenant_id == tenant, Account.customer_pk.is_not(None))
    ).all()
    assert len(accounts) >= 12
    for account in accounts:
        total = session.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0)).where(
                Posting.account_pk == account.pk
            )
        )
        assert account.booked_balance == total, account.nickname
        assert account.booked_balance - account.held_amount + account.credit_limit >= 0
        lowest = session.scalar(
            select(func.min(Posting.balance_after)).where(Posting.account_pk == account.pk)
        )
        assert lowest is None or lowest >= -account.credit_limit, account.nickname
        latest = session.scalar(
            select(Posting.balance_after)
            .where(Posting.account_pk == account.pk)
            .order_by(Posting.booking_datetime.desc(), Posting.pk.desc())
            .limit(1)
        )
        assert latest is None or latest == account.booked_balance


def test_accounts_carry_valid_identifiers_in_several_currencies(
    session: Session, tenant: str
) -> None:
    tenants.ensure(session, tenant, 9, dataset=populate, anchor=ANCHOR)
    accounts = session.scalars(
        select(Account).where(Account.tenant_id == tenant, Account.customer_pk.is_not(None))
    ).all()
    assert {a.currency for a in accounts} >= {"GBP", "EUR", "USD", "CNY"}
    assert {a.account_subtype for a in accounts} == {
        "CurrentAccount",
        "Savings",
        "CreditCard",
        "Loan",
    }
    assert {a.account_type for a in accounts} == {"Personal", "Business"}
    for a in accounts:
        assert a.sort_code and len(a.sort_code) == 6 and a.sort_code.isdigit()
        assert a.account_number and len(a.account_number) == 8
        assert a.iban and iban_is_valid(a.iban)
        if a.account_subtype == "CreditCard":
            assert a.pan and luhn_check_digit(a.pan[:-1]) == a.pan[-1]


def test_history_has_realistic_patterns(session: Session, tenant: str) -> None:
    tenants.ensure(session, tenant, 10, dataset=populate, anchor=ANCHOR)
    rows = session.execute(
        select(Posting.information, Posting.proprietary_code, Posting.merchant_mcc, Posting.amount)
        .join(Account, Account.pk == Posting.account_pk)
        .where(Account.tenant_id == tenant, Account.customer_pk.is_not(None))
    ).all()
    info = Counter(r.information.split()[0] for r in rows)
    codes = Counter(r.proprietary_code for r in rows)
    # Salaries monthly for three people over about 13 months; rent by standing order.
    assert sum(1 for r in rows if r.information.startswith("Salary")) >= 30
    assert codes["StandingOrder"] >= 30 and codes["DirectDebit"] >= 50
    assert codes["CardTakings"] >= 300  # the café's daily takings
    assert codes["ForeignExchange"] >= 20
    assert {"5411", "5814", "4111", "4899"} <= {r.merchant_mcc for r in rows}
    assert info["Conversion"] > 0 and info["Loan"] > 0
    # Everything stays within plausible single-transaction sizes for these customers.
    assert max(abs(r.amount) for r in rows) < 100_000_000


def test_history_ends_before_the_anchor_day_and_statements_chain(
    session: Session, tenant: str
) -> None:
    tenants.ensure(session, tenant, 11, dataset=populate, anchor=ANCHOR)
    account_pks = select(Account.pk).where(Account.tenant_id == tenant)
    last = session.scalar(
        select(func.max(Posting.booking_datetime)).where(Posting.account_pk.in_(account_pks))
    )
    assert last is not None and last.replace(tzinfo=dt.UTC) < ANCHOR.replace(hour=0, minute=0)
    for account_pk in session.scalars(account_pks.where(Account.customer_pk.is_not(None))):
        statements = session.scalars(
            select(Statement).where(Statement.account_pk == account_pk).order_by(Statement.start)
        ).all()
        assert statements, "every account has monthly statements"
        for earlier, later in itertools.pairwise(statements):
            assert later.opening_balance == earlier.closing_balance
        for s in statements:
            assert s.closing_balance == s.opening_balance + s.total_credits - s.total_debits


def test_large_profile_reaches_the_requested_size(session: Session, tenant: str) -> None:
    tenants.ensure(
        session, tenant, 12, profile="large", transactions=20_000, dataset=populate, anchor=ANCHOR
    )
    biggest = session.execute(
        select(Posting.account_pk, func.count())
        .join(Account, Account.pk == Posting.account_pk)
        .where(Account.tenant_id == tenant, Account.customer_pk.is_not(None))
        .group_by(Posting.account_pk)
        .order_by(func.count().desc())
        .limit(1)
    ).one()
    assert 18_000 <= biggest[1] <= 24_000


def test_two_customers_of_one_name_get_distinct_usernames(session: Session, tenant: str) -> None:
    """Faker repeats names: a tenant's second Barry Martin signs in as barry.martin2 (usernames
    are unique in a tenant), and the first keeps his."""
    from sandbox.models import Tenant
    from sandbox.synth.generator import Builder

    session.add(Tenant(id=tenant, seed=1, anchor=ANCHOR, due_checked_at=ANCHOR, created_at=ANCHOR))
    session.flush()
    builder = Builder(session, tenant, 1, ANCHOR)
    names = [builder.customer("Personal", "Barry Martin").username for _ in range(3)]
    assert names == ["barry.martin", "barry.martin2", "barry.martin3"]
