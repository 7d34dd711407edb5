"""The sandbox bank built by hand, for tests that choose its seed or its real time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from sandbox.clock import system_time
from sandbox.core import SandboxCore
from sandbox.synth.population import populate


def sandbox_core(
    session: Session,
    *,
    default_seed: int = 1,
    real_time: Callable[[], dt.datetime] = system_time,
) -> SandboxCore:
    """The sandbox bank with its synthetic data sets, bound to ``session``."""
    return SandboxCore(session, default_seed=default_seed, dataset=populate, real_time=real_time)
