"""What a unit of work changed that the gateway keeps between requests, named by its owner.

Each API worker keeps what authorising a call reads (the token, its app, its consent, and the
customer's accounts with the bank's clock, see ``gateway.oauth.token_cache``). Whoever changes one
of them marks it in the unit of work's ``info`` mapping (a SQLAlchemy ``Session.info``); after
the unit of work commits, the gateway tells every worker, so that only what changed is read
again. A bank core marks the tenants whose customers, accounts or clock it changed; it never
names a table to the gateway.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Literal

# token: an access token's digest; consent: a consent id; app: a client id; tenant: a tenant id.
Kind = Literal["token", "consent", "app", "tenant"]
_KEY = "gateway.changes"


def mark(info: MutableMapping[str, Any], kind: Kind, key: str) -> None:
    """Record in a unit of work's ``info`` that it changed ``kind`` ``key``."""
    info.setdefault(_KEY, set()).add((kind, key))


def take(info: MutableMapping[str, Any]) -> set[tuple[Kind, str]]:
    """Remove and return what a unit of work recorded (on commit, to publish; on rollback, to
    forget)."""
    marked: set[tuple[Kind, str]] = info.pop(_KEY, set())
    return marked
