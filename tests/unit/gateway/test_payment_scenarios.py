"""The sandbox scenarios' rule (gateway.payments.scenarios) and its catalogue page agree."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.consents.models import Consent
from gateway.core.money import Money
from gateway.payments import scenarios
from gateway.payments.models import PaymentOrder

DOC = (Path(__file__).resolve().parents[3] / "docs" / "scenarios.md").read_text()
# A Wednesday at 10:00 London time (GMT): the next cycles are at 13:00 and 16:00.
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


def test_every_trigger_is_in_the_catalogue_with_its_reason() -> None:
    rows = dict(re.findall(r"^\| `(\d+\.\d\d)` \| ([^|]+) \|", DOC, re.MULTILINE))
    for amount, outcome in scenarios.TRIGGERS.items():
        assert str(amount) in rows, amount
        if outcome.reason:
            line = next(x for x in DOC.splitlines() if x.startswith(f"| `{amount}`"))
            assert f"`{outcome.reason}`" in line


@pytest.mark.parametrize("currency", ["GBP", "EUR", "USD"])
def test_a_trigger_works_in_any_currency(currency: str) -> None:
    assert scenarios.triggered(Money(Decimal("6.66"), currency)) is not None
    assert scenarios.triggered(Money(Decimal("6.660"), currency)) is not None


@pytest.fixture
def sandbox_consent(monkeypatch: pytest.MonkeyPatch) -> Consent:
    """A consent of a sandbox app (whose payments rehearse the scenarios)."""
    monkeypatch.setattr(scenarios, "rehearses", lambda consent: True)
    return Consent(id="pmc-1", client_id="c")


@pytest.mark.parametrize("amount", ["6.67", "7.7", "0.01", "666.66", "8.8"])
def test_other_amounts_trigger_nothing(amount: str, sandbox_consent: Consent) -> None:
    money = Money(Decimal(amount), "GBP")
    assert scenarios.triggered(money) is None
    assert scenarios.of(sandbox_consent, money) is None
    assert scenarios.funds_available(sandbox_consent, money) is None


def test_only_the_funds_trigger_answers_a_funds_confirmation(sandbox_consent: Consent) -> None:
    assert scenarios.funds_available(sandbox_consent, Money(Decimal("4.04"), "GBP")) is False
    assert scenarios.funds_available(sandbox_consent, Money(Decimal("8.88"), "GBP")) is None


def test_a_consent_outside_any_unit_of_work_rehearses_nothing() -> None:
    """Without its app to say it is a sandbox app, a consent is paid as the bank pays."""
    consent = Consent(id="pmc-2", client_id="c")
    assert scenarios.rehearses(consent) is False
    assert scenarios.of(consent, Money(Decimal("6.66"), "GBP")) is None


def row() -> PaymentOrder:
    return PaymentOrder(status="ACSP", created_at=NOW, status_updated_at=NOW)


def test_a_pending_acceptance_is_decided_and_settles_at_the_next_cycles() -> None:
    order = row()
    scenarios.record(order, scenarios.TRIGGERS[Decimal("7.77")], NOW)
    assert (order.status, order.decision) == ("PDNG", "ACSP")
    assert order.decided_at == dt.datetime(2026, 3, 4, 13, 0, tzinfo=dt.UTC)
    assert order.settles_at == dt.datetime(2026, 3, 4, 16, 0, tzinfo=dt.UTC)
    assert order.status_reason is None


def test_a_pending_rejection_keeps_its_reason_for_later_and_never_settles() -> None:
    order = row()
    scenarios.record(order, scenarios.TRIGGERS[Decimal("8.88")], NOW, accepted="ACCP")
    assert (order.status, order.decision, order.status_reason) == ("PDNG", "RJCT", "FR01")
    assert order.settles_at is None


def test_a_scheduled_acceptance_does_not_settle_by_itself() -> None:
    order = row()
    scenarios.record(order, scenarios.TRIGGERS[Decimal("7.77")], NOW, accepted="ACCP")
    assert (order.decision, order.settles_at) == ("ACCP", None)
