"""Offers of a decided application and ``POST /loan-applications/{ConsentId}/acceptance``,
which draws the loan down (the rules: :mod:`gateway.consents.loan_offers`).

The acceptance takes an ``x-idempotency-key`` as the payment POSTs do: a retry with the same key
and body is answered as the first was and draws nothing down again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.common import envelope, parse_json, public_url
from gateway.api.financing import PREFIX, bp
from gateway.api.financing.loan_schemas import AcceptanceRequest, loan_body
from gateway.api.financing.schemas import quote_body
from gateway.api.financing.views import caller, core
from gateway.api.idempotency import idempotent
from gateway.consents import financing, loan_offers
from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core import lending, loans
from gateway.core.bank import BankCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session


def _pricer(bank: BankCore, tenant: str, now: dt.datetime) -> loan_offers.Pricer:
    def price(loan: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            return quote_body(bank.quote(tenant, financing.request_of({"Loan": loan})), now)
        except (lending.UnknownProduct, lending.QuoteRefused):
            return None

    return price


def section(consent: Consent, bank: BankCore, now: dt.datetime) -> dict[str, Any]:
    """What a decided application adds to its body: its offers (made the first time they are
    asked for) and, once one is accepted, the acceptance."""
    if not consent.data.get("Decision"):
        return {}
    loan_offers.make_offers(consent, _pricer(bank, consent.tenant_id, now))
    added: dict[str, Any] = {"Offers": loan_offers.shown(consent.data, now)}
    if "Acceptance" in consent.data:
        added["Acceptance"] = consent.data["Acceptance"]
    return added


def own_application(consent_id: str, client_id: str, *, lock: bool = False) -> Consent:
    """The caller's application ``consent_id`` (``lock``: its row locked until the commit, so
    that two acceptances of it queue); 400 U011 for any other id."""
    consent = get_session().get(Consent, consent_id, with_for_update=lock)
    if consent is None or consent.client_id != client_id or consent.kind != financing.KIND:
        # OBIE Read/Write Data API Profile v4.0: an unknown resource id is 400 U011.
        raise ApiError.one("U011", "No loan application with this id", status=400)
    return consent


@bp.post("/loan-applications/<consent_id>/acceptance")
@idempotent("loan-applications/acceptance")
def accept_offer(consent_id: str) -> ResponseReturnValue:
    """AcceptLoanOffer: the customer takes an offer; the bank draws the loan down into the
    account they chose on the consent page (201, the loan)."""
    client_id, tenant = caller()
    wanted = parse_json(AcceptanceRequest())["Data"]["OfferId"]
    consent = own_application(consent_id, client_id, lock=True)
    bank = core()
    now = bank.now(tenant)
    section(consent, bank, now)
    try:
        offer = loan_offers.acceptable(consent, consents.effective_status(consent, now), wanted,
                                       now)  # fmt: skip
    except loan_offers.AcceptanceRefused as refused:
        raise ApiError.one(refused.code, refused.message, path=refused.path,
                           status=refused.status) from None  # fmt: skip
    request = loans.DrawdownRequest(
        financing.request_of({"Loan": offer["Loan"]}), consent.account_ids[0], consent.id
    )
    try:
        loan = bank.draw_down(tenant, request)
    except lending.QuoteRefused as refused:
        raise ApiError.one("U002", str(refused), path="Data.OfferId") from None
    except loans.LoanRefused as refused:
        raise ApiError.one("U009", str(refused)) from None
    loan_offers.accept(get_session(), consent, offer, loan.loan_id, now)
    body = loan_body(loan, consent.id, offer["OfferId"])
    response = jsonify(envelope(body, self_url=public_url(f"{PREFIX}/loans/{loan.loan_id}")))
    response.status_code = 201
    return response
