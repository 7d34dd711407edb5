"""``/products`` and ``/quotes``: thin views over the lending contract
(:class:`gateway.core.lending.LendingCore`), and the steps the financing views share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from gateway.api.common import check_fapi_headers, envelope, parse_json
from gateway.api.financing import bp
from gateway.api.financing.schemas import QuoteRequest, product_body, quote_body
from gateway.core import lending
from gateway.core.bank import BankCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session
from gateway.oauth.protector import current_token
from partners.models import App

SCOPE = "financing"
# Products, quotes and applications are the partner's own resources, made before a customer is
# involved: a client-credentials token, as OBIE has partners use to create consents.
CLIENT_TOKEN = ("client_credentials",)


def core() -> BankCore:
    """The bank core, bound to this request's unit of work."""
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def caller() -> tuple[str, str]:
    """The client of this request's token and its organisation (whose sandbox it acts on)."""
    token = current_token(scope=SCOPE, grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    return token.client_id, get_session().get_one(App, token.client_id).organisation_id


def _unknown_product(product_id: str, path: str | None = None) -> ApiError:
    # OBIE Read/Write Data API Profile v4.0, "400 (Bad Request) v/s 404 (Not Found)": a
    # resource id that does not exist is 400 UK.OBIE.Resource.NotFound.
    return ApiError.one("U011", f"No loan product {product_id!r}", path=path, status=400)


def priced(bank: BankCore, tenant: str, loan: dict[str, Any], at: str = "Data") -> lending.Quote:
    """The quote for ``loan`` (a validated ``QuoteData``, found at ``at`` in the body); a 400
    naming the field the product does not lend."""
    request = lending.QuoteRequest(
        product_id=loan["ProductId"],
        amount=Decimal(loan["Amount"]["Amount"]),
        currency=loan["Amount"]["Currency"],
        term=loan["Term"],
        first_repayment=loan.get("FirstRepaymentDate"),
        band=loan.get("PricingBand"),
    )
    try:
        return bank.quote(tenant, request)
    except lending.UnknownProduct:
        raise _unknown_product(request.product_id, f"{at}.ProductId") from None
    except lending.QuoteRefused as refused:
        field = "Amount.Currency" if refused.field == "Currency" else refused.field
        raise ApiError.one("U002", str(refused), path=f"{at}.{field}") from None


@bp.get("/products")
def list_products() -> ResponseReturnValue:
    """GetLoanProducts: every product the bank offers."""
    _client, tenant = caller()
    products = core().loan_products(tenant)
    return jsonify(envelope({"Product": [product_body(p) for p in products]}))


@bp.get("/products/<product_id>")
def get_product(product_id: str) -> ResponseReturnValue:
    """GetLoanProduct: one product."""
    _client, tenant = caller()
    try:
        product = core().loan_product(tenant, product_id)
    except lending.UnknownProduct:
        raise _unknown_product(product_id) from None
    return jsonify(envelope({"Product": [product_body(product)]}))


@bp.post("/quotes")
def create_quote() -> ResponseReturnValue:
    """CreateLoanQuote: the price of a loan as of the bank's today. Nothing is stored, so the
    answer is 200 and the same request on the same day gets the same quote."""
    _client, tenant = caller()
    data = parse_json(QuoteRequest())["Data"]
    bank = core()
    quote = priced(bank, tenant, data)
    return jsonify(envelope(quote_body(quote, bank.now(tenant))))
