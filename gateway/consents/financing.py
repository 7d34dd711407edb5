"""Loan applications as consents (scope ``financing``): what a partner applies for on a
customer's behalf, how the consent page puts it, and the credit decision taken when it is
authorised.

A partner creates an application (a ``financing`` consent, ``AWAU``) for a priced loan; the
customer sees the loan, its APR and its schedule at the bank, chooses the account the loan is
paid into, and agrees that the bank may read that account's transaction history to decide
(``AUTH``). In the same unit of work the bank decides (:meth:`LendingCore.decide
<gateway.core.lending.LendingCore.decide>`, :func:`decide`) and the consent keeps the decision
under ``Decision``, as the API shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gateway.consents.models import Consent
from gateway.core.credit import Applicant, CreditRequest, Decision
from gateway.core.lending import LendingCore, LoanProduct, QuoteRequest
from gateway.core.money import exponent

KIND = "financing"
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


def credit_request(
    data: Mapping[str, Any], product: LoanProduct, applicant: Applicant
) -> CreditRequest:
    """What the bank is asked to decide: the loan as quoted (its largest instalment, the first
    of a loan repaying equal principal), priced at the quote's rate, within the product."""
    quote = data["Quote"]
    return CreditRequest(
        applicant=applicant,
        currency=quote["Amount"]["Currency"],
        amount=Decimal(quote["Amount"]["Amount"]),
        term_months=int(quote["Term"]),
        instalment=max(Decimal(i["Amount"]["Amount"]) for i in quote["Instalments"]),
        annual_rate=Decimal(quote["NominalRate"]),
        minimum_amount=product.minimum_amount,
        maximum_term_months=product.maximum_term,
    )


def decision_body(decision: Decision, currency: str, decided_at: dt.datetime) -> dict[str, Any]:
    """The decision as the consent keeps it and the API shows it (``Data.Decision``)."""

    unit = Decimal(1).scaleb(-exponent(currency))

    def money(amount: Decimal) -> dict[str, str]:
        return {"Amount": f"{amount.quantize(unit):f}", "Currency": currency}

    return {
        "Outcome": decision.outcome.value,
        "DecisionDateTime": decided_at.isoformat(timespec="seconds"),
        "Reasons": [{"Code": r.code, "Text": r.text} for r in decision.reasons],
        "Conditions": [
            {
                "Kind": c.kind,
                "Amount": money(c.amount),
                "Term": c.term_months,
                "Instalment": money(c.instalment),
            }
            for c in decision.conditions
        ],
    }


def decide(core: LendingCore, consent: Consent, applicant: Applicant, now: dt.datetime) -> None:
    """Decide the application ``consent`` from the accounts the customer chose (its
    ``account_ids``, set as it is authorised) on the bank's day of ``now``, and keep the
    decision in its data. The bank's errors propagate with nothing kept: the caller's unit of
    work is rolled back, the authorisation with it."""
    product = core.loan_product(consent.tenant_id, consent.data["Loan"]["ProductId"])
    request = credit_request(consent.data, product, applicant)
    accounts = consent.account_ids or ()
    decision = core.decide(consent.tenant_id, accounts, request, now.date())
    body = decision_body(decision, request.currency, now)
    consent.data = {**consent.data, "Decision": body}
