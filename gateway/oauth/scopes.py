"""Every scope the authorization server knows, with what it lets a partner do, in plain words.

The consent page shows these descriptions to the customer; the metadata publishes the keys.
"""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "accounts": "See your accounts, balances, transactions, payees and statements",
    "payments": "Make payments from your account that you approve",
    "fundsconfirmations": "Check whether you have enough money for a payment",
    "financing": "Apply for loans and financing on your behalf and see your offers",
}


def split(scope: str | None) -> list[str]:
    """Return the scope tokens of a space-separated scope string, in order, without repeats."""
    seen: list[str] = []
    for token in (scope or "").split():
        if token not in seen:
            seen.append(token)
    return seen


def unknown(scope: str | None) -> list[str]:
    """Return the scope tokens that are not in :data:`SCOPES`."""
    return [s for s in split(scope) if s not in SCOPES]
