"""The ``x-fapi-interaction-id`` header (FAPI 1.0 Baseline §6.2.1, kept by OBIE v4.0).

The gateway echoes the partner's interaction id, or generates an RFC 4122 UUID when none was sent,
on every response, errors included, and puts it on every log line of the request.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Response, g, request

from gateway.edge.context import this_g, this_request

HEADER = "x-fapi-interaction-id"
# The header carries an RFC 4122 UUID; anything else is replaced, never echoed (it would
# otherwise let a caller inject text into our logs and responses).
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

log = logging.getLogger("gateway.access")


class InteractionIdFilter(logging.Filter):
    """Adds ``interaction_id`` to log records made while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "interaction_id"):
            return True
        try:
            record.interaction_id = g.get("interaction_id", "-")
        except RuntimeError:  # outside an application context
            record.interaction_id = "-"
        return True


def assign() -> None:
    """Before a request: the partner's interaction id, or a new one."""
    sent = this_request().headers.get(HEADER, "")
    context = this_g()
    context.interaction_id = sent if _UUID.match(sent) else str(uuid.uuid4())
    context.started = time.perf_counter()


def echo(response: Response) -> None:
    """After a request: the interaction id on the response, and the access log line."""
    interaction_id = g.get("interaction_id") or str(uuid.uuid4())
    response.headers[HEADER] = interaction_id
    if log.isEnabledFor(logging.INFO):
        started = g.get("started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        log.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            extra={"interaction_id": interaction_id},
        )
