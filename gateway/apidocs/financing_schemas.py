"""The financing API's response shapes, as JSON Schema (OpenAPI 3.0) for its document."""

from __future__ import annotations

from typing import Any

_AMOUNT = {"$ref": "#/components/schemas/LoanAmount"}
_DATE = {"type": "string", "format": "date"}
_RATE = {"type": "string", "pattern": r"^\d{1,3}\.\d{1,2}$|^\d{1,3}$",
         "description": "A rate in percent a year, as a decimal string."}  # fmt: skip
_DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return _object({
        "Data": data,
        "Links": {"$ref": "#/components/schemas/Links"},
        "Meta": {"$ref": "#/components/schemas/Meta"},
    })  # fmt: skip


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


LOAN_AMOUNT = _object({
    "Amount": {"type": "string", "pattern": r"^\d{1,13}$|^\d{1,13}\.\d{1,5}$"},
    "Currency": {"type": "string", "pattern": "^[A-Z]{3,3}$"},
})  # fmt: skip

PRODUCT = _object(
    {
        "ProductId": {"type": "string"},
        "Name": {"type": "string"},
        "ProductType": _enum("PersonalLoan", "SmeTermLoan", "RevolvingCreditLine"),
        "Description": {"type": "string"},
        "Currency": {"type": "string"},
        "MinimumAmount": _AMOUNT,
        "MaximumAmount": _AMOUNT,
        "MinimumTerm": {"type": "integer", "description": "Months."},
        "MaximumTerm": {"type": "integer", "description": "Months."},
        "RateType": _enum("Fixed"),
        "PricingBands": {"type": "array", "minItems": 1, "items": _object({
            "Band": {"type": "string"}, "NominalRate": _RATE, "Description": {"type": "string"},
        })},
        "RepresentativeBand": {"type": "string",
                               "description": "The band the representative APR is quoted at."},
        "ArrangementFee": _object({
            "FixedAmount": _AMOUNT,
            "Percentage": _DECIMAL | {"description": "Percent of the amount borrowed."},
            "MinimumAmount": _AMOUNT,
            "MaximumAmount": _AMOUNT,
            "Treatment": _enum("AddedToLoan", "DeductedFromLoan"),
        }, optional=("MaximumAmount",)),
        "LateFee": _AMOUNT,
        "RepaymentFrequency": _enum("Monthly", "Quarterly"),
        "Amortisation": _enum("EqualInstalments", "EqualPrincipal"),
        "DayCount": _enum("30/360", "Actual/365"),
        "Eligibility": _object({
            "CustomerType": _enum("Person", "Business"),
            "MinimumAge": {"type": "integer"},
            "Residency": {"type": "string", "description": "ISO 3166-1 alpha-2."},
            "MinimumAnnualIncome": _AMOUNT | {"description": "A business: its turnover."},
            "MinimumTradingMonths": {"type": "integer"},
            "Conditions": {"type": "array", "items": {"type": "string"}},
        }, optional=("MinimumTradingMonths",)),
    }
)  # fmt: skip

INSTALMENT = _object({
    "Number": {"type": "integer", "minimum": 1},
    "DueDate": _DATE,
    "Amount": _AMOUNT,
    "Principal": _AMOUNT,
    "Interest": _AMOUNT,
    "Fees": _AMOUNT,
    "Balance": _AMOUNT | {"description": "Principal outstanding after this instalment."},
    "PeriodicRate": _DECIMAL | {"description": "The period's rate (nominal rate times its "
                                "day-count fraction) to 12 places; interest is the opening "
                                "balance times it, rounded to the minor unit (half to even)."},
})  # fmt: skip

CASH_FLOW = _object({
    "Date": _DATE,
    "Type": _enum("Drawdown", "Repayment"),
    "Amount": _AMOUNT,
    "Time": _DECIMAL | {"description": "Years from the drawdown (Annex I, I(c)), to 10 places."},
})  # fmt: skip

EXAMPLE = _object({
    "InterestRate": _RATE,
    "RateType": _enum("Fixed"),
    "Charges": {"type": "array", "items": _object({"Type": {"type": "string"},
                                                   "Amount": _AMOUNT})},
    "TotalAmountOfCredit": _AMOUNT,
    "RepresentativeAPR": _RATE,
    "DurationMonths": {"type": "integer"},
    "TotalAmountPayable": _AMOUNT,
    "Repayments": {"type": "array", "items": _object({"Count": {"type": "integer"},
                                                      "Amount": _AMOUNT})},
    "Text": {"type": "string"},
})  # fmt: skip

QUOTE = _object({
    "ProductId": {"type": "string"},
    "ProductType": _enum("PersonalLoan", "SmeTermLoan", "RevolvingCreditLine"),
    "QuoteDateTime": {"$ref": "#/components/schemas/ISODateTime"},
    "PricingBand": {"type": "string"},
    "NominalRate": _RATE,
    "RateType": _enum("Fixed"),
    "APR": {"type": "string", "pattern": r"^-?\d+\.\d$",
            "description": "The APR in percent, to one decimal place (CCD Annex I; CONC App 1.1)."},
    "Amortisation": _enum("EqualInstalments", "EqualPrincipal"),
    "DayCount": _enum("30/360", "Actual/365"),
    "RepaymentFrequency": _enum("Monthly", "Quarterly"),
    "Term": {"type": "integer", "description": "Months."},
    "Amount": _AMOUNT,
    "ArrangementFee": _object({"Amount": _AMOUNT,
                               "Treatment": _enum("AddedToLoan", "DeductedFromLoan")}),
    "Principal": _AMOUNT | {"description": "What interest runs on."},
    "TotalAmountOfCredit": _AMOUNT | {"description": "What the customer receives."},
    "TotalInterest": _AMOUNT,
    "TotalFees": _AMOUNT,
    "TotalChargeForCredit": _AMOUNT,
    "TotalAmountPayable": _AMOUNT,
    "DrawdownDate": _DATE,
    "FirstRepaymentDate": _DATE,
    "FinalRepaymentDate": _DATE,
    "Instalments": {"type": "array", "minItems": 1, "items": _ref("LoanInstalment")},
    "CashFlows": {"type": "array", "minItems": 2, "items": _ref("LoanCashFlow")},
    "RepresentativeExample": {"$ref": "#/components/schemas/RepresentativeExample"},
})  # fmt: skip

APPLICATION = _object({
    "ConsentId": {"type": "string", "description": "The application's id: a financing consent."},
    "Status": _enum("AWAU", "AUTH", "RJCT", "CANC", "EXPD"),
    "CreationDateTime": _ref("ISODateTime"),
    "StatusUpdateDateTime": _ref("ISODateTime"),
    "ExpirationDateTime": _ref("ISODateTime"),
    "Loan": _ref("QuoteData"),
    "Quote": _ref("LoanQuote"),
    "Decision": _ref("LoanDecision"),
}, optional=("ExpirationDateTime", "Decision"))  # fmt: skip

DECISION = _object({
    "Outcome": _enum("Approve", "ApproveWithConditions", "Refer", "Decline"),
    "DecisionDateTime": _ref("ISODateTime"),
    "Reasons": {"type": "array", "minItems": 1, "items": _object({
        "Code": {"type": "string", "description": "A stable reason code, e.g. Affordable, "
                 "IrregularIncome, PersistentOverdraft (see the financing guide)."},
        "Text": {"type": "string", "description": "The reason in a sentence a person can read."},
    })},
    "Conditions": {"type": "array", "description": "The loans the bank would make instead "
                   "(ApproveWithConditions only): a lower amount, or a longer term.",
                   "items": _object({
        "Kind": _enum("LowerAmount", "LongerTerm"),
        "Amount": _AMOUNT,
        "Term": {"type": "integer", "description": "Months."},
        "Instalment": _AMOUNT | {"description": "The monthly instalment."},
    })},
})  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "LoanAmount": LOAN_AMOUNT,
    "LoanProduct": PRODUCT,
    "LoanInstalment": INSTALMENT,
    "LoanCashFlow": CASH_FLOW,
    "RepresentativeExample": EXAMPLE,
    "LoanQuote": QUOTE,
    "LoanProductsResponse": _envelope(_object({"Product": {
        "type": "array", "items": {"$ref": "#/components/schemas/LoanProduct"}}})),
    "LoanQuoteResponse": _envelope({"$ref": "#/components/schemas/LoanQuote"}),
    "LoanApplication": APPLICATION,
    "LoanDecision": DECISION,
    "LoanApplicationResponse": _envelope(_ref("LoanApplication")),
}  # fmt: skip
