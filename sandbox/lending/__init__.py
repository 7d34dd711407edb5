"""The sandbox bank's lending: credit decisions from the applicant's own transactions.

:func:`decide` (in :mod:`sandbox.lending.decision`) is the credit decision engine: a pure
function of the applicant's account histories and the requested loan, which
:func:`read_histories` gathers through the account-information contract. The bank itself
decides an application (:class:`sandbox.credit.SandboxCredit`, its side of
:meth:`gateway.core.lending.LendingCore.decide`) with the same rules on a summarising read of
the same data (:mod:`sandbox.credit_summary`). The package imports nothing of the bank.
"""

from __future__ import annotations

from sandbox.lending.applicant import read_histories
from sandbox.lending.decision import Assessment, decide, judge
from sandbox.lending.measures import AccountHistory, Measures

__all__ = [
    "AccountHistory",
    "Assessment",
    "Measures",
    "decide",
    "judge",
    "read_histories",
]
