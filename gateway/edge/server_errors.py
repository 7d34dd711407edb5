"""The errors gunicorn answers itself, in the envelope: gunicorn workers for ``gateway serve``.

Gunicorn refuses some requests while it parses them, before the application sees them: a request
line longer than ``limit_request_line`` (414), a header field longer than
``limit_request_field_size`` or more fields than ``limit_request_fields`` (431), a malformed
request line or header (400). Its workers answer those with an HTML page and no
``x-fapi-interaction-id``. These workers answer ``OBErrorResponse1`` (see
:mod:`gateway.edge.errors`) with a fresh interaction id, which is also the body's ``Id`` and is
logged with the refusal. Statuses are gunicorn's; the messages are ours and never quote the
request (the log does).
"""

from __future__ import annotations

import json
import logging
import ssl
import uuid
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker
from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker

from gateway.edge.errors import ErrorDetail, error_document
from gateway.edge.interaction import HEADER

log = logging.getLogger(__name__)


def _present(*names: str) -> tuple[type[BaseException], ...]:
    """The gunicorn exceptions of these names that the installed gunicorn has."""
    return tuple(getattr(http_errors, name) for name in names if hasattr(http_errors, name))


# What gunicorn's parsing errors become: (exceptions, status, ErrorCode, Path, message); the first
# match wins. The statuses are the ones gunicorn's own Worker.handle_error gives, but for a
# malformed PROXY v2 header: the sender's fault, a 400, where gunicorn answers 500. A 5xx is U000,
# the code set's only 5xx code.
_REFUSALS: tuple[tuple[tuple[type[BaseException], ...], int, str, str | None, str], ...] = (
    (
        _present("LimitRequestLine"),
        414,
        "U002",
        None,
        "The request line (method, path and query) is longer than the gateway accepts: "
        "{limit_request_line} bytes",
    ),
    (
        _present("LimitRequestHeaders"),
        431,
        "U006",
        None,
        "The request's header fields are larger than the gateway accepts: at most "
        "{limit_request_fields} fields of at most {limit_request_field_size} bytes each",
    ),
    (
        _present("ExpectationFailed"),
        417,
        "U006",
        "Expect",
        "The gateway cannot meet the expectation of the Expect header",
    ),
    (
        _present("UnsupportedTransferCoding"),
        501,
        "U000",
        "Transfer-Encoding",
        "The gateway does not support this transfer coding",
    ),
    (
        _present("InvalidHeader", "InvalidHeaderName", "ObsoleteFolding", "InvalidSchemeHeaders"),
        400,
        "U006",
        None,
        "A request header is malformed",
    ),
    (
        _present(
            "InvalidRequestLine",
            "InvalidRequestMethod",
            "InvalidHTTPVersion",
            "InvalidProxyLine",
            "InvalidProxyHeader",
            "InvalidChunkSize",
            "ChunkMissingTerminator",
            "InvalidChunkExtension",
            "InvalidH2CPreface",
        ),
        400,
        "U010",
        None,
        "The request could not be parsed",
    ),
    (
        (*_present("ForbiddenProxyRequest"), ssl.SSLError),
        403,
        "U042",
        None,
        "Request forbidden",
    ),
    (
        _present("ConfigurationProblem"),
        500,
        "U000",
        None,
        "The gateway is not configured to serve this request",
    ),
)
# A header the application tried to send is the application's fault: an unexpected error.
_APPLICATION_FAULTS = _present("InvalidResponseHeader", "InvalidResponseHeaderName")
_UNEXPECTED = ErrorDetail("U000", "An unexpected error occurred; quote the Id to support")


def refusal(exc: BaseException, cfg: Any) -> tuple[int, ErrorDetail] | None:
    """The status and error detail of a request gunicorn refused, or ``None`` when ``exc`` is not
    the request's fault. ``cfg`` is gunicorn's configuration, whose limits the messages name."""
    if isinstance(exc, _APPLICATION_FAULTS):
        return None
    for kinds, status, code, path, message in _REFUSALS:
        if kinds and isinstance(exc, kinds):
            limits = {
                name: getattr(cfg, name)
                for name in (
                    "limit_request_line",
                    "limit_request_fields",
                    "limit_request_field_size",
                )
            }
            return status, ErrorDetail(code, message.format(**limits), path)
    return None


def http_response(status: int, detail: ErrorDetail, interaction_id: str) -> bytes:
    """A whole HTTP/1.1 response carrying ``OBErrorResponse1``; it closes the connection."""
    body = (json.dumps(error_document(status, (detail,), interaction_id)) + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{HEADER}: {interaction_id}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class EnvelopeErrors:
    """``handle_error`` of gunicorn's workers, answering in the envelope instead of HTML."""

    cfg: Any
    log: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        interaction_id = str(uuid.uuid4())
        peer = addr[0] if isinstance(addr, tuple) and addr else "-"
        extra = {"interaction_id": interaction_id}
        refused = refusal(exc, self.cfg)
        if refused is None:
            status, detail = 500, _UNEXPECTED
            log.error("unexpected error in the server from %s", peer, exc_info=exc, extra=extra)
        else:
            status, detail = refused
            # The exception's text may quote the request: a bounded repr, for the log only.
            log.warning("%s refused before the application, from %s: %.200r", status, peer,
                        str(exc), extra=extra)  # fmt: skip
        try:
            util.write_nonblock(client, http_response(status, detail, interaction_id))
        except Exception:  # the client may be gone: nothing more to tell it
            self.log.debug("Failed to send error message.")


class SyncWorker(EnvelopeErrors, GunicornSyncWorker):  # type: ignore[misc]
    """Gunicorn's sync worker (one request at a time), answering its errors in the envelope."""


class ThreadWorker(EnvelopeErrors, GunicornThreadWorker):  # type: ignore[misc]
    """Gunicorn's gthread worker, answering its errors in the envelope."""
