"""An FX payment settles as one journal balanced per currency (customer, FX positions, fee
income, nostro), the quote and rate named on it; the reconciliation finds no break in good books
and reports a nostro whose balance drifted from its postings."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.core import fx
from gateway.core.administration import SandboxBank
from gateway.core.errors import InsufficientFunds, InvalidInstruction
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder
from gateway.core.values import Counterparty
from sandbox import models as m
from sandbox.fx_settlement import KIND

CREDITOR = Counterparty("Muster GmbH", "UK.OBIE.IBAN", "DE89370400440532013000")


def gbp_account(core: SandboxBank, tenant: str) -> str:
    return next(
        a.id for c in core.customers(tenant) for a in core.accounts(tenant, c.id)
        if a.account_subtype == "CurrentAccount" and a.currency == "GBP"
    )  # fmt: skip


def paid(core: SandboxBank, tenant: str, buy: str, sell: str) -> tuple[fx.Quote, str]:
    quote = core.create_fx_quote(tenant, fx.QuoteRequest("GBP", buy, Decimal(sell), None, "PT5M"))
    order = PaymentOrder(gbp_account(core, tenant), quote.total_debited, CREDITOR, "INV-1")
    return quote, core.pay_converted(tenant, order, quote.contract_id).id


def test_one_journal_balanced_per_currency(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    account = gbp_account(core, tenant)
    before = core.balances(tenant, account).booked.amount
    quote, payment_id = paid(core, tenant, "JPY", "100.00")
    assert core.balances(tenant, account).booked.amount == before - Decimal("102.50")
    payment = session.scalar(select(m.Payment).where(m.Payment.public_id == payment_id))
    assert payment is not None and payment.journal_pk is not None
    journal = session.get_one(m.Journal, payment.journal_pk)
    assert journal.kind == KIND and quote.contract_id in (journal.memo or "")
    assert str(quote.rate) in (journal.memo or "")
    totals: dict[str, int] = defaultdict(int)
    legs = session.scalars(select(m.Posting).where(m.Posting.journal_pk == journal.pk)).all()
    for leg in legs:
        totals[leg.currency] += leg.amount
    assert dict(totals) == {"GBP": 0, "JPY": 0}
    jpy = sorted(leg.amount for leg in legs if leg.currency == "JPY")
    assert jpy == [-int(quote.buy_amount.amount), int(quote.buy_amount.amount)]
    assert sorted(leg.amount for leg in legs if leg.currency == "GBP") == [-10250, 250, 10000]


def test_kwd_legs_are_in_fils(core: SandboxBank, session: Session, tenant: str) -> None:
    quote, payment_id = paid(core, tenant, "KWD", "10.00")
    payment = session.scalar(select(m.Payment).where(m.Payment.public_id == payment_id))
    assert payment is not None
    legs = session.scalars(
        select(m.Posting).where(
            m.Posting.journal_pk == payment.journal_pk, m.Posting.currency == "KWD"
        )
    ).all()
    assert sorted(leg.amount for leg in legs) == [
        -int(quote.buy_amount.amount * 1000), int(quote.buy_amount.amount * 1000)]  # fmt: skip


def test_reconciliation_finds_good_books_and_a_drifted_nostro(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    paid(core, tenant, "EUR", "40.00")
    paid(core, tenant, "EUR", "15.00")
    good = core.reconcile()
    assert good.breaks == () and good.journals >= 2 and good.nostros >= 1
    nostro = session.scalar(
        select(m.Account).where(
            m.Account.tenant_id == tenant, m.Account.internal_code == "nostro:EUR"
        )
    )
    assert nostro is not None and nostro.booked_balance > 0
    session.execute(update(m.Account).where(m.Account.pk == nostro.pk)
                    .values(booked_balance=m.Account.booked_balance + 1))  # fmt: skip
    broken = core.reconcile()
    assert [b for b in broken.breaks if nostro.public_id in b]


def test_an_order_that_is_not_the_quote_total_books_nothing(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    quote = core.create_fx_quote(tenant, fx.QuoteRequest("GBP", "USD", Decimal("20"), None, "PT5M"))
    wrong = PaymentOrder(gbp_account(core, tenant), Money(Decimal("20.00"), "GBP"), CREDITOR, "R")
    with pytest.raises(InvalidInstruction):
        core.pay_converted(tenant, wrong, quote.contract_id)
    big = core.create_fx_quote(
        tenant, fx.QuoteRequest("GBP", "USD", Decimal("49000"), None, "None")
    )
    order = PaymentOrder(gbp_account(core, tenant), big.total_debited, CREDITOR, "R")
    with pytest.raises(InsufficientFunds):
        core.pay_converted(tenant, order, big.contract_id)
    journals = session.scalars(
        select(m.Journal).where(m.Journal.tenant_id == tenant, m.Journal.kind == KIND)
    ).all()
    assert journals == []


def test_the_position_and_its_profit(core: SandboxBank, tenant: str) -> None:
    quote, _ = paid(core, tenant, "JPY", "100.00")
    found = core.position(tenant)
    assert set(found.positions) == {
        Money(Decimal("100.00"), "GBP"), Money(-quote.buy_amount.amount, "JPY")}  # fmt: skip
    assert found.fees == (Money(Decimal("2.50"), "GBP"),)
    mid = {r.quoted_currency: r.rate for r in core.mid_rates(tenant, "GBP")}["JPY"]
    expected = Decimal("102.50") - quote.buy_amount.amount / mid
    assert found.pnl == Money(expected.quantize(Decimal("0.01")), "GBP")
    # The spread earns something beyond the fee; no payment, no position.
    assert found.pnl.amount > Decimal("2.50")
    assert core.position(f"{tenant}-none").positions == ()
