"""Converted executions on the tenant's clock, and money arriving from abroad.

An international scheduled payment or standing order is an ordinary instruction of the clock
(:mod:`sandbox.clock`) with conversion terms beside it (:class:`sandbox.fx_models.FxInstruction`).
On its day the clock hands its execution here (:func:`execute`): an instruction without terms
goes to the payment engine (:mod:`sandbox.execution`); one with terms is priced at the moment of
its booking and settled through the FX journal (:func:`sandbox.fx_settlement.settle`):

* ``Agreed``: at exactly the rate of the quote it cites, while that quote's lock holds at the
  booking moment; after it, the execution is refused (``QuoteExpired``) and nothing is booked;
* ``Actual`` (and ``Indicative``): at the feed's rate at the booking moment, a quote made then
  and kept, so that the conversion reports the rate it applied.

Money from abroad (:func:`receive`) is one journal (kind ``fx_receipt``) balanced per currency:
the vostro of the foreign currency (the correspondent's account with the bank) is debited the
amount, the FX position takes it; in the account's currency the FX position is debited what it
converts to, and the customer credited it. The customer's rate is the mid rate less the spread of
the corridor that pays the other way, rounded as :mod:`gateway.core.fx` states.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import fx
from gateway.core.errors import InvalidInstruction
from gateway.core.fx_corridors import BY_ID, CORRIDORS, find
from gateway.core.fx_orders import Arrival
from gateway.core.money import Money, from_minor, to_minor
from sandbox import catalogue as cat
from sandbox import execution, fx_settlement, ledger
from sandbox import models as m
from sandbox.fx_feed import BASE_USD_VALUES, usd_values
from sandbox.fx_models import FxExecution, FxInstruction

# How the public id of a converted scheduled payment or standing order starts, so that the clock
# looks for conversion terms only for those (no extra read for a domestic one).
SCHEDULED = "fsp_"
STANDING = "fso_"


def execute(session: Session, instruction: execution.Instruction, at: dt.datetime) -> m.Payment:
    """Execute ``instruction`` at ``at``: converted when it has terms, else by the engine."""
    found = instruction.instruction_id
    terms = None
    if found is not None and found.startswith((SCHEDULED, STANDING)):
        terms = session.scalar(select(FxInstruction).where(FxInstruction.instruction_id == found))
    if terms is None:
        return execution.execute(session, instruction, at)
    quote = priced(session, terms, instruction.debtor, at)
    return fx_settlement.settle(
        session, instruction.debtor, quote, instruction.creditor, instruction.reference, at,
        origin=instruction.origin, instruction_id=instruction.instruction_id,
    )  # fmt: skip


def priced(session: Session, terms: FxInstruction, debtor: m.Account, at: dt.datetime) -> fx.Quote:
    """The conversion of one execution at ``at``: the agreed quote while locked, else a quote
    at the feed's rate then (kept). ``QuoteExpired``, ``OutsideLimits`` and the like refuse it."""
    if terms.rate_type == "Agreed" and terms.contract_id is not None:
        row = session.scalar(
            select(m.FxQuote).where(
                m.FxQuote.tenant_id == debtor.tenant_id, m.FxQuote.public_id == terms.contract_id
            )
        )
        if row is None:
            raise fx.not_found(terms.contract_id)
        return fx.usable(quote_of(row), at)
    fixed = from_minor(terms.fixed_amount, debtor.currency if terms.fixed_side == "Sell"
                       else terms.buy_currency).amount  # fmt: skip
    request = fx.QuoteRequest(
        debtor.currency, terms.buy_currency, fixed if terms.fixed_side == "Sell" else None,
        fixed if terms.fixed_side == "Buy" else None, "None", terms.destination_country,
    )  # fmt: skip
    return keep(session, debtor.tenant_id, request, at)


def keep(session: Session, tenant: str, request: fx.QuoteRequest, at: dt.datetime) -> fx.Quote:
    """Price ``request`` at the feed's mid rate at ``at`` and keep the quote."""
    corridor = fx.through_corridor(CORRIDORS, BASE_USD_VALUES, request)
    seed = session.get_one(m.Tenant, tenant).seed
    mid = fx.mid_rate(usd_values(seed, at), corridor.sell_currency, corridor.buy_currency)
    quote = fx.price(corridor, mid, request, at, f"fxq_{secrets.token_hex(12)}")
    sell, buy = quote.sell_amount, quote.buy_amount
    session.add(m.FxQuote(
        tenant_id=tenant, public_id=quote.contract_id, corridor_id=corridor.id,
        fixed_side=quote.fixed_side, mid_rate=str(quote.mid_rate), rate=str(quote.rate),
        spread_bps=quote.spread_bps, fee=to_minor(quote.fee.amount, quote.fee.currency),
        sell_amount=to_minor(sell.amount, sell.currency),
        buy_amount=to_minor(buy.amount, buy.currency), lock=quote.lock,
        created_at=quote.created_at, expires_at=quote.expires_at,
        settlement_date=quote.settlement_date,
    ))  # fmt: skip
    session.flush()
    return quote


def arrival_quote(seed: int, account: m.Account, amount: Money, at: dt.datetime) -> fx.Quote:
    """What ``amount`` (foreign) converts to in ``account``'s currency at ``at``."""
    home = account.currency
    for currency in (amount.currency, home):
        if currency not in BASE_USD_VALUES:
            raise fx.UnsupportedCurrency(currency)
    if amount.currency == home:
        raise fx.UnsupportedCurrency(f"{home}: the account's own currency needs no conversion")
    corridor = find(CORRIDORS, home, amount.currency, None)
    if corridor is None:
        raise fx.UnsupportedCorridor(f"no corridor between {amount.currency} and {home}")
    sold = fx.money(amount.amount, amount.currency)
    if sold.amount <= 0:
        raise InvalidInstruction("the amount must be positive")
    mid = fx.mid_rate(usd_values(seed, at), amount.currency, home)
    rate = fx.customer_rate(mid, corridor.spread_bps)
    credited = fx.converted(sold, rate, home)
    if credited.amount <= 0:
        raise fx.OutsideLimits(f"the amount converts to nothing in {home}")
    at = at.replace(microsecond=0)
    return fx.Quote(
        contract_id=f"fxr_{secrets.token_hex(12)}", corridor_id=corridor.id, fixed_side="Sell",
        mid_rate=mid, rate=rate, spread_bps=corridor.spread_bps,
        fee=Money(Decimal(0).quantize(fx.quantum(sold.currency)), sold.currency),
        sell_amount=sold, total_debited=sold, buy_amount=credited, lock="None", created_at=at,
        expires_at=None, settlement_date=at.date(),
    )  # fmt: skip


def receive(session: Session, account: m.Account, arrival: Arrival, at: dt.datetime) -> FxExecution:
    """Credit ``arrival`` to ``account`` converted at the rate at ``at`` (one journal)."""
    tenant = account.tenant_id
    quote = arrival_quote(session.get_one(m.Tenant, tenant).seed, account, arrival.amount, at)
    foreign, credited = quote.sell_amount, quote.buy_amount
    paid = to_minor(foreign.amount, foreign.currency)
    minor = to_minor(credited.amount, credited.currency)
    vostro = ledger.internal_account(session, tenant, fx_settlement.VOSTRO, foreign.currency)
    incoming = ledger.Detail(
        information=f"Payment from {arrival.debtor_name} ({foreign.amount:f} "
        f"{foreign.currency})"[:140], reference=arrival.reference[:35], btc=cat.INTL_IN,
        proprietary_code="InternationalTransfer", counterparty_name=arrival.debtor_name[:70],
        counterparty_id=arrival.debtor_identification,
    )  # fmt: skip
    internal = ledger.Detail(information=f"FX {quote.contract_id}", reference=arrival.reference)
    position = fx_settlement.POSITION
    legs = [
        ledger.Leg(vostro.pk, -paid, foreign.currency, internal),
        ledger.Leg(ledger.internal_account(session, tenant, position, foreign.currency).pk,
                   paid, foreign.currency, internal),
        ledger.Leg(ledger.internal_account(session, tenant, position, credited.currency).pk,
                   -minor, credited.currency, internal),
        ledger.Leg(account.pk, minor, credited.currency, incoming),
    ]  # fmt: skip
    memo = f"{quote.contract_id} {foreign.currency}/{credited.currency} @ {quote.rate}"
    journal = ledger.post(session, tenant_id=tenant, kind=fx_settlement.RECEIPT, legs=legs,
                          booked_at=at, memo=memo[:140])  # fmt: skip
    fx_settlement.move_balance(session, vostro, -paid)
    row = fx_settlement.record(session, journal, account, quote, at, direction="Incoming")
    session.flush()
    return row


def quote_of(row: m.FxQuote) -> fx.Quote:
    """A kept quote as the contract states it."""
    corridor = BY_ID[row.corridor_id]
    sell = from_minor(row.sell_amount, corridor.sell_currency)
    fee = from_minor(row.fee, corridor.sell_currency)
    side: fx.FixedSide = "Buy" if row.fixed_side == "Buy" else "Sell"
    return fx.Quote(
        contract_id=row.public_id, corridor_id=row.corridor_id, fixed_side=side,
        mid_rate=Decimal(row.mid_rate), rate=Decimal(row.rate), spread_bps=row.spread_bps,
        fee=fee, sell_amount=sell,
        total_debited=Money(sell.amount + fee.amount, sell.currency),
        buy_amount=from_minor(row.buy_amount, corridor.buy_currency), lock=row.lock,
        created_at=row.created_at, expires_at=row.expires_at,
        settlement_date=row.settlement_date, used_by=row.used_by,
    )  # fmt: skip
