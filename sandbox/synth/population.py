"""Who lives in a sandbox tenant: the customers, their accounts and their habits.

:func:`populate` builds a tenant's whole data set with :class:`sandbox.generator.Builder` and books
its history with :func:`sandbox.history.generate`; it is deterministic in (seed, anchor day).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from sandbox import catalogue as cat
from sandbox.identifiers import iban_check_digits
from sandbox.ledger import internal_account
from sandbox.models import (
    AccountParty,
    Customer,
    Hold,
    ScheduledPayment,
)
from sandbox.synth import counterparties as names
from sandbox.synth import habits, history, personas
from sandbox.synth.generator import (
    HISTORY_DAYS,
    INTERNAL_CODES,
    PROFILES,
    RATES,
    Builder,
    Generated,
)
from sandbox.synth.vocabulary import IBAN, SCAN, Habits, Plan, booking, transfer


def populate(
    session: Session,
    *,
    tenant_id: str,
    seed: int,
    anchor: dt.datetime,
    profile: str = "standard",
    transactions: int | None = None,
) -> Generated:
    """Create the tenant's customers, accounts, instructions and history up to ``anchor``'s day.

    ``transactions`` (``large`` profile) sizes the café's card sales so that its account alone
    holds about that many transactions.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    b = Builder(session, tenant_id, seed, anchor)
    if profile == "large":
        b.start = anchor.date() - dt.timedelta(days=HISTORY_DAYS["large"])
    everyday = _professional(b)
    _euro_saver(b)
    _student(b)
    _cafe(b, session, profile, transactions)
    _trading_company(b)

    currencies = sorted({p.currency for p in b.plans} | {"GBP"})
    internal = {
        f"{code}:{ccy}": internal_account(session, tenant_id, code, ccy).pk
        for code in INTERNAL_CODES
        for ccy in currencies
    }
    result = history.generate(
        session, tenant_id=tenant_id, rng=b.rng, plans=b.plans, internal_pks=internal,
        start=b.start, end=anchor.date(),
    )  # fmt: skip
    _finish(b, result, everyday)
    # The financing personas come last, with their own history, so that nothing above changes.
    postings = result.postings + personas.add(b, internal)
    return Generated(
        customers=5 + len(personas.PERSONAS), accounts=len(b.accounts), postings=postings
    )


def _professional(b: Builder) -> Plan:
    """A salaried professional: current account, easy-access saver, credit card (returns the
    current account, which repays the card)."""
    rng = b.rng
    alex = b.customer("Personal")
    saver = b.account(
        alex,
        subtype="Savings",
        product="SAV-EASY",
        nickname="Rainy day",
        behaviour=habits.savings,
        opening=rng.randrange(200_000, 900_000),
    )
    visa = b.account(
        alex,
        subtype="CreditCard",
        product="CC-CLASSIC",
        nickname="Credit card",
        behaviour=habits.credit_card,
        limit=300_000,
        habits=Habits(spend_rate=0.2),
    )
    everyday = _personal(b, alex, "Everyday", salary=rng.randrange(280_000, 420_000), saver=saver)
    _repaid_from(b, visa, everyday)
    return everyday


def _euro_saver(b: Builder) -> None:
    """A customer who also keeps euros."""
    rng = b.rng
    sam = b.customer("Personal")
    sam_gbp = _personal(b, sam, "Main account", salary=rng.randrange(220_000, 320_000))
    b.account(
        sam,
        subtype="CurrentAccount",
        product="PCA-GLOBAL",
        nickname="Euro wallet",
        behaviour=habits.fx_account,
        currency="EUR",
        opening=150_000,
        habits=_fx(b, sam_gbp, "EUR", payers=names.CUSTOMERS_EU[:1], scale=0.1),
    )


def _student(b: Builder) -> None:
    """A student living in the overdraft."""
    rng = b.rng
    jo = b.customer("Personal")
    _personal(b, jo, "Student account", salary=rng.randrange(110_000, 140_000), limit=100_000)


def _cafe(b: Builder, session: Session, profile: str, transactions: int | None) -> None:
    """A café: card takings, suppliers, payroll, an overdraft, a credit card and a loan."""
    rng = b.rng
    cafe = b.customer("Business", f"{b.fake.last_name()} & {b.fake.last_name()} Coffee Ltd")
    sales = 0
    if profile == "large" and transactions:
        sales = max(1, round(transactions / (HISTORY_DAYS["large"] * 6 / 7)))
    shop_rent = b.payee("Shop rent", "SHOP RENT", cat.STANDING_ORDER, "StandingOrder",
                        "Kingsway Property Management")  # fmt: skip
    cafe_habits = Habits(
        sales_per_day=sales,
        rent=rng.randrange(450_000, 900_000),
        rent_detail=shop_rent,
        suppliers=[b.payee(f"Payment to {name}", f"INV{rng.randrange(1000, 9999)}",
                           cat.CREDIT_OUT, "Transfer", name) for name in names.SUPPLIERS_GB],
        payroll=[(rng.randrange(120_000, 240_000),
                  b.payee("Wages", "WAGES", cat.CREDIT_OUT, "Transfer", b.fake.name()))
                 for _ in range(rng.randrange(3, 6))],
    )  # fmt: skip
    trading = b.account(cafe, subtype="CurrentAccount", product="BCA-SME", nickname="Trading",
                        limit=500_000, behaviour=habits.business_current, opening=2_500_000,
                        habits=cafe_habits)  # fmt: skip
    cafe_card = b.account(
        cafe,
        subtype="CreditCard",
        product="BCC-SME",
        nickname="Business card",
        behaviour=habits.credit_card,
        limit=800_000,
    )
    _repaid_from(b, cafe_card, trading)
    principal = rng.randrange(25, 60) * 100_000
    loan = b.account(cafe, subtype="Loan", product="SME-LOAN", nickname="Equipment loan",
                     behaviour=habits.loan, limit=principal, opening=principal,
                     habits=Habits(drawdown_to=trading.index))  # fmt: skip
    cafe_habits.loan, cafe_habits.instalment = loan.index, principal // 48
    b.standing_order(trading, shop_rent, cafe_habits.rent,
                     b.first_of_month(trading, 1), "QURT")  # fmt: skip
    b.direct_debit(trading, "HMRC VAT", "VAT QTR")
    bookkeeper = b.party(b.fake.name(), "Delegate", "UK.OBIE.Individual")
    session.add(AccountParty(account_pk=trading.pk, party_pk=bookkeeper.pk))


def _trading_company(b: Builder) -> None:
    """A trading company: sells in USD and EUR, buys from China in CNY, sweeps proceeds home."""
    rng = b.rng
    trade = b.customer("Business", f"{b.fake.last_name()} Trading Ltd")
    sterling = b.account(
        trade, subtype="CurrentAccount", product="BCA-SME", nickname="Sterling", limit=1_000_000,
        behaviour=habits.business_current, opening=8_000_000,
        habits=Habits(
            suppliers=[b.payee("Freight", "FREIGHT", cat.CREDIT_OUT, "Transfer", name)
                       for name in ("DHL Global Forwarding", "Maersk UK")],
            payroll=[(rng.randrange(250_000, 450_000),
                      b.payee("Salary", "SALARY", cat.CREDIT_OUT, "Transfer", b.fake.name()))
                     for _ in range(4)],
        ),
    )  # fmt: skip
    for ccy, payers, payees in (
        ("USD", names.CUSTOMERS_US, ()),
        ("EUR", names.CUSTOMERS_EU, ()),
        ("CNY", (), names.SUPPLIERS_CN),
    ):
        b.account(trade, subtype="CurrentAccount", product="BCA-FX", nickname=f"{ccy} account",
                  behaviour=habits.fx_account, currency=ccy, opening=5_000_000,
                  habits=_fx(b, sterling, ccy, payers=payers, payees=payees))  # fmt: skip


def _personal(
    b: Builder, customer: Customer, nickname: str, *, salary: int, limit: int = 150_000,
    saver: Plan | None = None,
) -> Plan:  # fmt: skip
    """A personal current account with salary, rent, bills and everyday card spending."""
    rng = b.rng
    employer = rng.choice(names.EMPLOYERS)
    council = rng.choice(names.COUNCILS)
    rent = b.payee("Rent", "RENT", cat.STANDING_ORDER, "StandingOrder", rng.choice(names.LANDLORDS))
    h = Habits(
        salary=salary,
        salary_detail=b.payee(f"Salary {employer}", "SALARY", cat.CREDIT_IN, "Transfer", employer),
        rent=salary * rng.randrange(28, 40) // 100,
        rent_detail=rent,
        council_tax=rng.randrange(12_000, 22_000),
        council_detail=b.payee(council, "CTAX", cat.DIRECT_DEBIT, "DirectDebit", council),
        utilities=[(rng.randrange(3, 28), rng.randrange(2_500, 14_000),
                    b.payee(name, f"{code}{rng.randrange(10**5, 10**6)}", cat.DIRECT_DEBIT,
                            "DirectDebit", name))
                   for name, code in rng.sample(names.UTILITIES, 3)],
        subscriptions=[(rng.randrange(1, 29), m) for m in rng.sample(names.SUBSCRIPTIONS, 2)],
    )  # fmt: skip
    plan = b.account(customer, subtype="CurrentAccount", product="PCA-EVERYDAY",
                     nickname=nickname, behaviour=habits.personal_current, limit=limit,
                     opening=rng.randrange(50_000, 300_000), habits=h)  # fmt: skip
    if saver is not None:
        h.savings_to, h.savings_amount = saver.index, rng.randrange(10, 40) * 1000
        h.savings_out = ("SAVINGS", "Transfer to Rainy day", *cat.INTERNAL, "StandingOrder",
                         None, None, "Rainy day", SCAN, None)  # fmt: skip
        h.savings_in = booking("Transfer from Everyday", "SAVINGS", cat.INTERNAL_IN, "Transfer")
        b.standing_order(plan, h.savings_out, h.savings_amount, b.first_of_month(plan, 2),
                         creditor=saver)  # fmt: skip
    b.standing_order(plan, rent, h.rent, b.first_of_month(plan, 1))
    b.direct_debit(plan, council, "CTAX")
    for _day, _amount, detail in h.utilities:
        b.direct_debit(plan, detail[1], detail[0] or "")
    return plan


def _repaid_from(b: Builder, card: Plan, payer: Plan) -> None:
    """Have ``card`` repaid in full each month by direct debit from ``payer``."""
    card.habits.repaid_from = payer.index
    card.habits.repay_out = ("CARD", "Card repayment", *cat.DIRECT_DEBIT, "DirectDebit",
                             None, None, "Credit card", None, None)  # fmt: skip
    card.habits.repay_in = booking("Payment received, thank you", "CARD", cat.INTERNAL_IN,
                                   "Transfer")  # fmt: skip
    b.direct_debit(payer, "Card repayment", "CARD")


def _fx(
    b: Builder, home: Plan, ccy: str, *, payers: tuple[str, ...] = (),
    payees: tuple[str, ...] = (), scale: float = 1.0,
) -> Habits:  # fmt: skip
    """Habits of a foreign-currency account whose sterling account is ``home``."""
    rng = b.rng
    return Habits(
        home=home.index, rate=RATES[ccy], scale=scale,
        fx_out=booking(f"Conversion to {ccy}", f"FX {ccy}", cat.INTERNAL, "ForeignExchange"),
        fx_in=booking("Conversion from GBP", f"FX {ccy}", cat.INTERNAL_IN, "ForeignExchange"),
        sweep_out=booking("Conversion to GBP", f"FX {ccy}", cat.INTERNAL, "ForeignExchange"),
        sweep_in=booking(f"Conversion from {ccy}", f"FX {ccy}", cat.INTERNAL_IN,
                         "ForeignExchange"),
        payers=[transfer(f"Payment from {n}", f"INV{rng.randrange(10**4, 10**5)}", cat.INTL_IN,
                         "Transfer", n, IBAN, _foreign_iban(b)) for n in payers],
        payees=[transfer(f"Payment to {n}", f"PO{rng.randrange(10**4, 10**5)}", cat.INTL_OUT,
                         "Transfer", n, "UK.OBIE.NCC.CN", f"{rng.randrange(10**11, 10**12)}")
                for n in payees],
    )  # fmt: skip


def _foreign_iban(b: Builder) -> str:
    bban = f"{b.rng.randrange(10**17, 10**18)}"
    return f"DE{iban_check_digits('DE', bban)}{bban}"


def _finish(b: Builder, result: history.Result, everyday: Plan) -> None:
    """Store closing balances, statements, last payments, holds and scheduled payments."""
    session, anchor = b.session, b.anchor
    b.close(result, b.plans)
    # Card authorisations not yet settled on the professional's everyday account.
    account = b.accounts[everyday.index]
    room = result.balances[everyday.index] + everyday.credit_limit
    for merchant in b.rng.sample(names.GROCERS + names.EATING_OUT, 2):
        # A smaller purchase when the account is near its limit, none when it is at it.
        minor = min(int(b.rng.uniform(merchant.low, merchant.high) * 100),
                    (room - account.held_amount) // 2)  # fmt: skip
        if minor < 100:
            continue
        session.add(Hold(
            account_pk=account.pk, currency="GBP", amount=minor, status="Active",
            created_at=anchor - dt.timedelta(hours=b.rng.randrange(1, 20)),
            expires_at=anchor + dt.timedelta(hours=b.rng.randrange(20, 60)),
            information=merchant.name, merchant_name=merchant.name, merchant_mcc=merchant.mcc,
        ))  # fmt: skip
        account.held_amount += minor
    session.add(ScheduledPayment(
        account_pk=account.pk, public_id=b.pid("sch_"),
        execution_date=anchor.date() + dt.timedelta(days=3), amount=5_000, currency="GBP",
        creditor_name=b.fake.name(), creditor_scheme=SCAN, creditor_identification=b.scan(),
        reference="BIRTHDAY", status="Scheduled",
    ))  # fmt: skip
    session.flush()
