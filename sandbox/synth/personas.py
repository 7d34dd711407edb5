"""Financing personas: test customers whose histories make a credit decision come out one way.

Each persona has one current account whose income, bills, credit repayments and spending are
fixed (its card spending is drawn from a generator seeded by the persona's name, never by the
tenant's seed), so every tenant's persona decides the same way for the loan documented for it
(docs/financing-personas.md):

==========================  ========  ==============================  =========================
persona                     kind      what the history shows          loan and outcome
==========================  ========  ==============================  =========================
Olivia Bennett              person    steady salary, rent and bills   5,000 / 36 m: approve
Daniel Okafor               person    salary, car finance, Klarna     20,000 / 36 m: conditions
Casey Morgan                person    gig payouts, quiet months       3,000 / 24 m: refer
Jordan Reilly               person    overdrawn, unpaid direct debits 2,000 / 12 m: decline
Greenleaf Bakery Ltd        business  steady card takings             30,000 / 36 m: approve
Harbour Print Ltd           business  thin margin, an existing loan   80,000 / 48 m: conditions
Northgate Events Ltd        business  seasonal receipts               20,000 / 36 m: refer
Redline Couriers Ltd        business  overdrawn, returned PAYE        25,000 / 36 m: decline
==========================  ========  ==============================  =========================

They are created after the rest of the tenant and book their history with their own
generator, so the other customers' data (and every id) stay as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sandbox import catalogue as cat
from sandbox.synth import counterparties as names
from sandbox.synth import history
from sandbox.synth.generator import Builder
from sandbox.synth.habits import OPENING, TAKINGS_DETAIL, last_working_day
from sandbox.synth.vocabulary import SCAN, Behaviour, Detail, Event, Plan, booking, card, transfer

RETURNED_DD = ("IssuedDirectDebits", "UnpaidDirectDebit")
# Pounds to minor units; the days of history a persona has (a year and a month, and more).
P = 100
HISTORY_DAYS = 400

Amount = Callable[[random.Random, dt.date], int]


@dataclass(frozen=True, slots=True)
class Bill:
    """A payment out on ``day`` of the month (of ``months`` only, when given)."""

    day: int
    amount: int
    detail: Detail
    months: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Persona:
    """One financing persona: who, their account, and what happens on it."""

    name: str
    kind: str
    nickname: str
    product: str
    limit: int
    opening: int
    income: tuple[tuple[Detail, Amount], ...]
    bills: tuple[Bill, ...]
    # (chance a day, merchants) of card spending
    spending: tuple[tuple[float, tuple[names.Merchant, ...]], ...] = ()
    # a direct debit returned unpaid, in the months divisible by ``returned_every``
    returned: Bill | None = None
    returned_every: int = 1
    suppliers: tuple[Detail, ...] = ()
    supplier_amount: tuple[int, int] = (0, 0)


def _payee(info: str, ref: str, btc: tuple[str, str], code: str, name: str) -> Detail:
    return transfer(info, ref, btc, code, name, SCAN, _account_number(name))


def _account_number(name: str) -> str:
    """A sort code and account number at another bank, fixed by the payee's name."""
    return f"{int(hashlib.sha256(name.encode()).hexdigest()[:12], 16) % 10**14:014d}"


def _dd(name: str, ref: str) -> Detail:
    return (ref, name, *cat.DIRECT_DEBIT, "DirectDebit", None, None, name, None, None)


def _so(name: str, ref: str) -> Detail:
    return _payee(name, ref, cat.STANDING_ORDER, "StandingOrder", name)


def _salary(amount: int) -> Amount:
    return lambda _rng, day: amount if last_working_day(day) else 0


def _weekdays(low: int, high: int, days: int = 5) -> Amount:
    return lambda rng, day: rng.randrange(low, high) if day.weekday() < days else 0


def _gig(rng: random.Random, day: dt.date) -> int:
    """Weekly platform payouts, busy two months in three and nearly nothing the third."""
    if day.weekday() != 4:
        return 0
    return rng.randrange(600, 720) * P if day.month % 3 else rng.randrange(100, 140) * P


def _seasonal(rng: random.Random, day: dt.date) -> int:
    """Event receipts: a big season in summer and December, little trade otherwise."""
    if day.weekday() >= 5:
        return 0
    peak = day.month in (6, 7, 8, 12)
    return rng.randrange(1300, 1500) * P if peak else rng.randrange(260, 300) * P


def _salary_of(employer: str, amount: int) -> tuple[Detail, Amount]:
    detail = _payee(f"Salary {employer}", "SALARY", cat.CREDIT_IN, "Transfer", employer)
    return detail, _salary(amount)


def _home(rent: int, council: int, utilities: int) -> tuple[Bill, ...]:
    return (
        Bill(1, rent, _so("Harbour Lettings", "RENT")),
        Bill(1, council, _dd("Leeds City Council", "CTAX")),
        Bill(10, utilities * 6 // 10, _dd("Octopus Energy", "OCTO")),
        Bill(15, utilities * 2 // 10, _dd("Thames Water", "TWAT")),
        Bill(20, utilities * 2 // 10, _dd("BT Broadband", "BTBB")),
    )


EVERYDAY = (
    (0.35, names.GROCERS),
    (0.3, names.EATING_OUT),
    (0.06, names.SHOPPING),
)
PAYE = _dd("HMRC PAYE", "PAYE")
VAT = _dd("HMRC VAT", "VAT QTR")
SUPPLIERS = tuple(
    _payee(f"Payment to {name}", "INVOICE", cat.CREDIT_OUT, "Transfer", name)
    for name in names.SUPPLIERS_GB
)


def _business(rent: int, payroll: int, extra: tuple[Bill, ...] = ()) -> tuple[Bill, ...]:
    return (
        Bill(1, rent, _so("Kingsway Property Management", "SHOP RENT")),
        Bill(3, 45 * P, booking("Business account fees", "FEES", cat.FEES, "Fees")),
        Bill(25, payroll, _payee("Wages", "WAGES", cat.CREDIT_OUT, "Transfer", "Payroll")),
        *extra,
    )


PERSONAS = (
    Persona("Olivia Bennett", "Personal", "Everyday", "PCA-EVERYDAY", 500 * P, 1500 * P,
            (_salary_of("Riverside NHS Trust", 3100 * P),), _home(900 * P, 160 * P, 170 * P),
            EVERYDAY),
    Persona("Daniel Okafor", "Personal", "Everyday", "PCA-EVERYDAY", 1000 * P, 800 * P,
            (_salary_of("Brightwell Logistics plc", 2600 * P),),
            (*_home(850 * P, 140 * P, 150 * P),
             Bill(12, 180 * P, _dd("Black Horse Finance", "CAR FINANCE")),
             Bill(6, 35 * P, _dd("Klarna", "KLARNA")), Bill(21, 35 * P, _dd("Klarna", "KLARNA"))),
            EVERYDAY[:2]),
    Persona("Casey Morgan", "Personal", "Everyday", "PCA-EVERYDAY", 500 * P, 3000 * P,
            ((_payee("Uber BV payout", "UBER", cat.CREDIT_IN, "Transfer", "Uber BV"), _gig),),
            _home(700 * P, 120 * P, 120 * P), EVERYDAY[:1]),
    Persona("Jordan Reilly", "Personal", "Everyday", "PCA-EVERYDAY", 4000 * P, 0,
            (_salary_of("Northwind Analytics Ltd", 1700 * P),),
            (*_home(750 * P, 120 * P, 130 * P),
             Bill(8, 180 * P, _dd("Lending Stream", "LOAN")),
             Bill(16, 60 * P, _dd("Clearpay", "CLEARPAY"))),
            ((0.35, names.GROCERS), (0.45, names.EATING_OUT)),
            returned=Bill(18, 38 * P, _dd("Vodafone", "VODA")), returned_every=2),
    Persona("Greenleaf Bakery Ltd", "Business", "Trading", "BCA-SME", 5000 * P, 20000 * P,
            ((TAKINGS_DETAIL, _weekdays(900 * P, 1300 * P, days=6)),),
            _business(2500 * P, 6000 * P, (Bill(7, 3000 * P, VAT, (2, 5, 8, 11)),)),
            ((0.3, names.BUSINESS_SPEND),), suppliers=SUPPLIERS, supplier_amount=(1200, 1800)),
    Persona("Harbour Print Ltd", "Business", "Trading", "BCA-SME", 5000 * P, 15000 * P,
            ((_payee("Payment from customer", "INVOICE", cat.CREDIT_IN, "Transfer",
                     "Atlas Marketing Ltd"), _weekdays(650 * P, 850 * P)),),
            _business(1800 * P, 6000 * P,
                      (Bill(5, 600 * P, _dd("Funding Circle", "LOAN REPAYMENT")),)),
            ((0.2, names.BUSINESS_SPEND),), suppliers=SUPPLIERS, supplier_amount=(450, 650)),
    Persona("Northgate Events Ltd", "Business", "Trading", "BCA-SME", 5000 * P, 40000 * P,
            ((_payee("Event booking", "BOOKING", cat.CREDIT_IN, "Transfer",
                     "Eventbrite UK"), _seasonal),),
            _business(1500 * P, 5000 * P), (), suppliers=SUPPLIERS, supplier_amount=(250, 350)),
    Persona("Redline Couriers Ltd", "Business", "Trading", "BCA-SME", 20000 * P, 1000 * P,
            ((_payee("Payment from customer", "DELIVERY", cat.CREDIT_IN, "Transfer",
                     "Parcel Hub Ltd"), _weekdays(380 * P, 440 * P)),),
            _business(800 * P, 6000 * P,
                      (Bill(2, 1200 * P, _dd("Lex Autolease", "VAN FINANCE")),)),
            ((0.4, names.BUSINESS_SPEND),),
            returned=Bill(19, 1150 * P, PAYE), returned_every=3),
)  # fmt: skip


def add(b: Builder, internal_pks: dict[str, int]) -> int:
    """Create the personas in ``b``'s tenant and book their history; return the postings
    written."""
    plans: list[Plan] = []
    for persona in PERSONAS:
        customer = b.customer(persona.kind, persona.name)
        plan = b.account(
            customer, subtype="CurrentAccount", product=persona.product,
            nickname=persona.nickname, behaviour=behaviour(persona), limit=persona.limit,
            opening=persona.opening, opened_days_ago=HISTORY_DAYS,
        )  # fmt: skip
        for bill in (*persona.bills, *((persona.returned,) if persona.returned else ())):
            if bill.detail[4] == "DirectDebit":
                b.direct_debit(plan, bill.detail[1], bill.detail[0] or "")
            elif bill.detail[4] == "StandingOrder":
                b.standing_order(plan, bill.detail, bill.amount, b.first_of_month(plan, bill.day))
        plans.append(plan)
    if not plans:
        return 0
    result = history.generate(
        b.session, tenant_id=b.tenant_id, rng=random.Random(0), plans=plans,
        internal_pks=internal_pks, start=min(p.opening_date for p in plans),
        end=b.anchor.date(),
    )  # fmt: skip
    b.close(result, plans)
    return result.postings


def behaviour(persona: Persona) -> Behaviour:
    """The persona's day: income, bills, returned direct debits, suppliers and card spending,
    drawn from a generator seeded by the persona's name."""
    own = random.Random(f"persona:{persona.name}")

    def day_of(_rng: random.Random, day: dt.date, plan: Plan) -> Iterator[Event]:
        i = plan.index
        if day == plan.opening_date and plan.opening_amount:
            yield 8 * 3600, ((i, plan.opening_amount, OPENING, "clearing:GBP"),)
        for detail, amount in persona.income:
            minor = amount(own, day)
            if minor:
                yield 6 * 3600, ((i, minor, detail, "clearing:GBP"),)
        for bill in persona.bills:
            if day.day == bill.day and (not bill.months or day.month in bill.months):
                yield 7 * 3600, ((i, -bill.amount, bill.detail, "clearing:GBP"),)
        back = persona.returned
        if back and day.day == back.day and day.month % persona.returned_every == 0:
            # Presented and returned unpaid the same morning.
            returned = booking(f"Returned direct debit {back.detail[1]}", back.detail[0],
                               RETURNED_DD, "DirectDebit")  # fmt: skip
            yield (
                7 * 3600 + 600,
                (
                    (i, -back.amount, back.detail, "clearing:GBP"),
                    (i, back.amount, returned, "clearing:GBP"),
                ),
            )
        if persona.suppliers and day.weekday() in (0, 3):
            minor = own.randrange(*persona.supplier_amount) * P
            yield 11 * 3600, ((i, -minor, own.choice(persona.suppliers), "clearing:GBP"),)
        for chance, merchants in persona.spending:
            if own.random() < chance:
                m = own.choice(merchants)
                minor = int(own.uniform(m.low, m.high) * P) or 1
                second = 9 * 3600 + own.randrange(36_000)
                yield second, ((i, -minor, card(m), "card-settlement:GBP"),)

    return day_of
