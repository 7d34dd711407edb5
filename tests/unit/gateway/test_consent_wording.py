"""The consent page's plain-words description of what an account-access consent shares."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gateway.consents.account_access import PERMISSIONS
from gateway.consents.wording import OTHER, lines, plain_date, transaction_window

CODE = re.compile(r"\bRead[A-Z]\w*")


@pytest.mark.parametrize("code", PERMISSIONS)
def test_every_permission_says_something_in_plain_words(code: str) -> None:
    described = lines([code])
    assert len(described) == 1 and described != [OTHER]
    assert not CODE.search(described[0])


def test_every_permission_at_once_names_no_code_and_leaves_nothing_out() -> None:
    described = lines(PERMISSIONS)
    # One line per cluster: accounts, balances, transactions, statements, payees, standing
    # orders, Direct Debits, scheduled payments, products, offers, the customer, the account
    # holders, card numbers.
    assert len(described) == 13
    assert OTHER not in described
    assert not any(CODE.search(line) for line in described)


def test_lines_come_in_a_fixed_order_whatever_the_order_asked() -> None:
    asked = ["ReadPAN", "ReadBalances", "ReadAccountsDetail"]
    assert (
        lines(asked)
        == lines(list(reversed(asked)))
        == [
            "Your account names and numbers",
            "Your balances",
            "Your full card numbers",
        ]
    )


@pytest.mark.parametrize(
    ("basic", "detail"),
    [
        ("ReadAccountsBasic", "ReadAccountsDetail"),
        ("ReadBeneficiariesBasic", "ReadBeneficiariesDetail"),
        ("ReadStandingOrdersBasic", "ReadStandingOrdersDetail"),
        ("ReadScheduledPaymentsBasic", "ReadScheduledPaymentsDetail"),
        ("ReadStatementsBasic", "ReadStatementsDetail"),
        ("ReadTransactionsBasic", "ReadTransactionsDetail"),
    ],
)
def test_basic_and_detail_of_one_cluster_make_one_line_worded_for_detail(
    basic: str, detail: str
) -> None:
    assert lines([basic, detail]) == lines([detail])
    assert lines([basic]) != lines([detail])


def test_accounts_basic_says_the_numbers_are_not_shared() -> None:
    assert lines(["ReadAccountsBasic"]) == ["Your account names and types, without their numbers"]
    assert lines(["ReadAccountsDetail", "ReadBalances"]) == [
        "Your account names and numbers",
        "Your balances",
    ]


@pytest.mark.parametrize(
    ("asked", "line"),
    [
        (
            ["ReadTransactionsDetail", "ReadTransactionsCredits"],
            "Money coming into your accounts, with details such as who paid you",
        ),
        (
            ["ReadTransactionsDetail", "ReadTransactionsDebits"],
            "Money going out of your accounts, with details such as who you paid",
        ),
        (
            ["ReadTransactionsBasic", "ReadTransactionsCredits", "ReadTransactionsDebits"],
            "Money coming into and going out of your accounts, without details such as who paid "
            "you and who you paid",
        ),
        (
            ["ReadTransactionsBasic", "ReadTransactionsDetail", "ReadTransactionsDebits"],
            "Money going out of your accounts, with details such as who you paid",
        ),
    ],
)
def test_credits_and_debits_decide_in_or_out(asked: list[str], line: str) -> None:
    assert lines(["ReadAccountsBasic", *asked]) == [
        "Your account names and types, without their numbers",
        line,
    ]


def test_a_permission_without_words_is_mentioned_not_named() -> None:
    assert lines(["ReadBalances", "ReadSomethingNew"]) == ["Your balances", OTHER]


def test_plain_date_has_no_leading_zero() -> None:
    assert plain_date(dt.datetime(2025, 3, 5, 12, tzinfo=dt.UTC)) == "5 March 2025"


TRANSACTIONS = ["ReadAccountsBasic", "ReadTransactionsBasic", "ReadTransactionsCredits"]
FROM = {"TransactionFromDateTime": "2025-01-01T00:00:00+00:00"}
TO = {"TransactionToDateTime": "2025-03-31T23:59:59+00:00"}


@pytest.mark.parametrize(
    ("permissions", "data", "window"),
    [
        (TRANSACTIONS, {}, None),
        (["ReadAccountsDetail", "ReadBalances"], FROM | TO, None),  # the window bounds nothing
        (TRANSACTIONS, FROM | TO, "Transactions from 1 January 2025 to 31 March 2025"),
        (TRANSACTIONS, FROM, "Transactions from 1 January 2025 onwards"),
        (TRANSACTIONS, TO, "Transactions up to 31 March 2025"),
        (["ReadAccountsBasic", "ReadStatementsBasic"], TO, "Statements up to 31 March 2025"),
        (
            [*TRANSACTIONS, "ReadStatementsDetail"],
            FROM | TO,
            "Transactions and statements from 1 January 2025 to 31 March 2025",
        ),
    ],
)
def test_transaction_window_in_plain_dates(
    permissions: list[str], data: dict[str, str], window: str | None
) -> None:
    assert transaction_window(permissions, data) == window


def test_an_international_payment_shows_the_conversion() -> None:
    from gateway.payments.wording import lines

    fx = {"RateType": "Agreed", "ExchangeRate": "190.76922", "SellCurrency": "GBP",
          "Fee": {"Amount": "2.50", "Currency": "GBP"},
          "TotalDebited": {"Amount": "102.50", "Currency": "GBP"},
          "AmountReceived": {"Amount": "19076", "Currency": "JPY"}}  # fmt: skip
    initiation = {
        "InstructedAmount": {"Amount": "100.00", "Currency": "GBP"},
        "CreditorAccount": {"SchemeName": "UK.OBIE.BBAN", "Identification": "1234567",
                            "Name": "Yamada KK"},
        "EndToEndIdentification": "E2E",
    }  # fmt: skip
    shown = lines({"Initiation": initiation, "fx": fx})
    assert shown[:4] == [
        "Pay £100.00 to Yamada KK",
        "They receive 19,076 JPY",
        "£102.50 leaves your account, including £2.50 in fees",
        "Exchange rate: 1 GBP = 190.76922 JPY, agreed",
    ]
    assert "Into account 1234567" in shown
    actual = lines({"Initiation": initiation, "fx": fx | {"RateType": "Actual"}})
    assert actual[1] == "They receive 19,076 JPY (about: the rate may move)"
