"""Stable public identifiers, derived from the tenant and what they name.

Identifiers derived this way survive a reset of the tenant to the same seed, so a partner's stored
account ids keep working, and they never reveal row counts or other tenants.
"""

from __future__ import annotations

import hashlib


def public_id(prefix: str, *parts: object) -> str:
    """Return ``prefix`` and 24 hex digits of a BLAKE2b digest of ``parts`` (at most 40 chars)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=12).hexdigest()
    return f"{prefix}{digest}"
