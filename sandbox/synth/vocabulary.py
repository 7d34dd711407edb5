"""The vocabulary of synthetic history: events, their legs and details, and account plans.

An *event* is something that happens to accounts at a second of a day: one or more *legs*, each
a signed amount on one of the tenant's accounts (by plan index) with the *detail* the account
holder sees, and the internal account that takes the other side (or ``None`` when the event's own
legs balance, as in a transfer between two of the tenant's accounts).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sandbox import catalogue as cat
from sandbox.synth.counterparties import Merchant

# (reference, information, btc_code, btc_subcode, proprietary_code, merchant_name, merchant_mcc,
#  counterparty_name, counterparty_scheme, counterparty_id): the tail of a posting row.
Detail = tuple[
    str | None, str, str | None, str | None, str | None,
    str | None, str | None, str | None, str | None, str | None,
]  # fmt: skip
# (plan index, signed amount in minor units, detail, internal account code or None)
LegSpec = tuple[int, int, Detail, str | None]
Legs = tuple[LegSpec, ...]
# Sizes an event's legs from the balances at booking time (interest, repay-in-full, sweeps);
# returning None drops the event.
Sizer = Callable[[Legs, dict[int, int]], "Legs | None"]
# (second of the day, legs) or (second of the day, legs, sizer)
Event = tuple[int, Legs] | tuple[int, Legs, Sizer]

SCAN = "UK.OBIE.SortCodeAccountNumber"
IBAN = "UK.OBIE.IBAN"


def card(m: Merchant, btc: tuple[str, str] = cat.CARD_PURCHASE) -> Detail:
    """Detail of a card purchase at ``m``."""
    return (None, m.name, *btc, "CardPayment", m.name, m.mcc, None, None, None)


def transfer(
    info: str, ref: str | None, btc: tuple[str, str], code: str, name: str, scheme: str, ident: str
) -> Detail:
    """Detail of a transfer to or from a named counterparty."""
    return (ref, info, *btc, code, None, None, name, scheme, ident)


def booking(info: str, ref: str | None, btc: tuple[str, str], code: str) -> Detail:
    """Detail of a booking with no counterparty (interest, fees, internal transfers)."""
    return (ref, info, *btc, code, None, None, None, None, None)


@dataclass
class Habits:
    """How an account's holder uses it; each behaviour reads the fields it needs."""

    salary: int = 0
    salary_detail: Detail | None = None
    rent: int = 0
    rent_detail: Detail | None = None
    council_tax: int = 0
    council_detail: Detail | None = None
    # (day of month, amount, detail) of direct debits
    utilities: list[tuple[int, int, Detail]] = field(default_factory=list)
    # (day of month, merchant) of card subscriptions
    subscriptions: list[tuple[int, Merchant]] = field(default_factory=list)
    savings_to: int | None = None
    savings_amount: int = 0
    savings_out: Detail | None = None
    savings_in: Detail | None = None
    spend_rate: float = 0.35
    repaid_from: int | None = None
    repay_out: Detail | None = None
    repay_in: Detail | None = None
    sales_per_day: int = 0
    suppliers: list[Detail] = field(default_factory=list)
    payroll: list[tuple[int, Detail]] = field(default_factory=list)
    loan: int | None = None
    instalment: int = 0
    drawdown_to: int | None = None
    home: int | None = None
    rate: float = 1.0
    scale: float = 1.0
    payers: list[Detail] = field(default_factory=list)
    payees: list[Detail] = field(default_factory=list)
    fx_out: Detail | None = None
    fx_in: Detail | None = None
    sweep_out: Detail | None = None
    sweep_in: Detail | None = None


Behaviour = Callable[[random.Random, dt.date, "Plan"], Iterator[Event]]


@dataclass
class Plan:
    """One account to give history to: what it is and how it behaves."""

    index: int
    pk: int
    currency: str
    credit_limit: int
    behaviour: Behaviour
    opening_amount: int
    opening_date: dt.date
    habits: Habits = field(default_factory=Habits)
