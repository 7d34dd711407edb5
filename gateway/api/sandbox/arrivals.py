"""``POST /payments-from-abroad``: a partner abroad pays into one of the sandbox's customer
accounts in a foreign currency (the sandbox trigger of money arriving from abroad).

The bank credits the account with the amount converted into the account's currency at the rate
now (the mid rate of the sandbox's feed less the corridor's spread, rounded down to the minor
unit: :mod:`sandbox.fx_execution`), through the vostro of the foreign currency, in one journal
balanced per currency. The customer's transaction carries the conversion in its
``CurrencyExchange`` block (OBIE v4.0 ``OBCurrencyExchange5``) on the AIS API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import RAISE, Schema, fields, validate

from gateway.api.aisp.transactions import currency_exchange
from gateway.api.common import amount, envelope, iso, parse_json
from gateway.api.sandbox import bp
from gateway.api.sandbox.views import sandbox_tenant
from gateway.core import fx
from gateway.core.accounts import CurrencyExchange
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.fx_orders import Arrival, FxOrdersCore
from gateway.core.money import Money
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session

_AMOUNT = r"^\d{1,13}(\.\d{1,5})?$"


class ForeignAmount(Schema):
    """An OBIE amount: a decimal string and an ISO 4217 currency."""

    class Meta:
        unknown = RAISE

    Amount = fields.String(required=True, validate=validate.Regexp(_AMOUNT))
    Currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))


class ArrivalData(Schema):
    """Who pays from abroad, how much in which currency, into which account."""

    class Meta:
        unknown = RAISE

    AccountId = fields.String(
        required=True,
        validate=validate.Length(1, 40),
        metadata={"description": "The customer's account (its AIS id)."},
    )
    InstructedAmount = fields.Nested(
        ForeignAmount, required=True, metadata={"description": "What the partner abroad pays."}
    )
    DebtorName = fields.String(required=True, validate=validate.Length(1, 70))
    DebtorAccount = fields.String(
        validate=validate.Length(1, 34), metadata={"description": "The payer's IBAN or account."}
    )
    Reference = fields.String(required=True, validate=validate.Length(1, 35))  # fmt: skip


class ArrivalRequest(Schema):
    """The body of ``POST /payments-from-abroad``."""

    class Meta:
        unknown = RAISE

    Data = fields.Nested(ArrivalData, required=True)


def _desk() -> FxOrdersCore:
    desk: FxOrdersCore = current_app.extensions["bank_core"](get_session())
    return desk


@bp.post("/payments-from-abroad")
def payment_from_abroad() -> ResponseReturnValue:
    """Credit a customer's account with money from abroad, converted at the rate now (201)."""
    tenant = sandbox_tenant()
    data = parse_json(ArrivalRequest())["Data"]
    sent = data["InstructedAmount"]
    arrival = Arrival(
        account_id=data["AccountId"], amount=Money(Decimal(sent["Amount"]), sent["Currency"]),
        debtor_name=data["DebtorName"], reference=data["Reference"],
        debtor_identification=data.get("DebtorAccount"),
    )  # fmt: skip
    try:
        made = _desk().receive_from_abroad(tenant, arrival)
    except UnknownResource:
        raise ApiError.one("U011", "No account of the sandbox has this id",
                           path="Data.AccountId") from None  # fmt: skip
    except (fx.UnsupportedCurrency, fx.UnsupportedCorridor) as exc:
        raise ApiError.one("U023", str(exc), path="Data.InstructedAmount.Currency") from None
    except InvalidInstruction as exc:
        raise ApiError.one("U002", str(exc), path="Data.InstructedAmount.Amount") from None
    exchange = CurrencyExchange(
        source_currency=made.sell.currency, target_currency=made.buy.currency,
        unit_currency=made.sell.currency, rate=made.rate, contract_id=made.contract_id,
        quoted_at=made.quoted_at, instructed=made.sell,
    )  # fmt: skip
    body: dict[str, Any] = {
        "SandboxId": tenant, "AccountId": made.account_id, "Reference": arrival.reference,
        "BookingDateTime": iso(made.executed_at), "InstructedAmount": amount(made.sell),
        "CreditedAmount": amount(made.buy), "CurrencyExchange": currency_exchange(exchange),
    }  # fmt: skip
    response = jsonify(envelope(body))
    response.status_code = 201
    return response
