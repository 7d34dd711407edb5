"""``/products`` and ``/quotes``: thin views over the lending contract
(:class:`gateway.core.lending.LendingCore`)."""

from __future__ import annotations

from decimal import Decimal

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
# Products and quotes concern no customer: a client-credentials token, as OBIE has partners
# use for the resources they create before a customer is involved.
CLIENT_TOKEN = ("client_credentials",)


def _core() -> BankCore:
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def _tenant() -> str:
    token = current_token(scope=SCOPE, grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    return get_session().get_one(App, token.client_id).organisation_id


def _unknown_product(product_id: str, path: str | None = None) -> ApiError:
    # OBIE Read/Write Data API Profile v4.0, "400 (Bad Request) v/s 404 (Not Found)": a
    # resource id that does not exist is 400 UK.OBIE.Resource.NotFound.
    return ApiError.one("U011", f"No loan product {product_id!r}", path=path, status=400)


@bp.get("/products")
def list_products() -> ResponseReturnValue:
    """GetLoanProducts: every product the bank offers."""
    tenant = _tenant()
    products = _core().loan_products(tenant)
    return jsonify(envelope({"Product": [product_body(p) for p in products]}))


@bp.get("/products/<product_id>")
def get_product(product_id: str) -> ResponseReturnValue:
    """GetLoanProduct: one product."""
    tenant = _tenant()
    try:
        product = _core().loan_product(tenant, product_id)
    except lending.UnknownProduct:
        raise _unknown_product(product_id) from None
    return jsonify(envelope({"Product": [product_body(product)]}))


@bp.post("/quotes")
def create_quote() -> ResponseReturnValue:
    """CreateLoanQuote: the price of a loan as of the bank's today. Nothing is stored, so the
    answer is 200 and the same request on the same day gets the same quote."""
    tenant = _tenant()
    data = parse_json(QuoteRequest())["Data"]
    request = lending.QuoteRequest(
        product_id=data["ProductId"],
        amount=Decimal(data["Amount"]["Amount"]),
        currency=data["Amount"]["Currency"],
        term=data["Term"],
        first_repayment=data.get("FirstRepaymentDate"),
        band=data.get("PricingBand"),
    )
    core = _core()
    try:
        quote = core.quote(tenant, request)
    except lending.UnknownProduct:
        raise _unknown_product(request.product_id, "Data.ProductId") from None
    except lending.QuoteRefused as refused:
        path = "Data.Amount.Currency" if refused.field == "Currency" else f"Data.{refused.field}"
        raise ApiError.one("U002", str(refused), path=path) from None
    return jsonify(envelope(quote_body(quote, core.now(tenant))))
