"""Every scope the authorization server knows, with what it lets a partner do, in plain words.

The consent page shows these descriptions to the customer; the metadata publishes the keys.

Two kinds of scope meet in an authorization request:

* the API families (:data:`SCOPES`): a client may ask for those its registration holds. Each
  is authorised through a consent of the same kind, which the request names as
  ``openbanking_intent_id``; the request is checked against the consent it names whatever the
  family, so the family that adds its consents (payments, fundsconfirmations) changes nothing
  here;
* ``openid`` (OpenID Connect Core §3.1.2.1): it grants no API access, so any client may ask for
  it; with it the token endpoint returns an ID token naming the consent.

One scope is not an API family and needs no consent: ``sandbox`` (:data:`SANDBOX`), for the
sandbox API that moves an organisation's sandbox clock and resets it. Every sandbox app may have
it in a client-credentials token; production apps, which have no sandbox, never; nor is it ever
asked for in an authorization request (no customer authorises it).
"""

from __future__ import annotations

OPENID = "openid"
SANDBOX = "sandbox"
SANDBOX_DESCRIPTION = "Read, move forward and reset your organisation's sandbox bank"

SCOPES: dict[str, str] = {
    "accounts": "See your accounts, balances, transactions, payees and statements",
    "payments": "Make payments from your account that you approve",
    "fundsconfirmations": "Check whether you have enough money for a payment",
    "financing": "Apply for loans and financing on your behalf and see your offers",
}


def supported() -> list[str]:
    """Every scope a client may ask for, as the metadata publishes them."""
    return sorted([OPENID, SANDBOX, *SCOPES])


def split(scope: str | None) -> list[str]:
    """Return the scope tokens of a space-separated scope string, in order, without repeats."""
    seen: list[str] = []
    for token in (scope or "").split():
        if token not in seen:
            seen.append(token)
    return seen


def wants_id_token(scope: str | None) -> bool:
    """Whether a request or token of this scope is an OpenID Connect one."""
    return OPENID in split(scope)


def grantable(registered: str | None) -> list[str]:
    """The scopes a client with this registered scope may ask for in an authorization request:
    its API families, and ``openid``."""
    return [*split(registered), OPENID]


def client_credentials(registered: str | None, environment: str) -> list[str]:
    """The scopes a client may ask for with the client credentials grant: its API families, and
    :data:`SANDBOX` when it is a sandbox app."""
    families = split(registered)
    return [*families, SANDBOX] if environment == "sandbox" else families


def unknown(scope: str | None) -> list[str]:
    """Return the scope tokens that are not in :data:`SCOPES`."""
    return [s for s in split(scope) if s not in SCOPES]
