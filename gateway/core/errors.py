"""The errors a bank core raises for a request it cannot honour.

The gateway maps each to one OBIE error (``gateway.edge.errors``); a core never says more than its
class and a message a partner may read.
"""

from __future__ import annotations


class BankCoreError(Exception):
    """Base of the errors a bank core raises for a request it cannot honour."""


class UnknownResource(BankCoreError):
    """The resource does not exist in this tenant (never says whether it exists elsewhere)."""


class UnknownTenant(UnknownResource):
    """No sandbox tenant has this id (only seeding creates one)."""


class InsufficientFunds(BankCoreError):
    """A debit would take an account below its limit; nothing was posted."""


class InvalidInstruction(BankCoreError):
    """An instruction is malformed for the bank (currency mismatch, zero amount, ...)."""
