"""The sandbox bank's products and the bank transaction codes its postings carry.

Bank transaction codes are ISO 20022 ``ExternalBankTransactionFamily1Code`` /
``ExternalBankTransactionSubFamily1Code`` pairs, as OBIE ``OBBankTransactionCodeStructure1`` wants.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """A product accounts are opened under."""

    code: str
    name: str
    # OBIE OBInternalProductType1Code-style type of the product.
    product_type: str


PRODUCTS: dict[str, ProductSpec] = {
    p.code: p
    for p in (
        ProductSpec("PCA-EVERYDAY", "Everyday Current Account", "PersonalCurrentAccount"),
        ProductSpec("PCA-GLOBAL", "Global Currency Account", "PersonalCurrentAccount"),
        ProductSpec("SAV-EASY", "Easy Access Saver", "Other"),
        ProductSpec("CC-CLASSIC", "Classic Credit Card", "Other"),
        ProductSpec("BCA-SME", "Business Current Account", "BusinessCurrentAccount"),
        ProductSpec("BCA-FX", "Business Foreign Currency Account", "BusinessCurrentAccount"),
        ProductSpec("BCC-SME", "Business Credit Card", "CommercialCreditCard"),
        ProductSpec("SME-LOAN", "Small Business Loan", "SMELoan"),
        ProductSpec("LOAN-PERSONAL", "Personal Loan", "Other"),
        ProductSpec("LOAN-CREDIT-LINE", "Revolving Credit Line", "Other"),
        ProductSpec("INTERNAL", "Internal ledger account", "Other"),
    )
}

# (ISO family, sub-family) of the bank transaction codes the history uses.
CARD_PURCHASE = ("IssuedCardTransactions", "PointOfSale")
CARD_REFUND = ("IssuedCardTransactions", "Refund")
ATM = ("IssuedCardTransactions", "CashWithdrawal")
CARD_ACQUIRING = ("ReceivedCardTransactions", "PointOfSale")
CREDIT_IN = ("ReceivedCreditTransfers", "DomesticCreditTransfer")
CREDIT_OUT = ("IssuedCreditTransfers", "DomesticCreditTransfer")
INTL_IN = ("ReceivedCreditTransfers", "CrossBorderCreditTransfer")
INTL_OUT = ("IssuedCreditTransfers", "CrossBorderCreditTransfer")
STANDING_ORDER = ("IssuedCreditTransfers", "StandingOrder")
DIRECT_DEBIT = ("IssuedDirectDebits", "DirectDebitPayment")
INTERNAL = ("IssuedCreditTransfers", "InternalBookTransfer")
INTERNAL_IN = ("ReceivedCreditTransfers", "InternalBookTransfer")
INTEREST = ("AccountManagement", "Interest")
FEES = ("AccountManagement", "Fees")
LOAN_DRAWDOWN = ("Lending", "Drawdown")
LOAN_REPAYMENT = ("Lending", "Repayment")
