"""The rules of funds-confirmation consents (gateway.consents.funds_confirmation), against the
in-memory bank: what a consent request must hold, which account it names, and what a token that
carries an authorised consent is told. No database, no request: plain functions over plain
values (recording an answer, and its duplicate references, is tested through the API)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.consents import funds_confirmation as funds
from gateway.consents.services import AUTHORISED, AWAITING, CANCELLED, REJECTED, Snapshot
from gateway.core.accounts import Account
from gateway.core.memory import MemoryBank
from gateway.core.values import AccountIdentifier
from gateway.edge.errors import ApiError

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
SCAN = "UK.OBIE.SortCodeAccountNumber"
# A valid IBAN (the ISO 13616 example) and a card number.
IBAN = "GB29NWBK60161331926819"
PAN = "4000001234567899"


def _code(raised: pytest.ExceptionInfo[ApiError]) -> tuple[int, str, str | None]:
    detail = raised.value.details[0]
    return raised.value.status, detail.code, detail.path


def _request(scheme: str = SCAN, identification: str = "40000012345678", **data: Any) -> Any:
    return {"DebtorAccount": {"SchemeName": scheme, "Identification": identification}, **data}


# -- the consent request -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "identification"),
    [(SCAN, "40000012345678"), ("UK.OBIE.IBAN", IBAN),
     ("UK.OBIE.IBAN", "gb29 nwbk 6016 1331 9268 19"), ("UK.OBIE.PAN", PAN)],
)  # fmt: skip
def test_an_account_named_in_a_scheme_of_the_bank_passes(scheme: str, identification: str) -> None:
    funds.check_consent_request(_request(scheme, identification), NOW)
    funds.check_consent_request(
        _request(scheme, identification, ExpirationDateTime=NOW + dt.timedelta(seconds=1)), NOW
    )


@pytest.mark.parametrize("scheme", ["UK.OBIE.BBAN", "UK.OBIE.Paym", "UK.OBIE.Wallet", "IBAN"])
def test_a_scheme_that_names_no_account_of_the_bank_is_u027(scheme: str) -> None:
    with pytest.raises(ApiError, match=scheme) as raised:
        funds.check_consent_request(_request(scheme), NOW)
    assert _code(raised) == (400, "U027", "Data.DebtorAccount.SchemeName")


@pytest.mark.parametrize(
    ("scheme", "identification"),
    [
        (SCAN, "4000001234567"),  # 13 digits
        (SCAN, "40-00-00 12345678"),
        (SCAN, "\u0664\u0660" * 7),  # digits, but not the ASCII ones
        ("UK.OBIE.IBAN", "GB28NWBK60161331926819"),  # check digits off by one
        ("UK.OBIE.IBAN", "GB29NWBK"),
        ("UK.OBIE.PAN", "40000012345678991234"),  # 20 digits
        ("UK.OBIE.PAN", "4000x01234567899"),
    ],
)
def test_an_identification_that_cannot_be_one_in_its_scheme_is_u021(
    scheme: str, identification: str
) -> None:
    with pytest.raises(ApiError) as raised:
        funds.check_consent_request(_request(scheme, identification), NOW)
    assert _code(raised) == (400, "U021", "Data.DebtorAccount.Identification")


@pytest.mark.parametrize("expiry", [NOW, NOW - dt.timedelta(days=1)])
def test_an_expiry_not_in_the_future_on_the_banks_clock_is_u003(expiry: dt.datetime) -> None:
    with pytest.raises(ApiError) as raised:
        funds.check_consent_request(_request(ExpirationDateTime=expiry), NOW)
    assert _code(raised) == (400, "U003", "Data.ExpirationDateTime")


# -- which account a consent names ---------------------------------------------------------------


def _account(*identifiers: AccountIdentifier) -> Account:
    return Account("acc_1", "cus_1", "GBP", "Personal", "CurrentAccount", "Everyday", NOW.date(),
                   "Enabled", "PCA", "Current Account", identifiers)  # fmt: skip


def test_an_account_is_named_by_any_of_its_identifications() -> None:
    account = _account(
        AccountIdentifier(SCAN, "40000012345678"), AccountIdentifier("UK.OBIE.IBAN", IBAN)
    )
    other = _account(AccountIdentifier(SCAN, "40000087654321"))
    for named in (_request(), _request("UK.OBIE.IBAN", "gb29 NWBK 6016 1331 9268 19")):
        assert funds.owned_account([other, account], named["DebtorAccount"]) is account
    # The same digits in another scheme, or another account's: none of the customer's.
    assert funds.owned_account([account], _request("UK.OBIE.PAN", "40000012345678")) is None
    assert funds.owned_account([other], _request()["DebtorAccount"]) is None
    assert funds.owned_account([], _request()["DebtorAccount"]) is None


def test_a_secondary_identification_must_be_the_accounts_and_a_name_is_not_compared() -> None:
    roll = _account(AccountIdentifier(SCAN, "40000012345678", "A Saver", "ROLL-1"))
    named = {"SchemeName": SCAN, "Identification": "40000012345678", "Name": "Someone Else"}
    assert funds.owned_account([roll], named) is roll
    assert funds.owned_account([roll], {**named, "SecondaryIdentification": "ROLL-1"}) is roll
    assert funds.owned_account([roll], {**named, "SecondaryIdentification": "ROLL-2"}) is None
    plain = _account(AccountIdentifier(SCAN, "40000012345678"))
    assert funds.owned_account([plain], {**named, "SecondaryIdentification": "ROLL-1"}) is None


# -- what a token with a consent is told ----------------------------------------------------------


class World:
    """A customer with a GBP account (100.00, an overdraft of 50.00) in the in-memory bank."""

    def __init__(self, balance: str = "100.00", credit_limit: str = "50.00") -> None:
        self.bank = MemoryBank(clock=NOW)
        customer = self.bank.add_customer("Ada Lovelace", "ada", "pw")
        self.account = self.bank.open_account(customer, balance, credit_limit=credit_limit)
        self.customer = customer

    def consent(self, *, status: str = AUTHORISED, kind: str = funds.KIND,
                expires: dt.datetime | None = None) -> Snapshot:  # fmt: skip
        return Snapshot("cof-1", "cli_a", "t", kind, status, (), MappingProxyType({}),
                        self.customer.id, (self.account.id,), expires)  # fmt: skip

    def grant(self, consent: Snapshot | None = None, consent_id: str = "cof-1") -> funds.Grant:
        return funds.authorise(consent or self.consent(), consent_id, lambda: self.bank)


@pytest.fixture
def world() -> World:
    return World()


def test_funds_are_available_up_to_the_balance_and_the_credit_line(world: World) -> None:
    grant = world.grant()
    assert grant.now == NOW and grant.account_id == world.account.id
    assert grant.answer({"Amount": "150.00", "Currency": "GBP"}).available is True
    assert grant.answer({"Amount": "150", "Currency": "GBP"}).available is True
    answer = grant.answer({"Amount": "150.01", "Currency": "GBP"})
    assert answer.available is False
    assert (answer.account_id, answer.amount.amount, answer.at) == (
        world.account.id, Decimal("150.01"), NOW,
    )  # fmt: skip
    # Asking reserves nothing and moves nothing.
    assert world.bank.balances("t", world.account.id).booked.amount == Decimal("100.00")
    assert world.bank.payments("t", world.account.id) == []


@pytest.mark.parametrize(
    ("instructed", "path", "message"),
    [
        ({"Amount": "1.00", "Currency": "EUR"}, "Currency", "account's currency, GBP"),
        ({"Amount": "1.001", "Currency": "GBP"}, "Amount", "more than 2 decimal places"),
        ({"Amount": "0.00", "Currency": "GBP"}, "Amount", "more than zero"),
        ({"Amount": "0", "Currency": "GBP"}, "Amount", "more than zero"),
    ],
)
def test_an_amount_the_account_cannot_be_asked_about_is_u002(
    world: World, instructed: dict[str, str], path: str, message: str
) -> None:
    with pytest.raises(ApiError, match=message) as raised:
        world.grant().answer(instructed)
    assert _code(raised) == (400, "U002", f"Data.InstructedAmount.{path}")


def test_a_currency_without_minor_units_takes_no_decimals() -> None:
    world = World()
    customer = world.bank.add_customer("Yuki", "yuki", "pw")
    yen = world.bank.open_account(customer, "1000", currency="JPY")
    consent = Snapshot("cof-2", "cli_a", "t", funds.KIND, AUTHORISED, (), MappingProxyType({}),
                       customer.id, (yen.id,), None)  # fmt: skip
    grant = funds.authorise(consent, "cof-2", lambda: world.bank)
    assert grant.answer({"Amount": "1000", "Currency": "JPY"}).available is True
    with pytest.raises(ApiError, match="more than 0 decimal places") as raised:
        grant.answer({"Amount": "999.5", "Currency": "JPY"})
    assert _code(raised) == (400, "U002", "Data.InstructedAmount.Amount")


@pytest.mark.parametrize("status", [AWAITING, REJECTED, CANCELLED])
def test_a_consent_not_authorised_answers_nothing(world: World, status: str) -> None:
    with pytest.raises(ApiError, match=f"The consent is {status}") as raised:
        world.grant(world.consent(status=status))
    assert _code(raised) == (400, "U009", "Data.ConsentId")


def test_a_consent_expires_on_the_banks_clock(world: World) -> None:
    consent = world.consent(expires=NOW + dt.timedelta(hours=1))
    assert world.grant(consent).now == NOW
    world.bank.advance(dt.timedelta(hours=2))
    with pytest.raises(ApiError, match="The consent is EXPD") as raised:
        world.grant(consent)
    assert _code(raised) == (400, "U009", "Data.ConsentId")


def test_the_consent_id_must_be_the_one_the_token_carries(world: World) -> None:
    with pytest.raises(ApiError) as raised:
        world.grant(consent_id="cof-2")
    assert _code(raised) == (400, "U008", "Data.ConsentId")


@pytest.mark.parametrize("kind", [None, "accounts", "payments"])
def test_a_token_without_a_funds_confirmation_consent_is_403(
    world: World, kind: str | None
) -> None:
    consent = None if kind is None else world.consent(kind=kind)
    with pytest.raises(ApiError, match="no funds-confirmation consent") as raised:
        funds.authorise(consent, "cof-1", lambda: world.bank)
    assert _code(raised) == (403, "U042", None)


def test_an_account_the_bank_no_longer_has_is_u009(world: World) -> None:
    consent = Snapshot("cof-1", "cli_a", "t", funds.KIND, AUTHORISED, (), MappingProxyType({}),
                       world.customer.id, ("acc_gone",), None)  # fmt: skip
    with pytest.raises(ApiError, match="no longer exists") as raised:
        world.grant(consent).answer({"Amount": "1.00", "Currency": "GBP"})
    assert _code(raised) == (400, "U009", "Data.ConsentId")


@given(
    balance=st.integers(min_value=-5_000, max_value=1_000_000),
    limit=st.integers(min_value=0, max_value=100_000),
    asked=st.integers(min_value=1, max_value=2_000_000),
)
def test_the_answer_is_whether_balance_and_credit_line_cover_the_amount(
    balance: int, limit: int, asked: int
) -> None:
    """In minor units, whatever the figures: available exactly when balance + limit >= amount,
    and the account is the same afterwards."""
    world = World(f"{Decimal(balance).scaleb(-2):f}", f"{Decimal(limit).scaleb(-2):f}")
    amount = f"{Decimal(asked).scaleb(-2):f}"
    answer = world.grant().answer({"Amount": amount, "Currency": "GBP"})
    assert answer.available is (balance + limit >= asked)
    assert world.bank.balances("t", world.account.id).booked.amount == Decimal(balance).scaleb(-2)
