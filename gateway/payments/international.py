"""International payments (OBIE v4.0 Payment Initiation: ``/international-payment-consents``
and ``/international-payments``): the rules beyond the reference schema, the conversion the
consent states, and the order executed at the rate its ``ExchangeRateInformation`` names.

The debtor account is in pounds (the sell currency); ``CurrencyOfTransfer`` is what the
creditor receives (the buy currency), and must differ from it. ``InstructedAmount`` is in
either: in pounds, the sell amount is fixed; in the currency of transfer, the amount received.
``ExchangeRateInformation.RateType`` (OBIE Payment Initiation API profile v4.0, "Exchange Rate
Information"):

* ``Agreed``: ``ContractIdentification`` is the ``ContractIdentification`` of a locked quote of
  the FX API, and ``ExchangeRate`` its rate, exactly. The order executes at exactly that rate,
  until the quote's lock ends on the bank's clock; after it the order is refused (``U002`` on
  ``ContractIdentification``, "the quote expired").
* ``Actual`` and ``Indicative``: neither ``ExchangeRate`` nor ``ContractIdentification`` is sent;
  the consent states an indicative rate, and the order executes at the rate when it executes.

Amounts round as :mod:`gateway.core.fx` states. The creditor's IBAN and the creditor agent's BIC
are checked by ``schwifty`` (``U021``/``U002``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core import fx
from gateway.core.errors import InsufficientFunds, InvalidInstruction, UnknownResource
from gateway.core.fx_corridors import CORRIDORS
from gateway.core.fx_orders import Conversion, QuoteUsed, Terms
from gateway.core.money import EXPONENTS, Money
from gateway.core.payments import PaymentOrder as BankOrder
from gateway.core.values import Counterparty
from gateway.edge.errors import ApiError
from gateway.payments import cutoff, domestic
from gateway.payments.domestic import check_amount, check_matches, new_order, record
from gateway.payments.models import PaymentOrder
from gateway.payments.orders import Status

FAMILY = "international-payments"
CONSENT_FAMILY = "international-payment-consents"
SELL_CURRENCY = "GBP"
_INITIATION = "Data.Initiation"
_RATE = f"{_INITIATION}.ExchangeRateInformation"
RATE_PATH = _RATE
CHARGE_TYPE = "UK.OBIE.CHAPSOut"
# The schemes the bank sends payments abroad through (OBInternalLocalInstrument1Code).
LOCAL_INSTRUMENTS = (
    "UK.OBIE.SWIFT",
    "UK.OBIE.SEPACreditTransfer",
    "UK.OBIE.SEPAInstantCreditTransfer",
    "UK.OBIE.Target2",
    "UK.OBIE.Euro1",
)
# How a creditor abroad is identified: an IBAN, or a national account number (BBAN) at a bank
# named by its BIC.
CREDITOR_SCHEMES = ("UK.OBIE.IBAN", "UK.OBIE.BBAN")


def check_initiation(initiation: dict[str, Any]) -> fx.QuoteRequest:
    """The conversion an initiation asks for (no lock), after the rules the schema leaves."""
    transfer = initiation["CurrencyOfTransfer"]
    path = f"{_INITIATION}.CurrencyOfTransfer"
    if transfer == SELL_CURRENCY:
        raise ApiError.one("U002", "CurrencyOfTransfer must differ from the debtor account's "
                           f"currency ({SELL_CURRENCY})", path=path)  # fmt: skip
    if transfer not in EXPONENTS or not any(c.buy_currency == transfer for c in CORRIDORS):
        raise ApiError.one("U023", f"the bank does not pay in {transfer}", path=path)
    instructed = check_amount(initiation["InstructedAmount"], f"{_INITIATION}.InstructedAmount")
    local = initiation.get("LocalInstrument")
    if local is not None and local not in LOCAL_INSTRUMENTS:
        raise ApiError.one("U026", f"{local} is not offered abroad; use one of "
                           f"{', '.join(LOCAL_INSTRUMENTS)}",
                           path=f"{_INITIATION}.LocalInstrument")  # fmt: skip
    if "DebtorAccount" in initiation:
        domestic.check_account(initiation["DebtorAccount"], f"{_INITIATION}.DebtorAccount")
    if instructed.currency not in (SELL_CURRENCY, transfer):
        raise ApiError.one(
            "U002",
            f"InstructedAmount must be in {SELL_CURRENCY} or the CurrencyOfTransfer",
            path=f"{_INITIATION}.InstructedAmount.Currency",
        )
    check_creditor(initiation)
    sell = instructed.amount if instructed.currency == SELL_CURRENCY else None
    buy = None if sell is not None else instructed.amount
    country = initiation.get("DestinationCountryCode")
    return fx.QuoteRequest(SELL_CURRENCY, transfer, sell, buy, "None", country)


def check_creditor(initiation: dict[str, Any]) -> None:
    """An IBAN that is one (checksum, length, bank code), a BIC that is one, in the same country
    as the destination (ISO 13616, ISO 9362)."""
    account = initiation["CreditorAccount"]
    country = initiation.get("DestinationCountryCode")
    agent = initiation.get("CreditorAgent") or {}
    scheme = account["SchemeName"]
    if scheme not in CREDITOR_SCHEMES:
        raise ApiError.one("U027", f"{scheme} is not supported abroad; use one of "
                           f"{', '.join(CREDITOR_SCHEMES)}",
                           path=f"{_INITIATION}.CreditorAccount.SchemeName")  # fmt: skip
    if scheme == "UK.OBIE.BBAN" and agent.get("SchemeName") != "UK.OBIE.BICFI":
        raise ApiError.one("U001", "A BBAN needs the creditor agent's BIC (UK.OBIE.BICFI)",
                           path=f"{_INITIATION}.CreditorAgent")  # fmt: skip
    if scheme == "UK.OBIE.IBAN":
        try:
            iban = IBAN(account["Identification"])
        except SchwiftyException as exc:
            raise ApiError.one(
                "U021",
                f"Not a valid IBAN: {exc}",
                path=f"{_INITIATION}.CreditorAccount.Identification",
            ) from None
        if country and iban.country_code != country:
            raise ApiError.one("U002", f"The IBAN is of {iban.country_code}, not {country}",
                               path=f"{_INITIATION}.DestinationCountryCode")  # fmt: skip
    if agent.get("SchemeName") == "UK.OBIE.BICFI" and "Identification" in agent:
        try:
            BIC(agent["Identification"])
        except SchwiftyException as exc:
            raise ApiError.one(
                "U002",
                f"Not a valid BIC: {exc}",
                path=f"{_INITIATION}.CreditorAgent.Identification",
            ) from None


def _sent_rate(rate_info: dict[str, Any]) -> Decimal:
    try:
        return Decimal(repr(rate_info["ExchangeRate"]))
    except (KeyError, InvalidOperation):
        raise ApiError.one(
            "U001", "ExchangeRate is expected with RateType Agreed", path=f"{_RATE}.ExchangeRate"
        ) from None


def agreed_quote(desk: fx.FxCore, tenant: str, initiation: dict[str, Any],
                 asked: fx.QuoteRequest, now: dt.datetime) -> fx.Quote:  # fmt: skip
    """The locked quote an Agreed initiation cites, checked against it, locked at ``now``."""
    info = initiation["ExchangeRateInformation"]
    contract = info.get("ContractIdentification")
    path = f"{_RATE}.ContractIdentification"
    if contract is None:
        raise ApiError.one("U001", "ContractIdentification is expected with RateType Agreed",
                           path=path)  # fmt: skip
    try:
        quote = fx.usable(desk.fx_quote(tenant, contract), now)
    except UnknownResource:
        raise ApiError.one("U002", "No quote has this ContractIdentification", path=path) from None
    except fx.QuoteExpired as exc:
        raise ApiError.one("U002", f"The quote cannot be used: {exc}", path=path) from None
    if quote.used_by is not None:
        raise used(contract)
    if (quote.sell_amount.currency, quote.buy_amount.currency) != (
        asked.sell_currency, asked.buy_currency,
    ) or info["UnitCurrency"] != quote.sell_amount.currency:  # fmt: skip
        raise ApiError.one("U002", "The quote converts another pair (UnitCurrency is the sell "
                           "currency)", path=f"{_RATE}.UnitCurrency")  # fmt: skip
    if _sent_rate(info) != quote.rate:
        raise ApiError.one("U002", f"The quote's rate is {quote.rate}",
                           path=f"{_RATE}.ExchangeRate")  # fmt: skip
    fixed = asked.sell_amount if quote.fixed_side == "Sell" else asked.buy_amount
    quoted = quote.sell_amount if quote.fixed_side == "Sell" else quote.buy_amount
    if fixed != quoted.amount:
        raise ApiError.one("U002", f"The quote is for {quoted.amount} {quoted.currency}",
                           path=f"{_INITIATION}.InstructedAmount")  # fmt: skip
    return quote


def used(contract: str) -> ApiError:
    """The refusal of an agreed quote another payment executed on (an agreed quote serves one
    instruction): U029 UK.OBIE.Rules.ResourceAlreadyExists, 409."""
    return ApiError.one("U029", f"Quote {contract} was used by another payment", status=409,
                        path=f"{_RATE}.ContractIdentification")  # fmt: skip


def priced(desk: fx.FxCore, tenant: str, initiation: dict[str, Any],
           now: dt.datetime) -> fx.Quote:  # fmt: skip
    """The conversion of ``initiation`` at ``now``: the agreed quote, or the current rate."""
    asked = check_initiation(initiation)
    info = initiation.get("ExchangeRateInformation")
    if info is not None and info["RateType"] == "Agreed":
        return agreed_quote(desk, tenant, initiation, asked, now)
    if info is not None:
        for name in ("ExchangeRate", "ContractIdentification"):
            if name in info:
                raise ApiError.one("U005", f"{name} is given with RateType Agreed only",
                                   path=f"{_RATE}.{name}")  # fmt: skip
        if info["UnitCurrency"] != SELL_CURRENCY:
            raise ApiError.one("U002", f"UnitCurrency must be {SELL_CURRENCY}",
                               path=f"{_RATE}.UnitCurrency")  # fmt: skip
    try:
        return desk.create_fx_quote(tenant, asked)
    except fx.UnsupportedCorridor as exc:
        raise ApiError.one("U002", str(exc), path=f"{_INITIATION}.DestinationCountryCode") from None
    except InvalidInstruction as exc:
        raise ApiError.one("U002", str(exc), path=f"{_INITIATION}.InstructedAmount") from None


def amount_object(money: Money) -> dict[str, str]:
    """An OBIE amount object."""
    return {"Amount": f"{money.amount:f}", "Currency": money.currency}


def iso(moment: dt.datetime) -> str:
    """An ISO 8601 date-time in UTC, to the second."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def kept(quote: fx.Quote, rate_type: str) -> dict[str, Any]:
    """What a consent or an order keeps of its conversion (JSON)."""
    return {
        "ContractIdentification": quote.contract_id, "RateType": rate_type,
        "SellCurrency": quote.sell_amount.currency, "ExchangeRate": str(quote.rate),
        "ExpirationDateTime": iso(quote.expires_at) if quote.expires_at else None,
        "Fee": amount_object(quote.fee), "SellAmount": amount_object(quote.sell_amount),
        "TotalDebited": amount_object(quote.total_debited),
        "AmountReceived": amount_object(quote.buy_amount),
        "ExpectedSettlementDate": quote.settlement_date.isoformat(),
    }  # fmt: skip


def response_fields(conversion: dict[str, Any], bearer: str | None) -> dict[str, Any]:
    """``Charges`` and ``ExchangeRateInformation`` of a consent or order response."""
    rate: dict[str, Any] = {
        "UnitCurrency": conversion["SellCurrency"],
        "ExchangeRate": float(conversion["ExchangeRate"]),
        "RateType": conversion["RateType"],
    }
    if conversion["RateType"] == "Agreed":
        rate["ContractIdentification"] = conversion["ContractIdentification"]
    if conversion.get("ExpirationDateTime"):
        rate["ExpirationDateTime"] = conversion["ExpirationDateTime"]
    charge = {"ChargeBearer": bearer or "BorneByDebtor", "Type": CHARGE_TYPE,
              "Amount": conversion["Fee"]}  # fmt: skip
    return {"Charges": [charge], "ExchangeRateInformation": rate}


def create_consent(session: Session, desk: fx.FxCore, *, client_id: str, tenant_id: str,
                   body: dict[str, Any], now: dt.datetime, family: str = CONSENT_FAMILY,
                   quote: fx.Quote | None = None) -> Consent:  # fmt: skip
    """An international payment consent awaiting the customer, with the conversion it states
    (the agreed quote, or the indicative rate now; ``quote`` when the caller priced it)."""
    data = body["Data"]
    initiation = data["Initiation"]
    quote = quote or priced(desk, tenant_id, initiation, now)
    kept_data = dict(data) | {"family": family, "Risk": body["Risk"],
                              "fx": kept(quote, rate_type(initiation))}  # fmt: skip
    return consents.create(
        session, client_id=client_id, tenant_id=tenant_id, kind="payments", data=kept_data,
        now=now, expires_at=cutoff.cut_off(family, initiation, now),
    )  # fmt: skip


def rate_type(initiation: dict[str, Any]) -> str:
    """The initiation's RateType (Actual when it states none: the rate when it executes)."""
    info = initiation.get("ExchangeRateInformation") or {}
    return str(info.get("RateType", "Actual"))


def submit(session: Session, desk: fx.FxCore, consent: Consent,
           body: dict[str, Any], now: dt.datetime) -> PaymentOrder:  # fmt: skip
    """Execute the order the customer approved at the rate its consent names, debiting the
    total in pounds; an agreed quote whose lock ended refuses the order (nothing is made)."""
    check_matches(consent, body)
    initiation = consent.data["Initiation"]
    quote = priced(desk, consent.tenant_id, initiation, now)
    order = bank_order(consent, initiation, quote)
    row = new_order(consent, FAMILY, "ip-", order, now)
    try:
        paid = desk.pay_converted(consent.tenant_id, order, quote.contract_id)
    except QuoteUsed:
        raise used(quote.contract_id) from None
    except InsufficientFunds:
        row.status, row.status_reason = "RJCT", "AM04"
        row.status_reason_description = "The debtor account has not enough funds available"
    else:
        settles = dt.datetime.combine(quote.settlement_date, dt.time(), dt.UTC)
        row.bank_payment_id, row.status, row.settles_at = paid.id, "ACSP", settles
    return record(session, consent, row, now)


def bank_order(consent: Consent, initiation: dict[str, Any], quote: fx.Quote) -> BankOrder:
    """The bank's order: the quote's total from the account the customer picked."""
    creditor = initiation["CreditorAccount"]
    remittance = initiation.get("RemittanceInformation") or {}
    reference = (remittance.get("Reference") or initiation.get("EndToEndIdentification")
                 or initiation.get("InstructionIdentification") or consent.id)  # fmt: skip
    return BankOrder(
        debtor_account_id=consent.account_ids[0], amount=quote.total_debited,
        creditor=Counterparty(creditor["Name"], creditor["SchemeName"],
                              creditor["Identification"]),
        reference=reference[:35],
        information=" ".join(remittance.get("Unstructured") or ())[:140] or None,
    )  # fmt: skip


def terms(initiation: dict[str, Any], quote: fx.Quote) -> Terms:
    """How an instruction executed later converts: as ``quote`` fixed it, at the initiation's
    RateType (Agreed cites the quote)."""
    fixed = quote.sell_amount if quote.fixed_side == "Sell" else quote.buy_amount
    kind = rate_type(initiation)
    return Terms(
        buy_currency=quote.buy_amount.currency, fixed_side=quote.fixed_side,
        fixed_amount=fixed.amount, rate_type=kind,
        contract_id=quote.contract_id if kind == "Agreed" else None,
        destination_country=initiation.get("DestinationCountryCode"),
    )  # fmt: skip


def executed(conversion: Conversion) -> dict[str, Any]:
    """What an order reports of a conversion the bank made (the shape of :func:`kept`)."""
    return {
        "ContractIdentification": conversion.contract_id, "RateType": conversion.rate_type,
        "SellCurrency": conversion.sell.currency, "ExchangeRate": str(conversion.rate),
        "ExpirationDateTime": None, "Fee": amount_object(conversion.fee),
        "SellAmount": amount_object(conversion.sell),
        "TotalDebited": amount_object(conversion.total_debited),
        "AmountReceived": amount_object(conversion.buy),
    }  # fmt: skip


def detail(conversion: Conversion) -> str:
    """A conversion in words, for a payment's status detail."""
    sell, buy = conversion.sell, conversion.buy
    return (f"Converted {sell.amount:f} {sell.currency} to {buy.amount:f} {buy.currency} at "
            f"{conversion.rate} ({conversion.rate_type}, quote {conversion.contract_id}); fee "
            f"{conversion.fee.amount:f} {conversion.fee.currency}; debited "
            f"{conversion.total_debited.amount:f} {conversion.total_debited.currency}")  # fmt: skip


def described(steps: list[Status], conversions: Sequence[Conversion]) -> list[Status]:
    """``steps`` with each booked execution's (``ACSP``) conversion in words, in order."""
    found = iter(conversions)
    out = []
    for step in steps:
        made = next(found, None) if step.code == "ACSP" else None
        out.append(step if made is None else replace(step, reason_description=detail(made)))
    return out
