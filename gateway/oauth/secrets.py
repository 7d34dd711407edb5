"""Opaque credentials: random, prefixed so that a leaked one is recognisable, stored as hashes.

Each value carries 256 bits from the operating system's CSPRNG (FAPI 2.0 asks for at least 128).
Only the SHA-256 digest of a value is stored; lookups hash what the client presents.
"""

from __future__ import annotations

import hashlib
import secrets

ACCESS_PREFIX = "oba_"
REFRESH_PREFIX = "obr_"
CODE_PREFIX = "obc_"
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


def new(prefix: str) -> str:
    """Return a fresh credential: ``prefix`` and 43 URL-safe characters (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """Return the SHA-256 hex digest under which a credential is stored."""
    return hashlib.sha256(value.encode()).hexdigest()
