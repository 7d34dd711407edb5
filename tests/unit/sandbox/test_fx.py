"""The sandbox's foreign-exchange desk: its rate feed is deterministic from the tenant's seed and
moves with its clock; its quotes are kept per tenant, exactly as priced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from gateway.core import fx
from gateway.core.administration import SandboxBank
from gateway.core.errors import UnknownResource
from gateway.core.fx_corridors import BY_ID
from gateway.core.money import Money
from sandbox.fx_feed import BASE_USD_VALUES, SWING_PPM, usd_values

AT = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


def test_the_feed_is_a_function_of_seed_and_minute() -> None:
    assert usd_values(7, AT) == usd_values(7, AT + dt.timedelta(seconds=59))
    assert usd_values(7, AT) != usd_values(7, AT + dt.timedelta(minutes=1))
    assert usd_values(7, AT) != usd_values(8, AT)
    for currency, value in usd_values(7, AT).items():
        base = BASE_USD_VALUES[currency]
        assert abs(value - base) <= base * SWING_PPM / 1_000_000


def test_rates_cover_the_currencies_and_move_with_the_tenant_clock(
    core: SandboxBank, tenant: str
) -> None:
    before = {r.quoted_currency: r.rate for r in core.mid_rates(tenant, "GBP")}
    assert set(before) >= {"EUR", "USD", "CNY", "JPY", "HKD", "SGD", "CHF"}
    earliest = core.now(tenant).replace(microsecond=0)
    stamps = {r.at for r in core.mid_rates(tenant, "GBP")}
    assert len(stamps) == 1
    assert earliest <= stamps.pop() <= core.now(tenant)
    core.advance_clock(tenant, dt.timedelta(minutes=3))
    after = {r.quoted_currency: r.rate for r in core.mid_rates(tenant, "GBP")}
    assert after != before
    with pytest.raises(fx.UnsupportedCurrency):
        core.mid_rates(tenant, "XAU")


def test_a_quote_is_kept_exactly_as_priced(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    request = fx.QuoteRequest("GBP", "JPY", Decimal("123.45"), None, "PT1H")
    earliest = core.now(tenant).replace(microsecond=0)
    quote = core.create_fx_quote(tenant, request)
    values = usd_values(core.tenant_info(tenant).seed, quote.created_at)
    mid = fx.mid_rate(values, "GBP", "JPY")
    assert quote.mid_rate == mid
    assert quote.rate == fx.customer_rate(mid, BY_ID["GBP-JPY"].spread_bps)
    assert quote.buy_amount == fx.converted(Money(Decimal("123.45"), "GBP"), quote.rate, "JPY")
    assert quote.created_at.microsecond == 0
    assert earliest <= quote.created_at <= core.now(tenant)
    assert quote.expires_at == quote.created_at + dt.timedelta(hours=1)
    assert quote.settlement_date == BY_ID["GBP-JPY"].settlement_date(quote.created_at)
    session.expire_all()
    assert core.fx_quote(tenant, quote.contract_id) == quote


def test_a_quote_expires_on_the_tenant_clock(core: SandboxBank, tenant: str) -> None:
    quote = core.create_fx_quote(tenant, fx.QuoteRequest("GBP", "EUR", Decimal("10"), None, "PT5M"))
    assert fx.usable(core.fx_quote(tenant, quote.contract_id), core.now(tenant)) == quote
    core.advance_clock(tenant, dt.timedelta(minutes=5))
    with pytest.raises(fx.QuoteExpired):
        fx.usable(core.fx_quote(tenant, quote.contract_id), core.now(tenant))


def test_quotes_are_the_tenant_own(core: SandboxBank, tenant: str) -> None:
    quote = core.create_fx_quote(tenant, fx.QuoteRequest("GBP", "EUR", Decimal("10"), None, "None"))
    with pytest.raises(UnknownResource):
        core.fx_quote(f"{tenant}-other", quote.contract_id)
    with pytest.raises(UnknownResource):
        core.fx_quote(tenant, "fxq_unknown")


def test_a_refused_request_keeps_nothing(core: SandboxBank, session: Session, tenant: str) -> None:
    from sqlalchemy import func, select

    from sandbox.models import FxQuote

    with pytest.raises(fx.OutsideLimits):
        core.create_fx_quote(tenant, fx.QuoteRequest("GBP", "EUR", Decimal("0.5"), None, "PT5M"))
    count = session.scalar(select(func.count()).where(FxQuote.tenant_id == tenant))
    assert count == 0
