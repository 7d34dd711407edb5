"""The errors gunicorn answers itself (:mod:`gateway.edge.server_errors`), beside gunicorn's own
``Worker.handle_error``: the same status for each of its parsing errors, in the envelope.

A real ``gateway serve`` answering such requests is tested in tests/functional/test_serve.py.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.http import errors as http_errors
from gunicorn.workers.base import Worker

from gateway.edge.errors import ERROR_CODES
from gateway.edge.interaction import HEADER
from gateway.edge.server_errors import EnvelopeErrors
from tests.common.logs import recording
from tests.common.obie import conforms_to

MARKER = "QUOTED-FROM-THE-REQUEST"
# Deliberately unlike gunicorn: a malformed PROXY v2 header is the sender's fault, not ours.
OURS_NOT_GUNICORNS = {"InvalidProxyHeader": 400}


class Socket:
    """Enough of a socket for gunicorn's ``util.write_nonblock``: it keeps what is sent."""

    def __init__(self) -> None:
        self.sent = b""

    def gettimeout(self) -> float | None:
        return None

    def setblocking(self, _flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.sent += data


def parsing_errors() -> list[BaseException]:
    """One instance of each exception class gunicorn's HTTP parser defines."""
    found = []
    for name, cls in sorted(vars(http_errors).items()):
        if not (inspect.isclass(cls) and issubclass(cls, http_errors.ParseException)):
            continue
        if cls is http_errors.ParseException:
            continue
        try:
            found.append(cls(MARKER))
        except TypeError:
            found.append(cls())
        assert type(found[-1]).__name__ == name
    return found


def answer(handle_error: Any, exc: BaseException) -> tuple[int, dict[str, str], bytes]:
    """What a worker's ``handle_error`` sends for ``exc``: status, headers, body."""
    client = Socket()
    cfg = SimpleNamespace(limit_request_line=4094, limit_request_fields=100,
                          limit_request_field_size=8190)  # fmt: skip
    worker = SimpleNamespace(cfg=cfg, log=logging.getLogger("test.gunicorn"))
    handle_error(worker, None, client, ("192.0.2.1", 50000), exc)
    head, _, body = client.sent.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "exc", [*parsing_errors(), RuntimeError("boom")], ids=lambda exc: type(exc).__name__
)
def test_gunicorn_s_status_in_the_envelope(exc: BaseException) -> None:
    gunicorn_status, gunicorn_headers, _ = answer(Worker.handle_error, exc)
    assert gunicorn_headers["content-type"] == "text/html"

    with recording("gateway.edge.server_errors") as records:
        status, headers, raw = answer(EnvelopeErrors.handle_error, exc)

    assert status == OURS_NOT_GUNICORNS.get(type(exc).__name__, gunicorn_status)
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(raw)
    body = json.loads(raw)
    conforms_to("OBErrorResponse1", body)
    assert body["Code"].startswith(f"{status} ")
    [error] = body["Errors"]
    assert error["ErrorCode"] in ERROR_CODES
    assert (error["ErrorCode"] == "U000") == (status >= 500)
    # A fresh interaction id: the response's header, the body's Id, the log line's.
    assert str(uuid.UUID(headers[HEADER])) == headers[HEADER] == body["Id"]
    [record] = records.records
    assert record.interaction_id == body["Id"]  # type: ignore[attr-defined]
    # The request is quoted in the log, never in the answer.
    assert MARKER not in raw.decode()


def test_the_limits_are_named_in_the_message() -> None:
    status, _, raw = answer(EnvelopeErrors.handle_error, http_errors.LimitRequestLine(5000, 4094))
    assert status == 414
    assert "4094 bytes" in json.loads(raw)["Message"]
    status, _, raw = answer(EnvelopeErrors.handle_error, http_errors.LimitRequestHeaders(MARKER))
    assert status == 431
    assert "100 fields of at most 8190 bytes" in json.loads(raw)["Message"]


def test_an_unexpected_error_is_logged_with_its_traceback() -> None:
    with recording("gateway.edge.server_errors") as records:
        status, _, raw = answer(EnvelopeErrors.handle_error, RuntimeError("boom"))
    assert status == 500
    assert json.loads(raw)["Errors"][0]["ErrorCode"] == "U000"
    [record] = records.records
    assert record.levelno == logging.ERROR and record.exc_info
