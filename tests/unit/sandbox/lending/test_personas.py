"""The financing personas decide as docs/financing-personas.md says, from the sandbox's own
data read through the account-information contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.administration import SandboxBank
from gateway.core.credit import CreditRequest, Outcome
from sandbox import tenants
from sandbox.lending import Assessment, decide, read_histories
from sandbox.lending.decision import instalment
from sandbox.models import Account, Customer, Posting
from sandbox.synth import personas
from sandbox.synth.population import populate
from tests.common.sandbox import sandbox_core

RATE = {"Personal": Decimal("9.9"), "Business": Decimal("8.5")}
# persona, kind, amount, term in months, outcome
PERSONAS = [
    ("Olivia Bennett", "Personal", 5_000, 36, Outcome.APPROVE),
    ("Daniel Okafor", "Personal", 20_000, 36, Outcome.APPROVE_WITH_CONDITIONS),
    ("Casey Morgan", "Personal", 3_000, 24, Outcome.REFER),
    ("Jordan Reilly", "Personal", 2_000, 12, Outcome.DECLINE),
    ("Greenleaf Bakery Ltd", "Business", 30_000, 36, Outcome.APPROVE),
    ("Harbour Print Ltd", "Business", 80_000, 48, Outcome.APPROVE_WITH_CONDITIONS),
    ("Northgate Events Ltd", "Business", 20_000, 36, Outcome.REFER),
    ("Redline Couriers Ltd", "Business", 25_000, 36, Outcome.DECLINE),
]


def persona_decision(
    core: SandboxBank, tenant: str, name: str, kind: str, amount: int, term: int
) -> Assessment:
    """Decide the documented loan for persona ``name`` from the tenant's data."""
    (customer,) = [c for c in core.customers(tenant) if c.name == name]
    assert customer.kind == kind
    today = core.now(tenant).date()
    rate = RATE[kind]
    request = CreditRequest(
        applicant=customer.kind, currency="GBP", amount=Decimal(amount), term_months=term,
        instalment=instalment(Decimal(amount), rate, term), annual_rate=rate,
    )  # fmt: skip
    return decide(read_histories(core, tenant, customer.id, today), request, today)


# Tenants made on days far apart (the window is the twelve months before), so the personas are
# seen to decide the same whichever months the window holds.
ANCHORS = [
    dt.datetime(2025, 3, 14, 10, 30, tzinfo=dt.UTC),
    dt.datetime(2025, 9, 1, 0, 5, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC),
]


@pytest.mark.parametrize("anchor", ANCHORS, ids=lambda a: a.date().isoformat())
def test_personas_decide_as_documented(session: Session, tenant: str, anchor: dt.datetime) -> None:
    core = sandbox_core(session, real_time=lambda: anchor)
    for name, kind, amount, term, outcome in PERSONAS:
        decision = persona_decision(core, tenant, name, kind, amount, term)
        assert decision.outcome is outcome, (name, decision)
        assert decision.reasons and all(r.text.endswith(".") for r in decision.reasons)
        assert bool(decision.conditions) == (outcome is Outcome.APPROVE_WITH_CONDITIONS)
        for condition in decision.conditions:
            assert condition.instalment <= decision.affordable_instalment
            assert condition.amount < amount or condition.term_months > term


def test_personas_reasons_are_those_documented(session: Session, tenant: str) -> None:
    core = sandbox_core(session, real_time=lambda: ANCHORS[0])
    reasons = {
        name: {r.code for r in persona_decision(core, tenant, name, kind, amount, term).reasons}
        for name, kind, amount, term, _outcome in PERSONAS
    }
    assert reasons == {
        "Olivia Bennett": {"Affordable"},
        "Daniel Okafor": {"AffordableWithChanges"},
        "Casey Morgan": {"IrregularIncome"},
        "Jordan Reilly": {"PersistentOverdraft", "ReturnedPayments", "Unaffordable"},
        "Greenleaf Bakery Ltd": {"Affordable"},
        "Harbour Print Ltd": {"AffordableWithChanges"},
        "Northgate Events Ltd": {"IrregularIncome", "VolatileBalance", "AffordabilityUnclear"},
        "Redline Couriers Ltd": {"PersistentOverdraft", "ReturnedPayments", "Unaffordable"},
    }


def _others(session: Session, tenant: str) -> list[tuple[object, ...]]:
    """The postings of the customers who are not personas, without ids."""
    names = [p[0] for p in PERSONAS]
    return list(session.execute(
        select(Customer.username, Account.sort_code, Account.account_number, Posting.amount,
               Posting.booking_datetime, Posting.balance_after, Posting.information)
        .join(Account, Account.customer_pk == Customer.pk)
        .join(Posting, Posting.account_pk == Account.pk)
        .where(Customer.tenant_id == tenant, Customer.name.not_in(names))
        .order_by(Posting.pk)
    ))  # fmt: skip


def test_the_personas_change_nothing_of_the_other_customers(
    session: Session, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants.ensure(session, f"{tenant}-a", 42, dataset=populate, anchor=ANCHORS[0])
    monkeypatch.setattr(personas, "PERSONAS", ())
    tenants.ensure(session, f"{tenant}-b", 42, dataset=populate, anchor=ANCHORS[0])
    with_personas, without = _others(session, f"{tenant}-a"), _others(session, f"{tenant}-b")
    assert len(with_personas) > 3000
    assert with_personas == without
