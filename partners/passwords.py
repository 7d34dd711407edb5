"""Developer e-mail addresses and passwords: policy, hashing and constant-time verification.

The policy follows NIST SP 800-63B §5.1.1.2 (memorized secrets): a minimum length, no composition
rules, and a check against a list of commonly used passwords. Hashes are scrypt (Werkzeug's
``generate_password_hash``), salted per password; verification compares in constant time.
"""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata

from werkzeug.security import check_password_hash, generate_password_hash

from partners.errors import PartnerError

MIN_LENGTH = 12
# NIST SP 800-63B §5.1.1.2: verifiers SHOULD permit at least 64 characters; the cap bounds the
# work a single sign-in can ask of the hash.
MAX_LENGTH = 256
HASH_METHOD = "scrypt"

# RFC 5321 §4.5.3.1: at most 64 octets of local part and 254 of path; checked after lower-casing.
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}"
    r"@(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)

# Passwords of 12 characters or more that top the public breach corpora. Not a substitute for a
# breach-corpus check, but it refuses the ones every attacker tries first.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456123456",
        "111111111111",
        "000000000000",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "password1234567",
        "qwertyuiopasdf",
        "qwertyuiop123",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "qazwsxedcrfv",
        "abcdefghijkl",
        "abc123abc123",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "administrator",
        "administrator1",
        "changeme1234",
        "trustno11234",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "monkey123456",
        "dragon123456",
        "starwars1234",
        "correcthorsebatterystaple",
        "openbanking123",
        "sandbox12345",
    }
)


def normalise_email(email: str) -> str:
    """Return ``email`` stripped and lower-cased, or raise ``invalid_email`` if malformed."""
    value = email.strip().lower() if isinstance(email, str) else ""
    local = value.partition("@")[0]
    if (
        len(value) > 254
        or not _EMAIL.match(value)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise PartnerError("invalid_email", "Enter a valid e-mail address", field="email")
    return value


def _prepare(password: str) -> str:
    # NIST SP 800-63B §5.1.1.2: Unicode in memorized secrets SHOULD be normalized (NFKC) before
    # hashing, so that the same password typed on another keyboard still matches.
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, email: str | None = None) -> None:
    """Raise ``weak_password`` unless ``password`` meets the policy.

    At least :data:`MIN_LENGTH` characters, at most :data:`MAX_LENGTH`, not one character
    repeated, not a commonly used password, and not the account's e-mail address.
    """
    if not isinstance(password, str):
        raise PartnerError("weak_password", "A password is required", field="password")
    value = _prepare(password)
    if len(value) < MIN_LENGTH:
        raise PartnerError(
            "weak_password", f"Use at least {MIN_LENGTH} characters", field="password"
        )
    if len(value) > MAX_LENGTH:
        raise PartnerError(
            "weak_password", f"Use at most {MAX_LENGTH} characters", field="password"
        )
    folded = value.casefold()
    # NIST SP 800-63B §5.1.1.2: verifiers SHALL compare prospective secrets against a list of
    # values known to be commonly used, expected, or compromised, and context-specific words.
    if (
        len(set(folded)) == 1
        or folded in COMMON_PASSWORDS
        or (email is not None and email.strip().casefold() in folded)
    ):
        raise PartnerError(
            "weak_password", "This password is too easy to guess; choose another", field="password"
        )


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of ``password`` (the policy is not checked here)."""
    return generate_password_hash(_prepare(password), method=HASH_METHOD)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash`` (constant-time comparison)."""
    try:
        return check_password_hash(password_hash, _prepare(password))
    except (ValueError, TypeError):  # a malformed or unknown hash matches nothing
        return False


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


def burn_verification(password: str) -> None:
    """Spend the time one verification costs, for an account that does not exist.

    Answering "unknown e-mail" faster than "wrong password" would tell an attacker which
    addresses have accounts.
    """
    verify_password(_dummy_hash(), password)


def warm_up() -> None:
    """Compute the dummy hash now, so the first unknown-account sign-in is not faster either."""
    _dummy_hash()
