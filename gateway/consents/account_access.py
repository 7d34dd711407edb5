"""Account-access consents (OBIE AIS v4.0): the permissions a consent may carry, the rules a
consent request must follow, and what a token that carries an authorised consent may read.

Plain functions over plain values and a bank's account contract
(:class:`gateway.core.accounts.AccountsCore`): the account-information views call them with the
request's token and bank; the tests with the in-memory bank (``gateway.core.memory``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.consents import services as consents
from gateway.core.accounts import Account, AccountsCore
from gateway.edge.errors import ApiError

# OBInternalPermissions1Code
PERMISSIONS = (
    "ReadAccountsBasic",
    "ReadAccountsDetail",
    "ReadBalances",
    "ReadBeneficiariesBasic",
    "ReadBeneficiariesDetail",
    "ReadDirectDebits",
    "ReadOffers",
    "ReadPAN",
    "ReadParty",
    "ReadPartyPSU",
    "ReadProducts",
    "ReadScheduledPaymentsBasic",
    "ReadScheduledPaymentsDetail",
    "ReadStandingOrdersBasic",
    "ReadStandingOrdersDetail",
    "ReadStatementsBasic",
    "ReadStatementsDetail",
    "ReadTransactionsBasic",
    "ReadTransactionsCredits",
    "ReadTransactionsDebits",
    "ReadTransactionsDetail",
)
TRANSACTION_DETAIL = {"ReadTransactionsBasic", "ReadTransactionsDetail"}
TRANSACTION_DIRECTION = {"ReadTransactionsCredits", "ReadTransactionsDebits"}
ACCOUNT_PERMISSIONS = ("ReadAccountsBasic", "ReadAccountsDetail")


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


@dataclass(frozen=True, slots=True)
class Grant:
    """What the token of a request may read: its consent's permissions and accounts."""

    consent: consents.Snapshot
    # The bank, bound to the request's unit of work on first use (a kept listing needs none).
    bind: Callable[[], AccountsCore]
    tenant: str
    now: dt.datetime
    # The customer's accounts, when they were read with the clock (see authorise()).
    owned: Sequence[Account] | None = None

    @property
    def bank(self) -> AccountsCore:
        """The bank's account contract."""
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


def authorise(
    consent: consents.Snapshot | None,
    bind: Callable[[], AccountsCore],
    any_of: Sequence[str],
    *,
    listing: tuple[Sequence[Account] | None, dt.datetime] | None = None,
    list_accounts: bool = False,
) -> Grant:
    """What a customer-data request may read: its consent must be authorised on the bank's clock
    (403 U009 otherwise) and carry one of ``any_of`` (403 U042 otherwise).

    ``listing`` is the customer's accounts and the bank's time when a caller kept them; without
    it the bank is asked for the time and, with ``list_accounts``, for the customer's accounts
    first (a bank may read both at once, as the sandbox does). Nothing read is shown unless
    every check here passes.
    """
    if consent is None:
        raise ApiError.one("U042", "The token carries no account-access consent", status=403)
    if listing is not None:
        owned, now = listing
    else:
        owned = None
        if list_accounts and consent.status == consents.AUTHORISED and consent.customer_id:
            owned = bind().accounts(consent.tenant_id, consent.customer_id)
        now = bind().now(consent.tenant_id)
    status = consents.effective_status(consent, now)
    if status != consents.AUTHORISED:
        raise ApiError.one("U009", f"The consent is {status}", status=403)
    granted = Grant(consent, bind, consent.tenant_id, now, owned)
    granted.require(any_of)
    return granted
