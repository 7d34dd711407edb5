"""The financing personas decide as docs/financing-personas.md says, from the sandbox's own
data read through the account-information contract."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.core.administration import SandboxBank
from sandbox.lending import LoanRequest, Outcome, decide, read_histories
from sandbox.lending.decision import Decision, instalment

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
) -> Decision:
    """Decide the documented loan for persona ``name`` from the tenant's data."""
    (customer,) = [c for c in core.customers(tenant) if c.name == name]
    assert customer.kind == kind
    today = core.now(tenant).date()
    rate = RATE[kind]
    request = LoanRequest(
        applicant=customer.kind, currency="GBP", amount=Decimal(amount), term_months=term,
        instalment=instalment(Decimal(amount), rate, term), annual_rate=rate, as_of=today,
    )  # fmt: skip
    return decide(read_histories(core, tenant, customer.id, today), request)


@pytest.mark.parametrize(("name", "kind", "amount", "term", "outcome"), PERSONAS)
def test_persona_decides_as_documented(
    core: SandboxBank, tenant: str, name: str, kind: str, amount: int, term: int,
    outcome: Outcome,
) -> None:  # fmt: skip
    decision = persona_decision(core, tenant, name, kind, amount, term)
    print(name, decision.outcome, decision.reasons, decision.conditions, decision.measures)
    assert decision.outcome is outcome, decision
    assert decision.reasons and all(r.text.endswith(".") for r in decision.reasons)
    assert bool(decision.conditions) == (outcome is Outcome.APPROVE_WITH_CONDITIONS)
