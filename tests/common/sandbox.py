"""The sandbox bank built by hand, for tests that choose its seed or its real time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from gateway.core.working_days import WorkingDays
from sandbox.clock import system_time
from sandbox.core import SandboxCore
from sandbox.synth.population import populate


def sandbox_core(
    session: Session,
    *,
    default_seed: int = 1,
    real_time: Callable[[], dt.datetime] = system_time,
    working_days: WorkingDays | None = None,
) -> SandboxCore:
    """The sandbox bank with its synthetic data sets, bound to ``session`` (paying on
    ``working_days`` when given)."""
    return SandboxCore(
        session,
        default_seed=default_seed,
        dataset=populate,
        real_time=real_time,
        working_days=working_days,
    )
