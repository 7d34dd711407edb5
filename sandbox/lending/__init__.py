"""The sandbox bank's lending: credit decisions from the applicant's own transactions.

:func:`decide` (in :mod:`sandbox.lending.decision`) is the credit decision engine the lending
contract's applications call: a pure function of the applicant's account histories and the
requested loan. :func:`read_histories` gathers those histories through the account-information
contract.
"""

from __future__ import annotations

from sandbox.lending.applicant import read_histories
from sandbox.lending.decision import Condition, Decision, LoanRequest, Outcome, Reason, decide
from sandbox.lending.measures import AccountHistory, Measures

__all__ = [
    "AccountHistory",
    "Condition",
    "Decision",
    "LoanRequest",
    "Measures",
    "Outcome",
    "Reason",
    "decide",
    "read_histories",
]
