"""The rules of account-access consents (gateway.consents.account_access), against the in-memory
bank: what a consent request may ask for, and what a token that carries a consent may read. No
database, no request: the rules are plain functions over plain values."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

import pytest

from gateway.consents import account_access as rules
from gateway.consents.services import AUTHORISED, AWAITING, REJECTED, Snapshot
from gateway.core.memory import MemoryBank
from gateway.edge.errors import ApiError

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


def _code(raised: pytest.ExceptionInfo[ApiError]) -> tuple[int, str, str | None]:
    detail = raised.value.details[0]
    return raised.value.status, detail.code, detail.path


@pytest.mark.parametrize(
    ("permissions", "message"),
    [
        (["ReadBalances"], "must include ReadAccountsBasic or ReadAccountsDetail"),
        (["ReadAccountsBasic", "ReadTransactionsBasic"], "Transaction permissions need"),
        (["ReadAccountsBasic", "ReadTransactionsDebits"], "Transaction permissions need"),
        (["ReadAccountsBasic", "ReadAccountsBasic"], "repeated"),
    ],
)
def test_a_consent_request_that_breaks_a_permission_rule_is_refused(
    permissions: list[str], message: str
) -> None:
    with pytest.raises(ApiError, match=message) as raised:
        rules.check_request({"Permissions": permissions}, NOW)
    assert _code(raised) == (400, "U002", "Data.Permissions")


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"ExpirationDateTime": NOW}, "Data.ExpirationDateTime"),
        ({"ExpirationDateTime": NOW - dt.timedelta(days=1)}, "Data.ExpirationDateTime"),
        (
            {"TransactionFromDateTime": NOW, "TransactionToDateTime": NOW - dt.timedelta(1)},
            "Data.TransactionFromDateTime",
        ),
    ],
)
def test_dates_that_cannot_hold_are_refused_on_the_banks_clock(
    data: dict[str, Any], path: str
) -> None:
    with pytest.raises(ApiError) as raised:
        rules.check_request({"Permissions": ["ReadAccountsDetail"], **data}, NOW)
    assert _code(raised) == (400, "U003", path)


def test_a_consent_request_within_the_rules_passes() -> None:
    rules.check_request(
        {
            "Permissions": ["ReadAccountsDetail", "ReadTransactionsDetail",
                            "ReadTransactionsCredits"],
            "ExpirationDateTime": NOW + dt.timedelta(days=90),
            "TransactionFromDateTime": NOW - dt.timedelta(days=30),
            "TransactionToDateTime": NOW,
        },
        NOW,
    )  # fmt: skip


class World:
    """A customer with three accounts in the in-memory bank, two of them consented."""

    def __init__(self) -> None:
        self.bank = MemoryBank(clock=NOW)
        customer = self.bank.add_customer("Ada Lovelace", "ada", "pw")
        self.accounts = [self.bank.open_account(customer, "100.00") for _ in range(3)]
        other = self.bank.add_customer("Grace Hopper", "grace", "pw")
        self.elsewhere = self.bank.open_account(other, "5.00")
        self.customer = customer

    def consent(self, *, status: str = AUTHORISED, expires: dt.datetime | None = None,
                permissions: tuple[str, ...] = ("ReadAccountsDetail",)) -> Snapshot:  # fmt: skip
        # Shared in the order the customer picked them: the last first.
        shared = (self.accounts[2].id, self.accounts[0].id)
        return Snapshot("aac-1", "cli_a", "t", "accounts", status, permissions,
                        MappingProxyType({}), self.customer.id, shared, expires)  # fmt: skip

    def authorise(self, consent: Snapshot | None, any_of: tuple[str, ...] = ("ReadAccountsDetail",),
                  **kwargs: Any) -> rules.Grant:  # fmt: skip
        return rules.authorise(consent, lambda: self.bank, any_of, **kwargs)


@pytest.fixture
def world() -> World:
    return World()


def test_an_authorised_consent_reads_its_accounts_in_the_order_shared(world: World) -> None:
    granted = world.authorise(world.consent(), list_accounts=True)
    assert granted.now == NOW
    assert [a.id for a in granted.accounts()] == [world.accounts[2].id, world.accounts[0].id]
    assert granted.account(world.accounts[0].id) == world.accounts[0]


@pytest.mark.parametrize("status", [AWAITING, REJECTED, "CANC"])
def test_a_consent_not_authorised_reads_nothing(world: World, status: str) -> None:
    with pytest.raises(ApiError, match=f"The consent is {status}") as raised:
        world.authorise(world.consent(status=status))
    assert _code(raised)[:2] == (403, "U009")


def test_a_consent_expires_on_the_banks_clock_not_this_machines(world: World) -> None:
    consent = world.consent(expires=NOW + dt.timedelta(hours=1))
    assert world.authorise(consent).now == NOW
    world.bank.advance(dt.timedelta(hours=2))
    with pytest.raises(ApiError, match="The consent is EXPD") as raised:
        world.authorise(consent)
    assert _code(raised)[:2] == (403, "U009")


def test_a_permission_the_consent_lacks_is_403(world: World) -> None:
    with pytest.raises(ApiError, match="ReadBalances") as raised:
        world.authorise(world.consent(), ("ReadBalances",))
    assert _code(raised)[:2] == (403, "U042")
    granted = world.authorise(world.consent())
    with pytest.raises(ApiError) as raised:
        granted.require(("ReadTransactionsBasic", "ReadTransactionsDetail"))
    assert _code(raised)[:2] == (403, "U042")


def test_a_token_without_a_consent_reads_nothing(world: World) -> None:
    with pytest.raises(ApiError, match="carries no account-access consent") as raised:
        world.authorise(None)
    assert _code(raised)[:2] == (403, "U042")


@pytest.mark.parametrize("which", ["unshared", "another customer's", "never issued"])
def test_an_account_the_consent_does_not_cover_is_an_id_that_does_not_exist(
    world: World, which: str
) -> None:
    account_id = {
        "unshared": world.accounts[1].id,
        "another customer's": world.elsewhere.id,
        "never issued": "acc_nosuch",
    }[which]
    granted = world.authorise(world.consent())
    for read in (granted.account, granted.covers):
        with pytest.raises(ApiError) as raised:
            read(account_id)
        assert _code(raised)[:2] == (400, "U011")


def test_a_kept_listing_is_read_instead_of_the_bank(world: World) -> None:
    kept = (tuple(world.accounts[:1]), NOW + dt.timedelta(minutes=5))

    def no_bank() -> Any:
        raise AssertionError("the bank was asked")

    granted = rules.authorise(world.consent(), no_bank, ("ReadAccountsDetail",), listing=kept)
    assert granted.now == kept[1]
    # Only what the consent shares, of what was kept.
    assert [a.id for a in granted.accounts()] == [world.accounts[0].id]
