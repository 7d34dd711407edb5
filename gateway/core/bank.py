"""One bank, as the resource APIs and the authorization server see it: every contract at once."""

from __future__ import annotations

from typing import Protocol

from gateway.core.accounts import AccountsCore
from gateway.core.lending import LendingCore
from gateway.core.loans import LoansCore
from gateway.core.payments import PaymentsCore


class BankCore(AccountsCore, PaymentsCore, LendingCore, LoansCore, Protocol):
    """A bank core bound to one unit of work: it flushes, the caller commits; errors are
    :class:`gateway.core.errors.BankCoreError` subclasses."""
