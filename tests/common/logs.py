"""Recording log records in tests (pytest's caplog may or may not be attached to loggers that do
not propagate, depending on when they stopped propagating)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class Recorder(logging.Handler):
    """Keeps the records it handles."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def recording(logger_name: str) -> Iterator[Recorder]:
    """Records of ``logger_name`` (and its children) made inside the block."""
    recorder = Recorder()
    logger = logging.getLogger(logger_name)
    logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
