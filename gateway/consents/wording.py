"""What an account-access consent lets an app see, in words a bank customer understands.

The consent page lists these lines instead of the OBIE permission codes. Their meanings follow
the OBIE Account and Transaction API Specification v4.0, Account Access Consents, Permissions:

- a Basic permission and the Detail permission of the same cluster read the same resource; Detail
  adds the account identification (``ReadAccountsDetail``), the counterparty's account
  (``ReadBeneficiariesDetail``, ``ReadStandingOrdersDetail``, ``ReadScheduledPaymentsDetail``),
  the "transaction data elements which may hold silent party details"
  (``ReadTransactionsDetail``) or the statement amounts (``ReadStatementsDetail``), so a cluster
  asked for in both is one line, worded for Detail;
- ``ReadTransactionsCredits`` and ``ReadTransactionsDebits`` decide which transactions are read
  (money coming in, going out, or both), ``ReadTransactionsBasic`` / ``Detail`` how much of each;
- ``ReadPAN`` lets card numbers be read in full instead of masked;
- ``TransactionFromDateTime`` / ``TransactionToDateTime`` bound the transactions (and here the
  statements) that can be read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

Describe = Callable[[Collection[str]], str | None]

# Said of any permission this module has no words for, so that nothing asked for goes unmentioned.
OTHER = "Other information about your accounts"


def _cluster(wording: Mapping[str, str]) -> Describe:
    """Describe a cluster by the first of its permissions asked for (the fuller ones first)."""

    def describe(asked: Collection[str]) -> str | None:
        return next((line for code, line in wording.items() if code in asked), None)

    return describe


def _transactions(asked: Collection[str]) -> str | None:
    """One line for the four transaction permissions: the direction, then how much detail."""
    credits = "ReadTransactionsCredits" in asked
    debits = "ReadTransactionsDebits" in asked
    detail = "ReadTransactionsDetail" in asked
    basic = "ReadTransactionsBasic" in asked
    if not (credits or debits or detail or basic):
        return None
    if credits and not debits:
        what, details = "Money coming into your accounts", "who paid you"
    elif debits and not credits:
        what, details = "Money going out of your accounts", "who you paid"
    else:
        # Both directions, or (a consent the gateway refuses) neither named.
        what = "Money coming into and going out of your accounts"
        details = "who paid you and who you paid"
    if detail:
        return f"{what}, with details such as {details}"
    if basic:
        return f"{what}, without details such as {details}"
    return what


_PAYEES = "the names and account details of who they pay"
_SCHEDULED = "Payments you have set up for a later date"

# In the order the page lists them.
DESCRIBE: tuple[Describe, ...] = (
    _cluster(
        {
            "ReadAccountsDetail": "Your account names and numbers",
            "ReadAccountsBasic": "Your account names and types, without their numbers",
        }
    ),
    _cluster({"ReadBalances": "Your balances"}),
    _transactions,
    _cluster(
        {
            "ReadStatementsDetail": "Your statements, with their amounts",
            "ReadStatementsBasic": "The dates of your statements, without their amounts",
        }
    ),
    _cluster(
        {
            "ReadBeneficiariesDetail": "Your saved payees, with their names and account details",
            "ReadBeneficiariesBasic": "Your saved payees, without their names or account details",
        }
    ),
    _cluster(
        {
            "ReadStandingOrdersDetail": f"Your standing orders, with {_PAYEES}",
            "ReadStandingOrdersBasic": f"Your standing orders, without {_PAYEES}",
        }
    ),
    _cluster({"ReadDirectDebits": "Your Direct Debits"}),
    _cluster(
        {
            "ReadScheduledPaymentsDetail": f"{_SCHEDULED}, with {_PAYEES}",
            "ReadScheduledPaymentsBasic": f"{_SCHEDULED}, without {_PAYEES}",
        }
    ),
    _cluster({"ReadProducts": "The features of your accounts, such as interest rates and fees"}),
    _cluster({"ReadOffers": "Offers the bank has made you, such as a higher limit"}),
    _cluster({"ReadPartyPSU": "Your name, address and contact details"}),
    _cluster({"ReadParty": "The names and contact details of everyone named on your accounts"}),
    _cluster({"ReadPAN": "Your full card numbers"}),
)


def lines(permissions: Collection[str]) -> list[str]:
    """What the customer is asked to share, one plain line per kind of information, in a fixed
    order; never a permission code."""
    asked = set(permissions)
    found = [line for describe in DESCRIBE if (line := describe(asked)) is not None]
    if any(all(describe({code}) is None for describe in DESCRIBE) for code in asked):
        found.append(OTHER)
    return found


# OBIE ``OBExternalAccountSubType1Code`` values as a bank customer names their accounts.
ACCOUNT_KINDS = {
    "ChargeCard": "Charge card",
    "CreditCard": "Credit card",
    "CurrentAccount": "Current account",
    "EMoney": "E-money account",
    "Loan": "Loan",
    "Mortgage": "Mortgage",
    "PrePaidCard": "Prepaid card",
    "Savings": "Savings account",
}


def account_kind(subtype: str) -> str:
    """What kind of account this is, in words (``Current account``, not ``CurrentAccount``); a
    code this module does not know is spelt out from its capitals (``NewKind``: ``New kind``)."""
    known = ACCOUNT_KINDS.get(subtype)
    if known is not None:
        return known
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", subtype)]
    return " ".join(words).capitalize() if words else subtype


def plain_date(moment: dt.datetime) -> str:
    """A date as a customer writes it: ``1 March 2025``."""
    return f"{moment.day} {moment:%B %Y}"


def transaction_window(permissions: Collection[str], data: Mapping[str, Any]) -> str | None:
    """The dates the consent limits transactions (and statements) to, as a sentence without its
    full stop, or ``None`` when it sets no limit or shares neither."""
    start, end = (
        plain_date(dt.datetime.fromisoformat(data[name])) if data.get(name) else None
        for name in ("TransactionFromDateTime", "TransactionToDateTime")
    )
    if start is None and end is None:
        return None
    asked = set(permissions)
    statements = bool(asked & {"ReadStatementsBasic", "ReadStatementsDetail"})
    transactions = bool(asked & {"ReadTransactionsBasic", "ReadTransactionsDetail"})
    if not (statements or transactions):
        return None  # the window bounds nothing this consent shares
    if statements and transactions:
        what = "Transactions and statements"
    else:
        what = "Statements" if statements else "Transactions"
    if start and end:
        return f"{what} from {start} to {end}"
    return f"{what} from {start} onwards" if start else f"{what} up to {end}"
