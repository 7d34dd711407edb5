"""Every conversion the sandbox makes is kept beside its journal (sbx_fx_execution), an agreed
quote serves one payment, and the reconciliation checks each conversion against its journal and
its rate to the minor unit: a conversion row that disagrees, or a journal without one, is a
break."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.core import fx
from gateway.core.administration import SandboxBank
from gateway.core.fx_orders import Arrival, QuoteUsed
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder
from sandbox.fx_models import FxExecution
from tests.unit.sandbox.test_fx_settlement import CREDITOR, gbp_account, paid


def test_a_conversion_is_kept_with_its_rate_quote_amounts_and_fee(
    core: SandboxBank, tenant: str
) -> None:
    quote, payment_id = paid(core, tenant, "JPY", "100.00")
    [made] = core.conversions(tenant, payment_id)
    assert (made.contract_id, made.rate, made.rate_type) == (quote.contract_id, quote.rate,
                                                             "Agreed")  # fmt: skip
    assert (made.sell, made.buy, made.fee) == (quote.sell_amount, quote.buy_amount, quote.fee)
    assert made.total_debited == Money(Decimal("102.50"), "GBP")
    assert core.fx_quote(tenant, quote.contract_id).used_by == payment_id


def test_an_agreed_quote_serves_one_payment(core: SandboxBank, tenant: str) -> None:
    quote, _ = paid(core, tenant, "EUR", "20.00")
    before = core.balances(tenant, gbp_account(core, tenant)).booked.amount
    order = PaymentOrder(gbp_account(core, tenant), quote.total_debited, CREDITOR, "INV-2")
    with pytest.raises(QuoteUsed):
        core.pay_converted(tenant, order, quote.contract_id)
    assert core.balances(tenant, gbp_account(core, tenant)).booked.amount == before


def test_money_from_abroad_goes_through_the_vostro_and_balances(
    core: SandboxBank, tenant: str
) -> None:
    account = gbp_account(core, tenant)
    before = core.balances(tenant, account).booked.amount
    made = core.receive_from_abroad(
        tenant, Arrival(account, Money(Decimal("1000"), "JPY"), "Yamada KK", "INV-3")
    )
    assert made.direction == "Incoming" and made.fee.amount == 0
    assert made.buy == fx.converted(Money(Decimal("1000"), "JPY"), made.rate, "GBP")
    assert core.balances(tenant, account).booked.amount == before + made.buy.amount
    found = core.reconcile()
    assert found.breaks == () and found.conversions >= 1 and found.nostros >= 1


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [("buy_amount", 1, "does not credit"), ("fee", 0, "does not take"),
     ("rate", "1.5", "does not give")],
)  # fmt: skip
def test_a_conversion_that_disagrees_is_a_break(
    core: SandboxBank, session: Session, tenant: str, column: str, value: object, says: str
) -> None:
    _quote, payment_id = paid(core, tenant, "EUR", "40.00")
    session.execute(
        update(FxExecution).where(FxExecution.payment_id == payment_id).values({column: value})
    )
    breaks = core.reconcile().breaks
    assert any(says in line for line in breaks), breaks


def test_a_journal_without_its_conversion_is_a_break(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    _quote, payment_id = paid(core, tenant, "CHF", "40.00")
    journal = session.scalar(
        select(FxExecution.journal_pk).where(FxExecution.payment_id == payment_id)
    )
    session.execute(delete(FxExecution).where(FxExecution.payment_id == payment_id))
    assert f"journal {journal} has no conversion" in core.reconcile().breaks
