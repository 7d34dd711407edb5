"""Loan applications as consents (scope ``financing``): what a partner applies for on a
customer's behalf, how the consent page puts it, and the seam the credit decision plugs into.

A partner creates an application (a ``financing`` consent, ``AWAU``) for a priced loan; the
customer sees the loan, its APR and its schedule at the bank, chooses the account the loan is
paid into, and agrees that the bank may read that account's transaction history to decide
(``AUTH``). The decision is a function of those transactions and the requested loan
(:class:`gateway.core.lending.CreditDecisionEngine`): :func:`decide` hands them to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from gateway.consents.models import Consent
from gateway.core.accounts import AccountsCore, Transaction
from gateway.core.lending import CreditDecisionEngine, QuoteRequest

KIND = "financing"
# How much history the decision reads: a year, as an affordability assessment looks back.
HISTORY = dt.timedelta(days=365)
PAGE = 500
_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def shown(value: Mapping[str, str]) -> str:
    """``£1,234.50`` (a currency without a symbol here is written after the amount)."""
    number = f"{Decimal(value['Amount']):,f}"
    symbol = _SYMBOLS.get(value["Currency"])
    return f"{symbol}{number}" if symbol else f"{number} {value['Currency']}"


def consent_data(loan: Mapping[str, Any], quote: Mapping[str, Any]) -> dict[str, Any]:
    """What the consent keeps: the loan as the partner asked for it and the quote it was priced
    at (the figures the customer is shown)."""
    return {"Loan": dict(loan), "Quote": dict(quote)}


def request_of(data: Mapping[str, Any]) -> QuoteRequest:
    """The requested loan of a consent's data."""
    loan = data["Loan"]
    first = loan.get("FirstRepaymentDate")
    return QuoteRequest(
        product_id=loan["ProductId"],
        amount=Decimal(loan["Amount"]["Amount"]),
        currency=loan["Amount"]["Currency"],
        term=int(loan["Term"]),
        first_repayment=dt.date.fromisoformat(first) if first else None,
        band=loan.get("PricingBand"),
    )


def lines(data: Mapping[str, Any]) -> list[str]:
    """The loan in the customer's words, one line each: what they borrow and receive, the rate
    and APR, what they repay and when."""
    quote = data["Quote"]
    instalments = quote["Instalments"]
    first, last = instalments[0], instalments[-1]
    fee = quote["ArrangementFee"]
    treated = "added to the loan" if fee["Treatment"] == "AddedToLoan" else "taken from the loan"
    return [
        f"You borrow {shown(quote['Amount'])} over {quote['Term']} months; "
        f"{shown(quote['TotalAmountOfCredit'])} is paid into your account.",
        f"Arrangement fee {shown(fee['Amount'])}, {treated}.",
        f"Fixed interest rate {quote['NominalRate']}% a year. APR {quote['APR']}%.",
        f"{len(instalments)} monthly repayments from {first['DueDate']} to {last['DueDate']}, "
        f"the first {shown(first['Amount'])}.",
        f"Total amount payable {shown(quote['TotalAmountPayable'])}.",
    ]


def schedule(data: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """Each instalment for the consent page: date, amount, interest, balance after it."""
    return [
        (i["DueDate"], shown(i["Amount"]), shown(i["Interest"]), shown(i["Balance"]))
        for i in data["Quote"]["Instalments"]
    ]


def history(core: AccountsCore, consent: Consent, now: dt.datetime) -> list[Transaction]:
    """The transactions of the accounts the customer shared, over the last :data:`HISTORY`."""
    found: list[Transaction] = []
    for account_id in consent.account_ids or ():
        page = core.transactions(consent.tenant_id, account_id, booked_from=now - HISTORY,
                                 limit=PAGE)  # fmt: skip
        found.extend(page.items)
        while page.next_cursor is not None:
            page = core.transactions(consent.tenant_id, account_id, booked_from=now - HISTORY,
                                     after=page.next_cursor, limit=PAGE)  # fmt: skip
            found.extend(page.items)
    return found


def decide(
    engine: CreditDecisionEngine, core: AccountsCore, consent: Consent, now: dt.datetime
) -> Any:
    """The credit decision on an authorised application: the engine, given the applicant's own
    transactions and the requested loan."""
    transactions: Sequence[Transaction] = history(core, consent, now)
    return engine(transactions, request_of(consent.data))
