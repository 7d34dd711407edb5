"""Value types that more than one bank-core contract speaks of: who is paid or paying, where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CreditDebit = Literal["Credit", "Debit"]


@dataclass(frozen=True, slots=True)
class AccountIdentifier:
    """One identification of an account, named by an OBIE scheme (``UK.OBIE.IBAN``, ...)."""

    scheme: str
    identification: str
    name: str | None = None
    secondary_identification: str | None = None


@dataclass(frozen=True, slots=True)
class Counterparty:
    """The other side of a transfer: a name and, when known, how its account is identified."""

    name: str
    scheme: str | None = None
    identification: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address."""

    lines: tuple[str, ...]
    town: str
    post_code: str
    country: str
