"""``/accounts/{AccountId}/product`` and ``/products`` (``ReadProducts``), and the offers the bank
makes on accounts, ``/accounts/{AccountId}/offers`` and ``/offers`` (``ReadOffers``; the sandbox
makes none, so their lists are empty)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from gateway.api.aisp import bp, listing
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account, Product

PRODUCT_PERMISSIONS = ("ReadProducts",)
OFFER_PERMISSIONS = ("ReadOffers",)
# OBReadProduct2 ProductType values; any other product is "Other", described by its kind.
PRODUCT_TYPES = frozenset(
    {"BusinessCurrentAccount", "CommercialCreditCard", "PersonalCurrentAccount", "SMELoan"}
)
KINDS = {
    "CurrentAccount": "Current account",
    "Savings": "Savings account",
    "CreditCard": "Credit card",
    "Loan": "Loan",
}


def product_body(product: Product, account: Account) -> dict[str, Any]:
    """``OBReadProduct2.Data.Product`` entry of ``account``'s product."""
    body: dict[str, Any] = {
        "ProductName": product.name[:350],
        "ProductId": product.id[:40],
        "AccountId": account.id,
    }
    if product.product_type in PRODUCT_TYPES:
        body["ProductType"] = product.product_type
    else:
        # OBIE: OtherProductType is populated when ProductType is Other.
        body["ProductType"] = "Other"
        kind = KINDS.get(account.account_subtype, account.account_subtype)
        body["OtherProductType"] = {"Name": product.name[:350], "Description": kind[:350]}
    return body


def _products(grant: Grant, account: Account) -> list[dict[str, Any]]:
    return [product_body(grant.bank.product(grant.tenant, account.id), account)]


def _offers(_grant: Grant, _account: Account) -> list[dict[str, Any]]:
    return []


@bp.get("/accounts/<account_id>/product")
def account_product(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdProduct."""
    return listing.one_account(PRODUCT_PERMISSIONS, "Product", account_id, _products)


@bp.get("/products")
def all_products() -> ResponseReturnValue:
    """GetProducts: the product of every consented account."""
    return listing.every_account(PRODUCT_PERMISSIONS, "Product", _products)


@bp.get("/accounts/<account_id>/offers")
def account_offers(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdOffers."""
    return listing.one_account(OFFER_PERMISSIONS, "Offer", account_id, _offers)


@bp.get("/offers")
def all_offers() -> ResponseReturnValue:
    """GetOffers."""
    return listing.every_account(OFFER_PERMISSIONS, "Offer", _offers)
