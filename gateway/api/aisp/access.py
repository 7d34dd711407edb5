"""Account-access consents as the account-information API meets them: the request's token,
its bank, and the rules of :mod:`gateway.consents.account_access`."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from flask import current_app

from gateway.consents.account_access import Grant, authorise
from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session, unit_of_work_open
from gateway.oauth.protector import cache_entry, current_token
from gateway.oauth.token_cache import Listing


def core() -> BankCore:
    """The bank core, bound to this request's unit of work."""
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def own_consent(consent_id: str, client_id: str) -> Consent:
    """The account-access consent ``consent_id`` of this client; 400 U011 otherwise."""
    consent = get_session().get(Consent, consent_id)
    if consent is None or consent.client_id != client_id or consent.kind != "accounts":
        # OBIE: a resource that does not exist (for this client) is UK.OBIE.Resource.NotFound.
        raise ApiError.one("U011", "No account-access consent with this id", status=400)
    return consent


def grant(any_of: Sequence[str], *, listing_accounts: bool = False) -> Grant:
    """Authorise a customer-data request with this request's token (a live code-grant token
    with the ``accounts`` scope) and its consent (:func:`authorise`).

    ``listing_accounts`` reads the customer's accounts with the clock; the token's cache entry
    keeps them, once committed, until a version they depend on moves
    (:class:`~gateway.oauth.token_cache.Listing`).
    """
    token = current_token(scope="accounts")
    bank = functools.cache(core)
    entry = cache_entry() if listing_accounts else None
    kept = entry.listing if entry is not None else None
    listing = (kept.accounts, kept.now()) if kept is not None else None
    granted = authorise(
        token.consent, bank, any_of, listing=listing, list_accounts=listing_accounts
    )
    # Kept only as committed: a read inside this request's unit of work (the sandbox's due work
    # ran first) may see what a rollback undoes.
    if entry is not None and kept is None and granted.owned is not None and not unit_of_work_open():
        offset = granted.now - dt.datetime.now(dt.UTC)
        entry.listing = Listing(tuple(granted.owned), offset)
    return granted
