"""The FX API's request schema and response bodies: amounts are OBIE amount objects (decimal
strings in the currency's own exponent), rates exact decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.api.common import amount, iso
from gateway.core import fx
from gateway.core.fx_corridors import Corridor

# OBIE's amount pattern (OBActiveCurrencyAndAmount_SimpleType) and ISO codes.
AMOUNT = r"^\d{1,13}$|^\d{1,13}\.\d{1,5}$"
CURRENCY = r"^[A-Z]{3}$"
COUNTRY = r"^[A-Z]{2,2}$"


class QuoteRequestData(Schema):
    """``Data`` of ``POST /quotes``: the pair, one fixed amount, the lock."""

    SellCurrency = fields.String(required=True, validate=validate.Regexp(CURRENCY))
    BuyCurrency = fields.String(required=True, validate=validate.Regexp(CURRENCY))
    SellAmount = fields.String(validate=validate.Regexp(AMOUNT))
    BuyAmount = fields.String(validate=validate.Regexp(AMOUNT))
    Lock = fields.String(required=True, validate=validate.OneOf(list(fx.LOCKS)))
    DestinationCountry = fields.String(validate=validate.Regexp(COUNTRY))

    @validates_schema
    def one_side_fixed(self, data: dict[str, Any], **_: Any) -> None:
        """Exactly one of SellAmount and BuyAmount."""
        if ("SellAmount" in data) == ("BuyAmount" in data):
            raise ValidationError("Exactly one of SellAmount and BuyAmount is fixed")


class QuoteRequest(Schema):
    """The body of ``POST /quotes``."""

    Data = fields.Nested(QuoteRequestData, required=True)


def quote_request(data: dict[str, Any]) -> fx.QuoteRequest:
    """The contract's request from a validated body's ``Data``."""
    sell, buy = data.get("SellAmount"), data.get("BuyAmount")
    return fx.QuoteRequest(
        sell_currency=data["SellCurrency"], buy_currency=data["BuyCurrency"],
        sell_amount=None if sell is None else Decimal(sell),
        buy_amount=None if buy is None else Decimal(buy), lock=data["Lock"],
        destination_country=data.get("DestinationCountry"),
    )  # fmt: skip


def rate_text(rate: Decimal) -> str:
    """A rate as an exact decimal string (no exponent)."""
    return f"{rate:f}"


def quote_status(quote: fx.Quote, now: dt.datetime) -> str:
    """Indicative, Locked (the rate holds now) or Expired."""
    if quote.expires_at is None:
        return "Indicative"
    return "Locked" if quote.locked_at(now) else "Expired"


def quote_data(quote: fx.Quote, now: dt.datetime) -> dict[str, Any]:
    """``Data`` of a quote, its status at ``now``."""
    data: dict[str, Any] = {
        "ContractIdentification": quote.contract_id,
        "CorridorId": quote.corridor_id,
        "SellCurrency": quote.sell_amount.currency,
        "BuyCurrency": quote.buy_amount.currency,
        "FixedSide": quote.fixed_side,
        "RateType": quote.rate_type,
        "Status": quote_status(quote, now),
        "UnitCurrency": quote.sell_amount.currency,
        "MidRate": rate_text(quote.mid_rate),
        "ExchangeRate": rate_text(quote.rate),
        "SpreadBasisPoints": quote.spread_bps,
        "Fees": amount(quote.fee),
        "SellAmount": amount(quote.sell_amount),
        "TotalDebited": amount(quote.total_debited),
        "AmountReceived": amount(quote.buy_amount),
        "Lock": quote.lock,
        "CreationDateTime": iso(quote.created_at),
        "ExpectedSettlementDate": quote.settlement_date.isoformat(),
    }
    if quote.expires_at is not None:
        data["ExpirationDateTime"] = iso(quote.expires_at)
    return data


def rates_data(unit: str, rates: list[fx.MidRate], now: dt.datetime) -> dict[str, Any]:
    """``Data`` of ``GET /rates``."""
    return {
        "UnitCurrency": unit,
        "RateDateTime": iso(now),
        "Rate": [
            {"QuotedCurrency": r.quoted_currency, "ExchangeRate": rate_text(r.rate)} for r in rates
        ],
    }


def corridor_data(corridor: Corridor, now: dt.datetime) -> dict[str, Any]:
    """One corridor, with the settlement date of an instruction made ``now``."""
    return {
        "CorridorId": corridor.id,
        "SellCurrency": corridor.sell_currency,
        "BuyCurrency": corridor.buy_currency,
        "SourceCountry": corridor.source_country,
        "DestinationCountry": list(corridor.destination_countries),
        "MinimumAmount": amount(corridor.min_amount),
        "MaximumAmount": amount(corridor.max_amount),
        "CutOffTime": corridor.cutoff.strftime("%H:%M"),
        "TimeZone": corridor.zone,
        "SettlementDays": corridor.settlement_days,
        "SpreadBasisPoints": corridor.spread_bps,
        "Fees": amount(corridor.fee),
        "ExpectedSettlementDate": corridor.settlement_date(now).isoformat(),
    }
