"""Request bodies and response shapes of the financing API's offers and loans, in OBIE's style
(amounts are ``{"Amount": "1000.00", "Currency": "GBP"}``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from gateway.api.common import iso
from gateway.api.financing.schemas import money
from gateway.core.loans import Loan, LoanEvent, LoanInstalment


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class AcceptanceData(_Strict):
    """Which offer the customer accepts."""

    OfferId = fields.String(
        required=True, validate=validate.Length(min=1, max=40),
        metadata={"description": "An offer of the application (Data.Offers[].OfferId).",
                  "example": "ofr-0f1e2d3c4b5a69788796a5b4"},
    )  # fmt: skip


class AcceptanceRequest(_Strict):
    """The body of ``POST /loan-applications/{ConsentId}/acceptance``."""

    Data = fields.Nested(AcceptanceData, required=True)


# The events of a loan that move money, as its payments show them, and their status.
PAYMENT_EVENTS = {
    "Drawdown": ("Drawdown", "Booked"),
    "Collected": ("Instalment", "Booked"),
    "PartlyCollected": ("Instalment", "PartlyBooked"),
    "CollectionFailed": ("Instalment", "Rejected"),
    "EarlyRepayment": ("EarlyRepayment", "Booked"),
}


def loan_body(loan: Loan, consent_id: str, offer_id: str) -> dict[str, Any]:
    """A loan as ``GET /loans/{LoanId}`` shows it."""
    ccy = loan.currency
    body: dict[str, Any] = {
        "LoanId": loan.loan_id,
        "ConsentId": consent_id,
        "OfferId": offer_id,
        "Status": loan.status.value,
        "ProductId": loan.product_id,
        "AccountId": loan.account_id,
        "RepaymentAccountId": loan.repayment_account_id,
        "OpeningDateTime": iso(loan.opened_at),
        "Amount": money(loan.amount, ccy),
        "Principal": money(loan.principal, ccy),
        "TotalAmountOfCredit": money(loan.credit, ccy),
        "ArrangementFee": money(loan.arrangement_fee, ccy),
        "NominalRate": f"{loan.rate:f}",
        "Term": loan.term,
        "Arrears": {
            "Amount": money(loan.arrears, ccy),
            "DaysPastDue": loan.days_past_due,
        },
    }
    if loan.arrears_bucket is not None:
        body["Arrears"]["Bucket"] = loan.arrears_bucket
    if loan.next_due_date is not None:
        body["NextPaymentDate"] = loan.next_due_date.isoformat()
    if loan.settled_at is not None:
        body["SettlementDateTime"] = iso(loan.settled_at)
    return body


def balances_body(loan: Loan, now: dt.datetime) -> dict[str, Any]:
    """A loan's balances: everything owed, its principal, what is overdue and late fees."""
    ccy = loan.currency
    figures = (
        ("Outstanding", loan.balance),
        ("PrincipalOutstanding", loan.principal_outstanding),
        ("Arrears", loan.arrears),
        ("FeesOutstanding", loan.fees_outstanding),
    )
    return {
        "LoanId": loan.loan_id,
        "Balance": [
            {"Type": kind, "Amount": money(value, ccy), "DateTime": iso(now)}
            for kind, value in figures
        ],
    }


def instalment_body(instalment: LoanInstalment, currency: str) -> dict[str, Any]:
    """One instalment of a loan's schedule, with what was paid of it."""
    return {
        "Number": instalment.number,
        "DueDate": instalment.due_date.isoformat(),
        "Amount": money(instalment.amount, currency),
        "Principal": money(instalment.principal, currency),
        "Interest": money(instalment.interest, currency),
        "Paid": money(instalment.paid, currency),
        "LateFee": money(instalment.late_fee, currency),
        "Status": instalment.status.value,
    }


def payment_body(event: LoanEvent, currency: str) -> dict[str, Any] | None:
    """A money-moving event as a payment of the loan (``None`` for the other events)."""
    kind = PAYMENT_EVENTS.get(event.kind)
    if kind is None or event.amount is None:
        return None
    return {
        "PaymentId": event.event_id,
        "Type": kind[0],
        "Status": kind[1],
        "BookingDateTime": iso(event.occurred_at),
        "Amount": money(event.amount, currency),
        "DaysPastDue": event.days_past_due,
        "Information": event.information,
    }
