"""Bank account identifiers: UK sort code and account number, IBAN (ISO 13616), masked PAN."""

from __future__ import annotations

import string

# The sandbox bank's four-letter bank code in its IBANs and its BIC.
BANK_CODE = "OBSB"
BIC = "OBSBGB2L"

_LETTERS = {ch: str(10 + i) for i, ch in enumerate(string.ascii_uppercase)}


def iban_check_digits(country: str, bban: str) -> str:
    """Return the two ISO 13616 check digits (MOD 97-10) for ``country`` and ``bban``."""
    rearranged = bban + country + "00"
    numeric = "".join(_LETTERS.get(ch, ch) for ch in rearranged.upper())
    return f"{98 - int(numeric) % 97:02d}"


def uk_iban(sort_code: str, account_number: str) -> str:
    """Return the GB IBAN of a sort code and account number at the sandbox bank."""
    bban = f"{BANK_CODE}{sort_code}{account_number}"
    return f"GB{iban_check_digits('GB', bban)}{bban}"


def iban_is_valid(iban: str) -> bool:
    """Tell whether ``iban`` passes the MOD 97-10 check."""
    iban = iban.replace(" ", "").upper()
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    if not rearranged.isalnum():
        return False
    return int("".join(_LETTERS.get(ch, ch) for ch in rearranged)) % 97 == 1


def luhn_check_digit(partial: str) -> str:
    """Return the Luhn check digit that completes ``partial`` (a card number without it)."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def mask_pan(pan: str) -> str:
    """Mask a card number as OBIE shows it without ``ReadPAN``: first 6 and last 4 digits."""
    return f"{pan[:6]}{'*' * (len(pan) - 10)}{pan[-4:]}"
