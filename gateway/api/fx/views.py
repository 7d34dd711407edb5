"""``/rates``, ``/corridors`` and ``/quotes``: thin views over :class:`gateway.core.fx.FxCore`.

Every operation takes a client-credentials token of the partner's app with the ``payments``
scope; the tenant is the app's organisation's sandbox. A currency the bank does not convert is
``U023`` (UK.OBIE.Unsupported.Currency), a pair or country no corridor serves or an amount
outside its limits ``U002`` with the field's path; an unknown contract id is a 400 ``U011``, as
OBIE answers an unknown resource id (Read/Write Data API Profile v4.0).
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.common import envelope, parse_json, public_url
from gateway.api.fx import bodies, bp
from gateway.core import fx
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session
from gateway.oauth.protector import current_token
from partners.models import App

CLIENT_TOKEN = ("client_credentials",)
SCOPE = "payments"


def _desk() -> fx.FxCore:
    desk: fx.FxCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return desk


def _tenant() -> str:
    """The sandbox of the token's app's organisation."""
    token = current_token(scope=SCOPE, grant_types=CLIENT_TOKEN)
    return get_session().get_one(App, token.client_id).organisation_id


@bp.get("/rates")
def rates() -> ResponseReturnValue:
    """The mid rate of every currency against ``UnitCurrency`` (GBP unless asked)."""
    tenant = _tenant()
    unit = request.args.get("UnitCurrency", "GBP")
    try:
        found = list(_desk().mid_rates(tenant, unit))
    except fx.UnsupportedCurrency as exc:
        raise ApiError.one("U023", str(exc), path="UnitCurrency") from None
    now = found[0].at if found else _desk().now(tenant)
    return jsonify(envelope(bodies.rates_data(unit, found, now)))


@bp.get("/corridors")
def corridors() -> ResponseReturnValue:
    """The corridors the bank pays through, with when a payment made now would settle."""
    tenant = _tenant()
    desk = _desk()
    now = desk.now(tenant)
    data = [bodies.corridor_data(corridor, now) for corridor in desk.corridors(tenant)]
    return jsonify(envelope({"Corridor": data}))


@bp.post("/quotes")
def create_fx_quote() -> ResponseReturnValue:
    """Price a conversion now; with a lock, the rate holds until ``ExpirationDateTime``."""
    tenant = _tenant()
    data = parse_json(bodies.QuoteRequest())["Data"]
    asked = bodies.quote_request(data)
    try:
        quote = _desk().create_fx_quote(tenant, asked)
    except fx.UnsupportedCurrency as exc:
        field = "SellCurrency" if exc.currency == asked.sell_currency else "BuyCurrency"
        raise ApiError.one("U023", str(exc), path=f"Data.{field}") from None
    except fx.UnsupportedCorridor as exc:
        field = "DestinationCountry" if asked.destination_country else "BuyCurrency"
        raise ApiError.one("U002", str(exc), path=f"Data.{field}") from None
    except InvalidInstruction as exc:
        field = "SellAmount" if asked.sell_amount is not None else "BuyAmount"
        raise ApiError.one("U002", str(exc), path=f"Data.{field}") from None
    self_url = public_url(f"{bp.url_prefix}/quotes/{quote.contract_id}")
    response = jsonify(envelope(bodies.quote_data(quote, quote.created_at), self_url=self_url))
    response.status_code = 201
    return response


@bp.get("/quotes/<contract_identification>")
def read_quote(contract_identification: str) -> ResponseReturnValue:
    """A quote this organisation was given, its status on the sandbox's clock."""
    tenant = _tenant()
    desk = _desk()
    try:
        quote = desk.fx_quote(tenant, contract_identification)
    except UnknownResource:
        raise ApiError.one("U011", "No quote with this ContractIdentification") from None
    return jsonify(envelope(bodies.quote_data(quote, desk.now(tenant))))
