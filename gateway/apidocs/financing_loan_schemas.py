"""The financing API's shapes of offers and loans, as JSON Schema (OpenAPI 3.0)."""

from __future__ import annotations

from typing import Any

from gateway.apidocs.financing_schemas import SCHEMAS, _enum, _envelope, _object, _ref

_AMOUNT = _ref("LoanAmount")
_DATE = {"type": "string", "format": "date"}
_ID = {"type": "string", "minLength": 1, "maxLength": 40}

OFFER = _object({
    "OfferId": _ID,
    "Kind": _enum("AsApplied", "LowerAmount", "LongerTerm"),
    "Loan": _ref("QuoteData"),
    "Quote": _ref("LoanQuote"),
    "ExpirationDateTime": _ref("ISODateTime"),
    "Status": _enum("Available", "Expired", "Accepted", "Withdrawn"),
})  # fmt: skip

ACCEPTANCE = _object({
    "OfferId": _ID,
    "LoanId": _ID,
    "AcceptanceDateTime": _ref("ISODateTime"),
})  # fmt: skip

LOAN = _object({
    "LoanId": _ID,
    "ConsentId": {"type": "string", "description": "The application it was drawn down from."},
    "OfferId": _ID,
    "Status": _enum("Active", "Settled"),
    "ProductId": {"type": "string"},
    "AccountId": {"type": "string",
                  "description": "The loan account (AccountSubType Loan) in account information."},
    "RepaymentAccountId": {"type": "string",
                           "description": "The account it was paid into and is repaid from."},
    "OpeningDateTime": _ref("ISODateTime"),
    "SettlementDateTime": _ref("ISODateTime"),
    "Amount": _AMOUNT,
    "Principal": _AMOUNT,
    "TotalAmountOfCredit": _AMOUNT,
    "ArrangementFee": _AMOUNT,
    "NominalRate": {"type": "string"},
    "Term": {"type": "integer", "description": "Months."},
    "NextPaymentDate": _DATE,
    "Arrears": _object({
        "Amount": _AMOUNT,
        "DaysPastDue": {"type": "integer", "minimum": 0},
        "Bucket": _enum("1-29", "30-59", "60-89", "90+"),
    }, optional=("Bucket",)),
}, optional=("SettlementDateTime", "NextPaymentDate"))  # fmt: skip

SCHEDULE_ITEM = _object({
    "Number": {"type": "integer", "minimum": 1},
    "DueDate": _DATE,
    "Amount": _AMOUNT,
    "Principal": _AMOUNT,
    "Interest": _AMOUNT,
    "Paid": _AMOUNT,
    "LateFee": _AMOUNT,
    "Status": _enum("Scheduled", "Overdue", "Paid", "SettledEarly"),
})  # fmt: skip

PAYMENT = _object({
    "PaymentId": _ID,
    "Type": _enum("Drawdown", "Instalment", "EarlyRepayment"),
    "Status": _enum("Booked", "PartlyBooked", "Rejected"),
    "BookingDateTime": _ref("ISODateTime"),
    "Amount": _AMOUNT,
    "DaysPastDue": {"type": "integer", "minimum": 0},
    "Information": {"type": "string"},
})  # fmt: skip

BALANCE = _object({
    "Type": _enum("Outstanding", "PrincipalOutstanding", "Arrears", "FeesOutstanding"),
    "Amount": _AMOUNT,
    "DateTime": _ref("ISODateTime"),
})  # fmt: skip


def _with_offers(application: dict[str, Any]) -> dict[str, Any]:
    """The application with its offers and acceptance (once decided; once accepted)."""
    properties = application["properties"] | {
        "Offers": {"type": "array", "items": _ref("LoanOffer")},
        "Acceptance": _ref("LoanAcceptance"),
    }
    return application | {"properties": properties}


def _list(name: str, item: str) -> dict[str, Any]:
    return _envelope(_object({name: {"type": "array", "items": _ref(item)}}))


LOAN_SCHEMAS: dict[str, Any] = {
    "LoanApplication": _with_offers(SCHEMAS["LoanApplication"]),
    "LoanOffer": OFFER,
    "LoanAcceptance": ACCEPTANCE,
    "Loan": LOAN,
    "LoanScheduleItem": SCHEDULE_ITEM,
    "LoanPayment": PAYMENT,
    "LoanBalance": BALANCE,
    "LoanResponse": _envelope(_ref("Loan")),
    "LoansResponse": _list("Loan", "Loan"),
    "LoanScheduleResponse": _envelope(_object({
        "LoanId": _ID, "Instalment": {"type": "array", "items": _ref("LoanScheduleItem")}})),
    "LoanPaymentsResponse": _envelope(_object({
        "LoanId": _ID, "Payment": {"type": "array", "items": _ref("LoanPayment")}})),
    "LoanBalancesResponse": _envelope(_object({
        "LoanId": _ID, "Balance": {"type": "array", "items": _ref("LoanBalance")}})),
}  # fmt: skip
