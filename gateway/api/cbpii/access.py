"""Funds-confirmation consents as the Confirmation of Funds API meets them: the request's bank,
and the consents a client may read or delete."""

from __future__ import annotations

from flask import current_app

from gateway.consents.funds_confirmation import KIND
from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session


def core() -> BankCore:
    """The bank core, bound to this request's unit of work."""
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def own_consent(consent_id: str, client_id: str) -> Consent:
    """The funds-confirmation consent ``consent_id`` of this client; 400 U011 otherwise."""
    consent = get_session().get(Consent, consent_id)
    if consent is None or consent.client_id != client_id or consent.kind != KIND:
        # OBIE Read/Write Data API Profile v4.0, "400 (Bad Request) v/s 404 (Not Found)": a
        # resource id that does not exist (for this client) is 400 UK.OBIE.Resource.NotFound.
        raise ApiError.one("U011", "No funds-confirmation consent with this id", status=400)
    return consent
