"""Property test of the ledger: random sequences of operations never break its invariants.

A Hypothesis state machine drives credits, debits, transfers, holds and reversals on a few
customer accounts in GBP, EUR and JPY with random limits, next to a plain Python model of the
balances. After every step it checks, with SQL on the stored rows:

* every journal balances per currency, and so does the tenant as a whole;
* each customer account's ``booked_balance`` is the sum of its postings, ``held_amount`` the sum of
  its active holds, and neither breaks the limit (``booked - held + limit >= 0``);
* ``balance_after`` is the running balance of the account's postings, so the latest one equals
  ``booked_balance``; internal legs have none;
* the stored balances, holds and row counts are the model's: an operation the ledger refuses
  (``InsufficientFunds``, ``InvalidInstruction``) changed nothing, and it refuses exactly the
  operations the model says break the limit.

Every example works in a tenant of its own and commits after each step, so examples never see each
other's rows on either database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.core.errors import InsufficientFunds, InvalidInstruction
from gateway.store.database import make_engine
from sandbox import ledger
from sandbox.ledger import AlreadyReversed, Leg
from sandbox.models import Account, Hold, Journal
from tests.common import services
from tests.common.factories import NOW, clearing, detail, make_account, make_tenant

CURRENCIES = ("GBP", "EUR", "JPY")
amounts = st.integers(min_value=1, max_value=20_000)
limits = st.sampled_from([0, 0, 1, 500, 5_000, 25_000])


@dataclass
class Booked:
    """What the model knows of a journal: its legs (account pk, amount) and whether reversed."""

    legs: list[tuple[int, int]]
    reversed: bool = False


@dataclass
class Model:
    """The expected state of one tenant's ledger."""

    limit: dict[int, int] = field(default_factory=dict)
    booked: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    held: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # hold pk -> (account pk, amount, status)
    holds: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    journals: dict[int, Booked] = field(default_factory=dict)
    postings: int = 0

    def available(self, account_pk: int) -> int:
        return self.booked[account_pk] - self.held[account_pk] + self.limit[account_pk]

    def allows(self, net: dict[int, int]) -> bool:
        """Tell whether the net movements per customer account keep every one within its limit."""
        return all(amount >= 0 or self.available(pk) + amount >= 0 for pk, amount in net.items())


def customer_net(legs: list[tuple[int, int]], customers: set[int]) -> dict[int, int]:
    net: dict[int, int] = defaultdict(int)
    for account_pk, amount in legs:
        if account_pk in customers:
            net[account_pk] += amount
    return net


def brief(legs: list[Leg]) -> list[tuple[int, int, str]]:
    return [(leg.account_pk, leg.amount, leg.currency) for leg in legs]


def ledger_machine(engine: Engine, outcomes: Counter[str]) -> type[RuleBasedStateMachine]:
    """The state machine class, bound to the test database ``engine``; it counts how operations
    ended in ``outcomes``."""

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.tenant_id = f"p-{uuid.uuid4().hex[:12]}"
            self.session = Session(engine, expire_on_commit=False)
            self.model = Model()
            self.accounts: list[Account] = []
            self.by_pk: dict[int, Account] = {}
            self.clearing: dict[str, Account] = {}
            self.fees: dict[str, Account] = {}
            self.hold_rows: dict[int, Hold] = {}

        # -- set-up ---------------------------------------------------------------------------

        @initialize(
            gbp=st.lists(limits, min_size=2, max_size=3),
            eur=st.lists(limits, min_size=1, max_size=2),
            jpy=st.lists(limits, min_size=1, max_size=1),
        )
        def open_accounts(self, gbp: list[int], eur: list[int], jpy: list[int]) -> None:
            make_tenant(self.session, self.tenant_id)
            for currency, currency_limits in zip(CURRENCIES, (gbp, eur, jpy), strict=True):
                self.clearing[currency] = clearing(self.session, self.tenant_id, currency)
                self.fees[currency] = ledger.internal_account(
                    self.session, self.tenant_id, "fees", currency
                )
                for limit in currency_limits:
                    account = make_account(
                        self.session, self.tenant_id, currency=currency, credit_limit=limit
                    )
                    self.accounts.append(account)
                    self.by_pk[account.pk] = account
                    self.model.limit[account.pk] = limit
            self.session.commit()

        def teardown(self) -> None:
            self.session.rollback()
            self.session.close()

        # -- helpers --------------------------------------------------------------------------

        def outcome(self, what: str) -> None:
            event(what)
            outcomes[what] += 1

        @property
        def customers(self) -> set[int]:
            return set(self.model.limit)

        def book(
            self, what: str, legs: list[Leg], attempt: Callable[[], Journal], *, expect_ok: bool
        ) -> int | None:
            """Run ``attempt`` (which books ``legs``); check it succeeds exactly when the model
            says so, and record the journal in the model. Returns the journal pk or None."""
            try:
                journal = attempt()
            except InsufficientFunds:
                self.session.commit()
                self.outcome(f"{what}: refused")
                assert not expect_ok, f"refused although within limits: {brief(legs)}"
                return None
            self.session.commit()
            self.outcome(f"{what}: booked")
            assert expect_ok, f"booked although it breaks a limit: {brief(legs)}"
            pk = journal.pk
            pairs = [(leg.account_pk, leg.amount) for leg in legs]
            self.model.journals[pk] = Booked(pairs)
            for account_pk, amount in customer_net(pairs, self.customers).items():
                self.model.booked[account_pk] += amount
            self.model.postings += len(legs)
            return pk

        def post(self, legs: list[Leg], kind: str) -> int | None:
            net = customer_net([(leg.account_pk, leg.amount) for leg in legs], self.customers)
            return self.book(
                kind,
                legs,
                lambda: ledger.post(
                    self.session,
                    tenant_id=self.tenant_id,
                    kind=kind,
                    legs=legs,
                    booked_at=NOW,
                ),
                expect_ok=self.model.allows(net),
            )

        def draw_account(
            self, data: st.DataObject, label: str, currency: str | None = None
        ) -> Account:
            pks = [a.pk for a in self.accounts if currency in (None, a.currency)]
            pk = data.draw(st.sampled_from(pks), label=f"{label} pk")
            return self.by_pk[pk]

        def draw_amount(self, data: st.DataObject, available: int, label: str = "amount") -> int:
            """Any amount, or one at the edge of what ``available`` allows."""
            edge = st.integers(min_value=max(1, available - 2), max_value=max(1, available + 2))
            return data.draw(st.one_of(amounts, edge), label=label)

        def draw_hold(self, data: st.DataObject) -> int:
            """Mostly an active hold; sometimes any, ended ones included."""
            active = sorted(
                pk for pk, (_, _, status) in self.model.holds.items() if status == "Active"
            )
            every = st.sampled_from(sorted(self.hold_rows))
            return data.draw(
                st.one_of(st.sampled_from(active), st.sampled_from(active), every)
                if active
                else every,
                label="hold pk",
            )

        # -- operations -----------------------------------------------------------------------

        @rule(data=st.data(), amount=amounts)
        def credit(self, data: st.DataObject, amount: int) -> None:
            account = self.draw_account(data, "account")
            source = self.clearing[account.currency]
            self.post(
                [
                    Leg(source.pk, -amount, account.currency, detail("Credit in")),
                    Leg(account.pk, amount, account.currency, detail("Credit in")),
                ],
                "credit",
            )

        @rule(data=st.data())
        def debit(self, data: st.DataObject) -> None:
            account = self.draw_account(data, "account")
            amount = self.draw_amount(data, self.model.available(account.pk))
            target = self.clearing[account.currency]
            self.post(
                [
                    Leg(account.pk, -amount, account.currency, detail("Payment out")),
                    Leg(target.pk, amount, account.currency, detail("Payment out")),
                ],
                "payment",
            )

        @rule(data=st.data(), fee=st.integers(min_value=1, max_value=3))
        def debit_with_fee(self, data: st.DataObject, fee: int) -> None:
            """Two legs on the same customer account in one journal (payment and its fee)."""
            account = self.draw_account(data, "account")
            amount = self.draw_amount(data, self.model.available(account.pk) - fee)
            currency = account.currency
            self.post(
                [
                    Leg(account.pk, -amount, currency, detail("Payment out")),
                    Leg(self.clearing[currency].pk, amount, currency, detail("Payment out")),
                    Leg(account.pk, -fee, currency, detail("Fee")),
                    Leg(self.fees[currency].pk, fee, currency, detail("Fee")),
                ],
                "payment with fee",
            )

        @rule(data=st.data())
        def transfer(self, data: st.DataObject) -> None:
            source = self.draw_account(data, "source")
            # The same account on both sides is a legal, if odd, journal: net zero.
            target = self.draw_account(data, "target", source.currency)
            amount = self.draw_amount(data, self.model.available(source.pk))
            self.post(
                [
                    Leg(source.pk, -amount, source.currency, detail("Transfer out")),
                    Leg(target.pk, amount, target.currency, detail("Transfer in")),
                ],
                "transfer",
            )

        @rule(data=st.data(), amount=amounts)
        def malformed(self, data: st.DataObject, amount: int) -> None:
            """Journals the ledger must refuse whatever the balances: nothing may change."""
            a = self.draw_account(data, "a")
            b = self.draw_account(data, "b")
            c = next(x for x in self.accounts if x.currency != a.currency)
            other = c.currency
            d = detail()
            cases = {
                "unbalanced": [
                    Leg(a.pk, -amount, a.currency, d),
                    Leg(b.pk, amount + 1, a.currency, d),
                ],
                "wrong currency": [Leg(a.pk, amount, other, d), Leg(b.pk, -amount, other, d)],
                "balanced only in total": [
                    Leg(a.pk, amount, a.currency, d),
                    Leg(c.pk, -amount, other, d),
                ],
                "one leg": [Leg(a.pk, amount, a.currency, d)],
            }
            legs = cases[data.draw(st.sampled_from(sorted(cases)), label="case")]
            try:
                ledger.post(
                    self.session, tenant_id=self.tenant_id, kind="bad", legs=legs, booked_at=NOW
                )
            except InvalidInstruction:
                pass
            else:
                raise AssertionError(f"malformed journal booked: {brief(legs)}")
            finally:
                self.session.commit()

        @rule(data=st.data())
        def place_hold(self, data: st.DataObject) -> None:
            account = self.draw_account(data, "account")
            amount = self.draw_amount(data, self.model.available(account.pk))
            expect_ok = self.model.available(account.pk) >= amount
            try:
                hold = ledger.place_hold(
                    self.session,
                    account,
                    amount,
                    created_at=NOW,
                    expires_at=NOW + dt.timedelta(days=7),
                    information="Card authorisation",
                )
            except InsufficientFunds:
                self.session.commit()
                self.outcome("hold: refused")
                assert not expect_ok, "hold refused although within limits"
                return
            self.session.commit()
            self.outcome("hold: placed")
            assert expect_ok, "hold placed although it breaks the limit"
            self.hold_rows[hold.pk] = hold
            self.model.holds[hold.pk] = (account.pk, amount, "Active")
            self.model.held[account.pk] += amount

        @precondition(lambda self: bool(self.hold_rows))
        @rule(data=st.data())
        def release_hold(self, data: st.DataObject) -> None:
            pk = self.draw_hold(data)
            account_pk, amount, status = self.model.holds[pk]
            try:
                ledger.release_hold(self.session, self.hold_rows[pk])
            except InvalidInstruction:
                self.session.commit()
                self.outcome("release: refused")
                assert status != "Active", "an active hold could not be released"
                return
            self.session.commit()
            self.outcome("release: released")
            assert status == "Active", f"a {status} hold was released"
            self.model.holds[pk] = (account_pk, amount, "Released")
            self.model.held[account_pk] -= amount

        @precondition(lambda self: bool(self.hold_rows))
        @rule(data=st.data())
        def settle_hold(self, data: st.DataObject) -> None:
            pk = self.draw_hold(data)
            account_pk, amount, status = self.model.holds[pk]
            # The amount held, another one (a tip, a partial capture), or what is just within
            # or just beyond what the account allows once the hold is given back.
            room = self.model.available(account_pk) + amount
            settled = data.draw(
                st.one_of(
                    st.just(amount),
                    st.integers(min_value=max(1, amount - 5), max_value=amount + 5),
                    st.sampled_from([room, room + 1]),
                ),
                label="settled amount",
            )
            currency = self.hold_rows[pk].currency
            counter = self.clearing[currency]
            legs = [
                Leg(account_pk, -settled, currency, detail("Card")),
                Leg(counter.pk, settled, currency, detail("Card")),
            ]
            if status != "Active":
                try:
                    ledger.settle_hold(
                        self.session,
                        self.hold_rows[pk],
                        tenant_id=self.tenant_id,
                        counter_account_pk=counter.pk,
                        booked_at=NOW,
                        detail=detail("Card"),
                        amount=settled,
                    )
                except InvalidInstruction:
                    return
                finally:
                    self.session.commit()
                raise AssertionError(f"a {status} hold was settled")
            # Settling gives the hold back and books the debit: it fits iff the debit fits
            # once the hold is gone.
            expect_ok = room >= settled
            journal_pk = self.book(
                "settle",
                legs,
                lambda: ledger.settle_hold(
                    self.session,
                    self.hold_rows[pk],
                    tenant_id=self.tenant_id,
                    counter_account_pk=counter.pk,
                    booked_at=NOW,
                    detail=detail("Card"),
                    amount=settled,
                ),
                expect_ok=expect_ok,
            )
            if journal_pk is not None:
                self.model.holds[pk] = (account_pk, amount, "Settled")
                self.model.held[account_pk] -= amount
                stored = self.session.execute(
                    text("SELECT settled_journal_pk FROM sbx_hold WHERE pk = :pk"), {"pk": pk}
                ).scalar_one()
                assert stored == journal_pk

        @precondition(lambda self: bool(self.model.journals))
        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            pk = data.draw(st.sampled_from(sorted(self.model.journals)), label="journal")
            original = self.model.journals[pk]
            legs = [(account_pk, -amount) for account_pk, amount in original.legs]
            try:
                reversal = ledger.reverse(
                    self.session, tenant_id=self.tenant_id, journal_pk=pk, booked_at=NOW, memo="x"
                )
            except AlreadyReversed:
                self.session.commit()
                self.outcome("reverse: already reversed")
                assert original.reversed, "a journal never reversed was refused as reversed"
                return
            except InsufficientFunds:
                self.session.commit()
                self.outcome("reverse: refused")
                assert not original.reversed, "reversed twice"
                assert not self.model.allows(customer_net(legs, self.customers))
                return
            self.session.commit()
            self.outcome("reverse: booked")
            assert not original.reversed, "reversed twice"
            assert self.model.allows(customer_net(legs, self.customers))
            assert reversal.reverses_pk == pk
            original.reversed = True
            self.model.journals[reversal.pk] = Booked(legs)
            for account_pk, amount in customer_net(legs, self.customers).items():
                self.model.booked[account_pk] += amount
            self.model.postings += len(legs)

        # -- invariants -----------------------------------------------------------------------

        def rows(self, sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in self.session.execute(text(sql), {"t": self.tenant_id})]

        @invariant()
        def journals_balance(self) -> None:
            unbalanced = self.rows(
                "SELECT p.journal_pk, p.currency, SUM(p.amount) FROM sbx_posting p "
                "JOIN sbx_journal j ON j.pk = p.journal_pk WHERE j.tenant_id = :t "
                "GROUP BY p.journal_pk, p.currency HAVING SUM(p.amount) <> 0"
            )
            assert unbalanced == []
            short = self.rows(
                "SELECT j.pk, COUNT(p.pk) FROM sbx_journal j "
                "LEFT JOIN sbx_posting p ON p.journal_pk = j.pk WHERE j.tenant_id = :t "
                "GROUP BY j.pk HAVING COUNT(p.pk) < 2"
            )
            assert short == []
            totals = self.rows(
                "SELECT a.currency, SUM(p.amount) FROM sbx_posting p "
                "JOIN sbx_account a ON a.pk = p.account_pk WHERE a.tenant_id = :t "
                "GROUP BY a.currency HAVING SUM(p.amount) <> 0"
            )
            assert totals == []
            mismatched = self.rows(
                "SELECT p.pk FROM sbx_posting p JOIN sbx_account a ON a.pk = p.account_pk "
                "WHERE a.tenant_id = :t AND p.currency <> a.currency"
            )
            assert mismatched == []

        @invariant()
        def accounts_agree_with_postings_and_holds(self) -> None:
            stored = {
                int(pk): (int(booked), int(held), int(limit), code)
                for pk, booked, held, limit, code in self.rows(
                    "SELECT pk, booked_balance, held_amount, credit_limit, internal_code "
                    "FROM sbx_account WHERE tenant_id = :t"
                )
            }
            postings: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
            for account_pk, amount, after in self.rows(
                "SELECT p.account_pk, p.amount, p.balance_after FROM sbx_posting p "
                "JOIN sbx_account a ON a.pk = p.account_pk WHERE a.tenant_id = :t "
                "ORDER BY p.pk"
            ):
                postings[int(account_pk)].append((int(amount), after))
            active: dict[int, int] = defaultdict(int)
            for account_pk, amount in self.rows(
                "SELECT h.account_pk, h.amount FROM sbx_hold h "
                "JOIN sbx_account a ON a.pk = h.account_pk "
                "WHERE a.tenant_id = :t AND h.status = 'Active'"
            ):
                active[int(account_pk)] += int(amount)

            for pk, (booked, held, limit, code) in stored.items():
                lines = postings[pk]
                if code is not None:
                    # Internal accounts: no running balance, no holds.
                    assert (booked, held) == (0, 0)
                    assert all(after is None for _, after in lines)
                    continue
                assert booked == sum(amount for amount, _ in lines)
                assert held == active[pk]
                assert booked - held + limit >= 0
                running = list(accumulate(amount for amount, _ in lines))
                assert [after for _, after in lines] == running
                if lines:
                    assert lines[-1][1] == booked
                # ... and the model agrees.
                assert (booked, held, limit) == (
                    self.model.booked[pk],
                    self.model.held[pk],
                    self.model.limit[pk],
                )

        @invariant()
        def nothing_else_was_written(self) -> None:
            ((journals, postings),) = self.rows(
                "SELECT (SELECT COUNT(*) FROM sbx_journal WHERE tenant_id = :t), "
                "(SELECT COUNT(*) FROM sbx_posting p JOIN sbx_journal j ON j.pk = p.journal_pk "
                "WHERE j.tenant_id = :t)"
            )
            assert (journals, postings) == (len(self.model.journals), self.model.postings)
            holds = dict(
                self.rows(
                    "SELECT h.pk, h.status FROM sbx_hold h "
                    "JOIN sbx_account a ON a.pk = h.account_pk WHERE a.tenant_id = :t"
                )
            )
            assert holds == {pk: status for pk, (_, _, status) in self.model.holds.items()}
            reversed_pks = {
                pk
                for (pk,) in self.rows(
                    "SELECT reverses_pk FROM sbx_journal "
                    "WHERE tenant_id = :t AND reverses_pk IS NOT NULL"
                )
            }
            assert reversed_pks == {pk for pk, j in self.model.journals.items() if j.reversed}

    return LedgerMachine


@pytest.fixture(scope="module")
def ledger_engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of its own, of the kind the suite runs on (a fresh PostgreSQL schema or an
    SQLite file): the invariant queries then scan this test's rows only, not every tenant the
    rest of the suite created (whose fresh rows PostgreSQL has no statistics for yet)."""
    if database_url.startswith("postgresql"):
        with services.postgres_schema(services.postgres_url()) as url:
            engine = make_engine(url)
            migrate.upgrade(engine)
            yield engine
            engine.dispose()
        return
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.sqlite3'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_ledger_invariants_hold_for_any_sequence_of_operations(ledger_engine: Engine) -> None:
    engine = ledger_engine
    outcomes: Counter[str] = Counter()
    run_state_machine_as_test(
        ledger_machine(engine, outcomes),
        settings=settings(
            max_examples=100,
            stateful_step_count=30,
            deadline=None,
            database=None,
            # Derandomized: the same sequences every run, so that the coverage check below is a
            # property of the generator, not of luck (and CI never flakes on it).
            derandomize=True,
            # The explain phase traces every line run, SQLAlchemy's included: minutes, not seconds.
            phases=[phase for phase in Phase if phase is not Phase.explain],
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    # The examples reached every kind of outcome (a weak generator would pass vacuously).
    expected = {
        "credit: booked",
        "payment: booked",
        "payment: refused",
        "payment with fee: booked",
        "transfer: booked",
        "transfer: refused",
        "hold: placed",
        "hold: refused",
        "release: released",
        "release: refused",
        "settle: booked",
        "reverse: booked",
        "reverse: already reversed",
    }
    assert expected <= set(outcomes), f"never reached: {expected - set(outcomes)}"
