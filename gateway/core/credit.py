"""The credit decision of the lending contract: what the bank is asked, and what it decides.

A bank that lends decides a :class:`CreditRequest` (the loan applied for, as quoted) from the
applicant's own accounts (those the customer shared on the consent page) as of its today, and
answers a :class:`Decision`: one :class:`Outcome`, the :class:`Reason` codes behind it each
with a sentence a person can read, and for an approval with conditions the loans the bank would
make instead (:class:`Condition`). The method is
:meth:`gateway.core.lending.LendingCore.decide`; the sandbox decides with the rules of
:mod:`sandbox.lending.decision`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from gateway.core.errors import InvalidInstruction

Applicant = Literal["Personal", "Business"]
ConditionKind = Literal["LowerAmount", "LongerTerm"]


class Outcome(StrEnum):
    """What the bank decided."""

    APPROVE = "Approve"
    APPROVE_WITH_CONDITIONS = "ApproveWithConditions"
    REFER = "Refer"
    DECLINE = "Decline"


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """The loan applied for: ``amount`` of ``currency`` over ``term_months`` at a monthly
    ``instalment`` (as quoted), the nominal ``annual_rate`` (percent) counter-offers are priced
    at, and the product's ``minimum_amount`` and ``maximum_term_months``. ``applicant`` is the
    kind of customer applying (a person or a business)."""

    applicant: Applicant
    currency: str
    amount: Decimal
    term_months: int
    instalment: Decimal
    annual_rate: Decimal
    minimum_amount: Decimal = Decimal(1000)
    maximum_term_months: int = 60

    def __post_init__(self) -> None:
        if self.amount <= 0 or self.instalment <= 0 or self.annual_rate < 0:
            raise InvalidInstruction("a loan needs a positive amount and instalment")
        if not 1 <= self.term_months <= self.maximum_term_months:
            raise InvalidInstruction(
                f"the term must be from 1 to {self.maximum_term_months} months"
            )


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: a stable code (``Affordable``, ``IrregularIncome``, ``PersistentOverdraft``, ...)
    and a sentence the applicant can read."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Condition:
    """A loan the bank would make instead: a lower ``amount`` over the same term, or the same
    amount over a longer ``term_months``, at ``instalment`` a month."""

    kind: ConditionKind
    amount: Decimal
    term_months: int
    instalment: Decimal


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, its reasons (most serious first), the conditions of an approval with
    conditions (none otherwise) and the largest monthly instalment the applicant can carry
    (negative when none)."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    conditions: tuple[Condition, ...]
    affordable_instalment: Decimal
