"""Request bodies and response shapes of the sandbox API, in OBIE's Data/Links/Meta style."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from gateway.api.common import iso
from gateway.core.administration import MAX_ADVANCE, DueRun, TenantInfo

# The furthest one call moves a sandbox clock (a longer jump is refused, not left to time out).
MAX_DAYS = MAX_ADVANCE.days
MAX_HOURS = MAX_DAYS * 24


class AdvanceData(Schema):
    """How far to move the clock: whole days and hours, at least one hour in all."""

    class Meta:
        unknown = RAISE

    Days = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_DAYS),
        metadata={"description": "Whole days to move forward.", "example": 1},
    )
    Hours = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_HOURS),
        metadata={"description": "Whole hours to move forward.", "example": 0},
    )

    @validates_schema
    def _forward(self, data: dict[str, Any], **_kwargs: Any) -> None:
        hours = data.get("Days", 0) * 24 + data.get("Hours", 0)
        if hours <= 0:
            raise ValidationError("Move the clock forward by at least one hour: give Days or Hours")
        if hours > MAX_HOURS:
            raise ValidationError(f"Move the clock at most {MAX_DAYS} days in one call")


class AdvanceRequest(Schema):
    """The body of ``POST /clock/advance``."""

    class Meta:
        unknown = RAISE

    Data = fields.Nested(AdvanceData, required=True)


class ResetData(Schema):
    """A reset takes no parameters: the sandbox goes back to its seed."""

    class Meta:
        unknown = RAISE


class ResetRequest(Schema):
    """The optional body of ``POST /reset``: ``{"Data": {}}``."""

    class Meta:
        unknown = RAISE

    Data = fields.Nested(ResetData, required=True)


def delta(data: dict[str, Any]) -> dt.timedelta:
    """The time an advance request asks for."""
    return dt.timedelta(days=data.get("Days", 0), hours=data.get("Hours", 0))


def _pascal(kind: str) -> str:
    """A kind of due work as the body names it: ``standing_order`` is ``StandingOrder``."""
    return "".join(part[:1].upper() + part[1:] for part in kind.split("_"))


def clock_body(sandbox_id: str, info: TenantInfo) -> dict[str, Any]:
    """``Data`` of the clock: whose sandbox, its time, and what it holds."""
    return {
        "SandboxId": sandbox_id,
        "DateTime": iso(info.now),
        "Customers": info.customers,
        "Accounts": info.accounts,
    }


def advance_body(
    sandbox_id: str, before: dt.datetime, run: DueRun, moved: dt.timedelta
) -> dict[str, Any]:
    """``Data`` of an advance: the time before and after, and the due work it ran by kind."""
    return {
        "SandboxId": sandbox_id,
        "PreviousDateTime": iso(before),
        "DateTime": iso(run.now),
        "Advanced": {"Days": moved.days, "Hours": moved.seconds // 3600},
        "Executed": {_pascal(kind): count for kind, count in sorted(run.executed.items())},
        "Rejected": {_pascal(kind): count for kind, count in sorted(run.rejected.items())},
    }
