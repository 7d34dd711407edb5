"""Deterministic sandbox data sets: the same seed and anchor day give the same data.

A tenant gets three personal customers (a salaried professional with a saver and a credit card,
a customer with a euro account, a student in overdraft) and two businesses (a café with a card
terminal, an overdraft, a credit card and an SME loan; a trading company with USD, EUR and CNY
accounts that sells abroad and pays suppliers in China). The ``large`` profile gives the café a
card sale per transaction, enough for a history of a million rows or more.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from faker import Faker
from sqlalchemy.orm import Session

from sandbox.identifiers import luhn_check_digit, uk_iban
from sandbox.ids import public_id
from sandbox.models import (
    Account,
    Beneficiary,
    Customer,
    DirectDebit,
    Party,
    StandingOrder,
)
from sandbox.schedule import next_after
from sandbox.synth.vocabulary import SCAN, Behaviour, Detail, Habits, Plan, transfer

PROFILES = ("standard", "large")
HISTORY_DAYS = {"standard": 400, "large": 1100}
INTERNAL_CODES = ("clearing", "card-settlement", "interest", "fees", "fx-position")
# Indicative mid rates (units of currency per GBP) for the generated conversions.
RATES = {"USD": 1.27, "EUR": 1.17, "CNY": 9.15}


@dataclass(frozen=True, slots=True)
class Generated:
    """Counts of what a generation wrote."""

    customers: int
    accounts: int
    postings: int


class Builder:
    """Creates one tenant's rows; every random draw comes from one seeded generator."""

    def __init__(self, session: Session, tenant_id: str, seed: int, anchor: dt.datetime) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(seed)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.start = anchor.date() - dt.timedelta(days=HISTORY_DAYS["standard"])
        self.plans: list[Plan] = []
        self.accounts: list[Account] = []
        self.counter = 0
        # Test customers sign in by username: unique in the tenant (uq_sbx_customer_tenant_id).
        self.usernames: set[str] = set()

    def pid(self, prefix: str) -> str:
        """Return the next public id, stable for this tenant and seed."""
        self.counter += 1
        return public_id(prefix, self.tenant_id, self.seed, self.counter)

    def party(self, name: str, kind: str, structure: str, email: str | None = None) -> Party:
        """Create a party with a UK address and contact details."""
        party = Party(
            tenant_id=self.tenant_id,
            public_id=self.pid("pty_"),
            party_number=f"{self.rng.randrange(10**7, 10**8)}",
            name=name,
            party_type=kind,
            legal_structure=structure,
            email=email or self.fake.email(),
            phone=f"+44-7{self.rng.randrange(10**8, 10**9)}",
            address_line=self.fake.street_address().replace("\n", ", ")[:140],
            town=self.fake.city()[:35],
            post_code=self.fake.postcode(),
            country="GB",
        )
        self.session.add(party)
        self.session.flush()
        return party

    def customer(self, kind: str, name: str | None = None) -> Customer:
        """Create a test customer who can log in, with their own party."""
        person = name or f"{self.fake.first_name()} {self.fake.last_name()}"
        words = [w for w in person.lower().replace("&", " ").split() if w not in ("ltd", "plc")]
        base = ".".join("".join(ch for ch in w if ch.isalnum()) for w in words[:3])
        structure = "UK.OBIE.PrivateLimitedCompany" if kind == "Business" else "UK.OBIE.Individual"
        party = self.party(person, "Sole", structure)
        username, suffix = base[:60], 1
        while username in self.usernames:  # two customers of the same name: barry.martin2
            suffix += 1
            username = f"{base[:58]}{suffix}"
        self.usernames.add(username)
        customer = Customer(
            tenant_id=self.tenant_id,
            public_id=self.pid("cus_"),
            username=username,
            password=f"{self.fake.word()}-{self.rng.randrange(1000, 10000)}",
            name=person,
            kind=kind,
            party_pk=party.pk,
        )
        self.session.add(customer)
        self.session.flush()
        return customer

    def account(
        self,
        customer: Customer,
        *,
        subtype: str,
        product: str,
        nickname: str,
        behaviour: Behaviour,
        currency: str = "GBP",
        limit: int = 0,
        opening: int = 0,
        habits: Habits | None = None,
        opened_days_ago: int | None = None,
    ) -> Plan:
        """Create a customer account and its history plan."""
        sort_code = f"60{self.rng.randrange(10**3, 10**4)}"
        number = f"{self.rng.randrange(10**7, 10**8)}"
        pan = None
        if subtype == "CreditCard":
            partial = f"400000{self.rng.randrange(10**8, 10**9)}"
            pan = partial + luhn_check_digit(partial)
        opened = self.start
        if opened_days_ago is not None:
            opened = max(self.start, self.anchor.date() - dt.timedelta(days=opened_days_ago))
        account = Account(
            tenant_id=self.tenant_id,
            public_id=self.pid("acc_"),
            customer_pk=customer.pk,
            currency=currency,
            account_type=customer.kind,
            account_subtype=subtype,
            product_code=product,
            nickname=nickname,
            opening_date=opened,
            status="Enabled",
            sort_code=sort_code,
            account_number=number,
            iban=uk_iban(sort_code, number),
            pan=pan,
            credit_limit=limit,
            booked_balance=0,
            held_amount=0,
        )
        self.session.add(account)
        self.session.flush()
        plan = Plan(
            index=len(self.plans),
            pk=account.pk,
            currency=currency,
            credit_limit=limit,
            behaviour=behaviour,
            opening_amount=opening,
            opening_date=opened,
            habits=habits or Habits(),
        )
        self.plans.append(plan)
        self.accounts.append(account)
        return plan

    def scan(self) -> str:
        """A counterparty's sort code and account number at another bank."""
        return f"{self.rng.randrange(10**13, 10**14)}"

    def payee(self, info: str, ref: str, btc: tuple[str, str], code: str, name: str) -> Detail:
        """Detail of a payment to or from an external UK account."""
        return transfer(info, ref, btc, code, name, SCAN, self.scan())

    def standing_order(
        self, plan: Plan, detail: Detail, amount: int, first: dt.date,
        frequency: str = "MNTH", creditor: Plan | None = None,
    ) -> None:  # fmt: skip
        """Record the standing order that produces a recurring history entry."""
        account = self.accounts[plan.index]
        target = self.accounts[creditor.index] if creditor else None
        name = detail[7] or (target.nickname if target else detail[1])
        ident = detail[9] or (f"{target.sort_code}{target.account_number}" if target else "")
        self.session.add(
            StandingOrder(
                account_pk=account.pk,
                public_id=self.pid("sto_"),
                frequency=frequency,
                reference=detail[0] or detail[1][:18],
                amount=amount,
                currency=plan.currency,
                creditor_name=name,
                creditor_scheme=SCAN,
                creditor_identification=ident,
                creditor_account_pk=target.pk if target else None,
                first_payment_date=first,
                next_payment_date=next_after(
                    frequency, first, self.anchor.date() - dt.timedelta(1)
                ),
                status="Active",
            )
        )
        self.session.add(
            Beneficiary(
                account_pk=account.pk,
                public_id=self.pid("ben_"),
                reference=detail[0],
                name=name,
                scheme=SCAN,
                identification=ident,
                trusted=True,
            )
        )

    def direct_debit(self, plan: Plan, name: str, reference: str) -> None:
        """Record a direct debit mandate."""
        self.session.add(
            DirectDebit(
                account_pk=self.accounts[plan.index].pk,
                public_id=self.pid("ddm_"),
                mandate_reference=reference,
                name=name[:70],
                status="Active",
            )
        )

    def first_of_month(self, plan: Plan, day: int) -> dt.date:
        """The first day-of-month ``day`` on or after the account opened."""
        first = plan.opening_date.replace(day=day) if plan.opening_date.day <= day else None
        if first is None:
            month = plan.opening_date.replace(day=1) + dt.timedelta(days=32)
            first = month.replace(day=day)
        return first
