"""Account-access consents: the rules of OBIE AIS v4.0 and what a consent lets a token read."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app

from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core.accounts import Account
from gateway.core.bank import BankCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session, unit_of_work_open
from gateway.oauth.protector import cache_entry, current_token
from gateway.oauth.token_cache import Listing
from gateway.oauth.tokens import AccessToken

TRANSACTION_DETAIL = {"ReadTransactionsBasic", "ReadTransactionsDetail"}
TRANSACTION_DIRECTION = {"ReadTransactionsCredits", "ReadTransactionsDebits"}
ACCOUNT_PERMISSIONS = ("ReadAccountsBasic", "ReadAccountsDetail")


def core() -> BankCore:
    """The bank core, bound to this request's unit of work."""
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def check_request(data: dict[str, Any], now: dt.datetime) -> None:
    """Apply the consent rules the AIS specification states, beyond the schema."""
    permissions = set(data["Permissions"])
    # OBIE AIS v4.0 profile, Permissions: "The permissions array must contain at least
    # ReadAccountsBasic or ReadAccountsDetail" (GET /accounts is always the first call).
    if not permissions.intersection(ACCOUNT_PERMISSIONS):
        raise ApiError.one(
            "U002",
            "Permissions must include ReadAccountsBasic or ReadAccountsDetail",
            path="Data.Permissions",
        )
    # OBIE AIS v4.0, Account Access Consents, Permissions: ReadTransactionsBasic or
    # ReadTransactionsDetail must come with ReadTransactionsCredits and/or ReadTransactionsDebits,
    # and those only with one of the former.
    if bool(permissions & TRANSACTION_DETAIL) != bool(permissions & TRANSACTION_DIRECTION):
        raise ApiError.one(
            "U002",
            "Transaction permissions need ReadTransactionsBasic or ReadTransactionsDetail "
            "together with ReadTransactionsCredits and/or ReadTransactionsDebits",
            path="Data.Permissions",
        )
    if len(permissions) != len(data["Permissions"]):
        raise ApiError.one("U002", "A permission is repeated", path="Data.Permissions")
    expiry = data.get("ExpirationDateTime")
    if expiry is not None and expiry <= now:
        raise ApiError.one(
            "U003", "ExpirationDateTime must be in the future", path="Data.ExpirationDateTime"
        )
    start, end = data.get("TransactionFromDateTime"), data.get("TransactionToDateTime")
    if start is not None and end is not None and start > end:
        raise ApiError.one(
            "U003",
            "TransactionFromDateTime must not be after TransactionToDateTime",
            path="Data.TransactionFromDateTime",
        )


def own_consent(consent_id: str, client_id: str) -> Consent:
    """The account-access consent ``consent_id`` of this client; 400 U011 otherwise."""
    consent = get_session().get(Consent, consent_id)
    if consent is None or consent.client_id != client_id or consent.kind != "accounts":
        # OBIE: a resource that does not exist (for this client) is UK.OBIE.Resource.NotFound.
        raise ApiError.one("U011", "No account-access consent with this id", status=400)
    return consent


@dataclass(frozen=True, slots=True)
class Grant:
    """What the token of a request may read: its consent's permissions and accounts."""

    token: AccessToken
    consent: consents.Snapshot
    # The bank core, bound to this request's unit of work on first use (a kept listing needs
    # none, see grant()).
    bind: Callable[[], BankCore]
    tenant: str
    now: dt.datetime
    # The customer's accounts, when the grant read them with the clock (see grant()).
    owned: Sequence[Account] | None = None

    @property
    def bank(self) -> BankCore:
        """The bank core."""
        return self.bind()

    @property
    def permissions(self) -> list[str]:
        """The consented permissions."""
        return list(self.consent.permissions)

    def has(self, permission: str) -> bool:
        """Whether the consent carries ``permission``."""
        return permission in self.consent.permissions

    def require(self, any_of: Sequence[str]) -> None:
        """403 unless the consent also carries one of ``any_of`` (for operations that need a
        permission of two clusters, such as a statement's transactions)."""
        if not set(any_of) & set(self.consent.permissions):
            raise ApiError.one(
                "U042", f"The consent lacks the permission: one of {', '.join(any_of)}", status=403
            )

    def account(self, account_id: str) -> Account:
        """One consented account; 400 U011 for any other (see :meth:`covers`)."""
        self.covers(account_id)
        return self.bank.account(self.tenant, account_id)

    def covers(self, account_id: str) -> None:
        """400 U011 unless the consent covers ``account_id`` (for operations that read the
        account's entries without its details).

        An account the consent does not cover is, to this token, an id that does not exist:
        another customer's, one the customer did not share and one that was never issued get the
        same answer, so that nothing tells them apart.
        """
        if account_id not in self.consent.account_ids:
            # OBIE Read/Write Data API Profile v4.0, "400 (Bad Request) v/s 404 (Not Found)":
            # "When a TPP tries to request a resource URL with a resource Id that does not exist,
            # the ASPSP must respond with a 400 (Bad Request) rather than a 404"; the code set
            # gives U011 (UK.OBIE.Resource.NotFound) 400 as well. The reference OpenAPI file
            # lists 404 for most per-account operations (and 400 for all): the profile governs.
            # 404 is left to URLs the gateway does not serve.
            raise ApiError.one("U011", "No account with this id under this consent", status=400)

    def accounts(self) -> list[Account]:
        """Every consented account, in consent order, read with one bank-core call."""
        listed = self.owned
        if listed is None:
            listed = self.bank.accounts(self.tenant, self.consent.customer_id or "")
        owned = {a.id: a for a in listed}
        return [owned[i] for i in self.consent.account_ids if i in owned]


def grant(any_of: Sequence[str], *, listing_accounts: bool = False) -> Grant:
    """Authorise a customer-data request: a live code-grant token whose consent is authorised
    (on the tenant's clock) and carries one of ``any_of`` permissions.

    ``listing_accounts`` reads the customer's accounts before the clock: a bank core may read
    both at once (the sandbox does, in one statement), and the token's cache entry keeps them
    until the authorisation epoch changes (:class:`~gateway.oauth.token_cache.Listing`). Nothing
    read is shown unless every check here passes.
    """
    token = current_token(scope="accounts")
    consent = token.consent
    if consent is None:
        raise ApiError.one("U042", "The token carries no account-access consent", status=403)
    bank = functools.cache(core)
    owned = None
    entry = cache_entry() if listing_accounts else None
    listing = entry.listing if entry is not None else None
    if listing is not None:
        owned, now = listing.accounts, listing.now()
    else:
        if listing_accounts and consent.status == consents.AUTHORISED and consent.customer_id:
            owned = bank().accounts(consent.tenant_id, consent.customer_id)
        now = bank().now(consent.tenant_id)
    status = consents.effective_status(consent, now)
    if status != consents.AUTHORISED:
        raise ApiError.one("U009", f"The consent is {status}", status=403)
    granted = Grant(token, consent, bank, consent.tenant_id, now, owned)
    granted.require(any_of)
    # Kept only as committed: a read inside this request's unit of work (the sandbox's due work
    # ran first) may see what a rollback undoes.
    if entry is not None and listing is None and owned is not None and not unit_of_work_open():
        entry.listing = Listing(tuple(owned), now - dt.datetime.now(dt.UTC))
    return granted
