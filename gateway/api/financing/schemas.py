"""Request bodies and response shapes of the financing API, in OBIE's style (amounts are
``{"Amount": "1000.00", "Currency": "GBP"}`` with the amount a decimal string)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from gateway.api.aisp.schemas import UtcDateTime
from gateway.api.cbpii.schemas import AMOUNT_PATTERN, CURRENCY_PATTERN, pattern
from gateway.core.lending import Instalment, LoanProduct, Quote, RepresentativeExample

# Digits of the periodic rate published with each instalment (the schedule uses it unrounded).
RATE_PLACES = Decimal("1e-12")
TIME_PLACES = Decimal("1e-10")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class QuoteAmount(_Strict):
    """The amount to borrow (OBIE ``OBActiveOrHistoricCurrencyAndAmount``)."""

    Amount = fields.String(
        required=True, validate=pattern(AMOUNT_PATTERN), metadata={"example": "10000.00"}
    )
    Currency = fields.String(
        required=True, validate=pattern(CURRENCY_PATTERN), metadata={"example": "GBP"}
    )


class QuoteData(_Strict):
    """What to price: a product, an amount and a term; optionally a pricing band and the first
    repayment date."""

    ProductId = fields.String(
        required=True, validate=validate.Length(min=1, max=40),
        metadata={"example": "personal-loan"},
    )  # fmt: skip
    Amount = fields.Nested(QuoteAmount, required=True)
    Term = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=600),
        metadata={"description": "The term in months.", "example": 24},
    )  # fmt: skip
    PricingBand = fields.String(
        validate=validate.Length(min=1, max=10),
        metadata={"description": "A pricing band of the product; its representative band "
                  "when absent.", "example": "B"},
    )  # fmt: skip
    FirstRepaymentDate = fields.Date(
        metadata={"description": "ISO 8601 date; one repayment period after today when absent "
                  "(at most 31 days later than that).", "example": "2027-01-15"},
    )  # fmt: skip


class QuoteRequest(_Strict):
    """The body of ``POST /quotes``."""

    Data = fields.Nested(QuoteData, required=True)


class ApplicationData(_Strict):
    """What a partner applies for on a customer's behalf: a loan as a quote names it, and
    optionally when the application lapses if the customer has not answered."""

    Loan = fields.Nested(QuoteData, required=True)
    ExpirationDateTime = UtcDateTime(metadata={"example": "2099-12-31T23:59:59+00:00"})


class ApplicationRequest(_Strict):
    """The body of ``POST /loan-applications``."""

    Data = fields.Nested(ApplicationData, required=True)


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """An OBIE amount object."""
    return {"Amount": f"{amount:f}", "Currency": currency}


def product_body(product: LoanProduct) -> dict[str, Any]:
    """A product as ``GET /products`` shows it."""
    fee, eligibility, currency = product.arrangement_fee, product.eligibility, product.currency
    arrangement: dict[str, Any] = {
        "FixedAmount": money(fee.fixed, currency),
        "Percentage": f"{fee.percentage:f}",
        "MinimumAmount": money(fee.minimum, currency),
        "Treatment": fee.treatment.value,
    }
    if fee.maximum is not None:
        arrangement["MaximumAmount"] = money(fee.maximum, currency)
    rules: dict[str, Any] = {
        "CustomerType": eligibility.customer_type,
        "MinimumAge": eligibility.minimum_age,
        "Residency": eligibility.residency,
        "MinimumAnnualIncome": money(eligibility.minimum_annual_income, currency),
        "Conditions": list(eligibility.conditions),
    }
    if eligibility.minimum_trading_months is not None:
        rules["MinimumTradingMonths"] = eligibility.minimum_trading_months
    return {
        "ProductId": product.product_id,
        "Name": product.name,
        "ProductType": product.product_type.value,
        "Description": product.description,
        "Currency": currency,
        "MinimumAmount": money(product.minimum_amount, currency),
        "MaximumAmount": money(product.maximum_amount, currency),
        "MinimumTerm": product.minimum_term,
        "MaximumTerm": product.maximum_term,
        "RateType": "Fixed",
        "PricingBands": [
            {"Band": b.band, "NominalRate": f"{b.rate:f}", "Description": b.description}
            for b in product.bands
        ],
        "RepresentativeBand": product.representative_band,
        "ArrangementFee": arrangement,
        "LateFee": money(product.late_fee, currency),
        "RepaymentFrequency": product.frequency.value,
        "Amortisation": product.amortisation.value,
        "DayCount": product.day_count.value,
        "Eligibility": rules,
    }


def _instalment(instalment: Instalment, currency: str) -> dict[str, Any]:
    return {
        "Number": instalment.number,
        "DueDate": instalment.due_date.isoformat(),
        "Amount": money(instalment.amount, currency),
        "Principal": money(instalment.principal, currency),
        "Interest": money(instalment.interest, currency),
        "Fees": money(instalment.fees, currency),
        "Balance": money(instalment.balance, currency),
        "PeriodicRate": f"{instalment.periodic_rate.quantize(RATE_PLACES):f}",
    }


def _example(example: RepresentativeExample, currency: str) -> dict[str, Any]:
    return {
        "InterestRate": f"{example.rate:f}",
        "RateType": example.rate_type,
        "Charges": [
            {"Type": kind, "Amount": money(value, currency)} for kind, value in example.charges
        ],
        "TotalAmountOfCredit": money(example.total_amount_of_credit, currency),
        "RepresentativeAPR": f"{example.apr:f}",
        "DurationMonths": example.duration_months,
        "TotalAmountPayable": money(example.total_amount_payable, currency),
        "Repayments": [{"Count": n, "Amount": money(a, currency)} for n, a in example.repayments],
        "Text": example.text,
    }


def quote_body(quote: Quote, priced_at: dt.datetime) -> dict[str, Any]:
    """A quote as ``POST /quotes`` answers it."""
    product, currency = quote.product, quote.currency
    return {
        "ProductId": product.product_id,
        "ProductType": product.product_type.value,
        "QuoteDateTime": priced_at.isoformat(timespec="seconds"),
        "PricingBand": quote.band.band,
        "NominalRate": f"{quote.band.rate:f}",
        "RateType": "Fixed",
        "APR": f"{quote.apr:f}",
        "Amortisation": product.amortisation.value,
        "DayCount": product.day_count.value,
        "RepaymentFrequency": product.frequency.value,
        "Term": quote.term,
        "Amount": money(quote.amount, currency),
        "ArrangementFee": {
            "Amount": money(quote.arrangement_fee, currency),
            "Treatment": product.arrangement_fee.treatment.value,
        },
        "Principal": money(quote.principal, currency),
        "TotalAmountOfCredit": money(quote.credit, currency),
        "TotalInterest": money(quote.total_interest, currency),
        "TotalFees": money(quote.total_fees, currency),
        "TotalChargeForCredit": money(quote.total_charge_for_credit, currency),
        "TotalAmountPayable": money(quote.total_payable, currency),
        "DrawdownDate": quote.drawdown_date.isoformat(),
        "FirstRepaymentDate": quote.instalments[0].due_date.isoformat(),
        "FinalRepaymentDate": quote.instalments[-1].due_date.isoformat(),
        "Instalments": [_instalment(i, currency) for i in quote.instalments],
        "CashFlows": [
            {
                "Date": f.date.isoformat(),
                "Type": f.flow_type.value,
                "Amount": money(f.amount, currency),
                "Time": f"{f.time.quantize(TIME_PLACES):f}",
            }
            for f in quote.cash_flows
        ],
        "RepresentativeExample": _example(quote.example, currency),
    }
