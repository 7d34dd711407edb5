"""The sandbox bank's credit decision (``LendingCore.decide``): its summarising read gives the
same summary, so the same decision, as the full read through the account-information contract,
for every persona and every other test customer, whichever months the window holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.credit import CreditRequest, Outcome
from gateway.core.errors import InvalidInstruction, UnknownResource
from sandbox import models as m
from sandbox.core import SandboxCore
from sandbox.credit_summary import read_summary
from sandbox.lending import decide, read_histories
from sandbox.lending.decision import instalment
from sandbox.lending.measures import summarise
from tests.common.sandbox import sandbox_core
from tests.unit.sandbox.lending.test_personas import ANCHORS, PERSONAS, RATE


def _request(kind: str, amount: int, term: int) -> CreditRequest:
    rate = RATE[kind]
    return CreditRequest(
        applicant="Business" if kind == "Business" else "Personal", currency="GBP",
        amount=Decimal(amount), term_months=term,
        instalment=instalment(Decimal(amount), rate, term), annual_rate=rate,
    )  # fmt: skip


def _account_rows(session: Session, tenant: str, customer_id: str) -> list[m.Account]:
    query = (
        select(m.Account)
        .join(m.Customer, m.Customer.pk == m.Account.customer_pk)
        .where(m.Customer.tenant_id == tenant, m.Customer.public_id == customer_id)
        .where(m.Account.account_subtype == "CurrentAccount", m.Account.currency == "GBP")
    )
    return list(session.scalars(query))


def _both_reads(core: SandboxCore, session: Session, tenant: str, customer_id: str) -> None:
    """The summarising read and the full read agree on ``customer_id``'s accounts."""
    today = core.now(tenant).date()
    histories = read_histories(core, tenant, customer_id, today)
    rows = _account_rows(session, tenant, customer_id)
    assert read_summary(session, rows, "GBP", today) == summarise(histories, "GBP", today)


@pytest.mark.parametrize("anchor", ANCHORS, ids=lambda a: a.date().isoformat())
def test_the_bank_decides_each_persona_as_the_full_read_does(
    session: Session, tenant: str, anchor: dt.datetime
) -> None:
    core = sandbox_core(session, real_time=lambda: anchor)
    customers = {c.name: c for c in core.customers(tenant)}
    today = core.now(tenant).date()
    for name, kind, amount, term, outcome in PERSONAS:
        customer = customers[name]
        accounts = [a.id for a in core.accounts(tenant, customer.id)]
        request = _request(kind, amount, term)
        wired = core.decide(tenant, accounts, request, today)
        full = decide(read_histories(core, tenant, customer.id, today), request, today)
        assert wired == full, name
        assert wired.outcome is outcome, (name, wired)
        _both_reads(core, session, tenant, customer.id)


def test_the_summary_matches_the_full_read_for_every_test_customer(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[1])
    customers = core.customers(tenant)
    assert len(customers) > len(PERSONAS)
    for customer in customers:
        _both_reads(core, session, tenant, customer.id)


def test_only_current_accounts_in_the_loans_currency_are_read(
    session: Session, tenant: str
) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[0])
    today = core.now(tenant).date()
    request = _request("Personal", 5_000, 36)
    accounts = [a for c in core.customers(tenant) for a in core.accounts(tenant, c.id)]
    others = [a.id for a in accounts if a.account_subtype != "CurrentAccount"]
    assert others
    declined = core.decide(tenant, others, request, today)
    assert declined.outcome is Outcome.DECLINE
    assert "NoIncome" in {r.code for r in declined.reasons}
    euros = [a.id for a in accounts if a.currency != "GBP"]
    assert euros
    assert core.decide(tenant, euros, request, today).outcome is Outcome.DECLINE


def test_unknown_or_missing_accounts_are_refused(session: Session, tenant: str) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[0])
    today = core.now(tenant).date()
    request = _request("Personal", 5_000, 36)
    with pytest.raises(UnknownResource):
        core.decide(tenant, ["acc-nothing"], request, today)
    with pytest.raises(InvalidInstruction):
        core.decide(tenant, [], request, today)
    (someone,) = core.customers(tenant)[:1]
    account = core.accounts(tenant, someone.id)[0].id
    with pytest.raises(UnknownResource):  # another tenant's account is not this tenant's
        core.decide(f"{tenant}-other", [account], request, today)
