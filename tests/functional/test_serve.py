"""``gateway serve`` as an operator runs it: gunicorn's own errors in the envelope, and a control
socket per instance.

Gunicorn answers some requests itself, before the application sees them (a request line or
header over its limits, a malformed request): they are sent here over a raw socket to a real
server, since no HTTP client library sends them.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from gunicorn.ctl.client import ControlClient

from gateway.edge.interaction import HEADER
from gateway.serve import LIMIT_REQUEST_FIELD_SIZE, LIMIT_REQUEST_LINE, control_socket_path
from tests.common.obie import conforms_to
from tests.common.server import running_gateway

# A partner's own interaction id, sent with each request that has headers.
SENT_ID = "6f1b3d2a-8c4e-4f5a-9b7d-0e2c4a6b8d1f"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A gateway under gunicorn: its host and port."""
    with running_gateway(tmp_path_factory.mktemp("serve"), "serve-secret") as (base, _env):
        address = urllib.parse.urlsplit(base)
        assert address.hostname and address.port
        yield address.hostname, address.port


def exchange(server: tuple[str, int], raw: bytes) -> tuple[http.client.HTTPResponse, bytes]:
    """Send ``raw`` bytes as a request; return the response and its body."""
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response, response.read()


def request(target: str, *headers: str, method: str = "GET") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", f"{HEADER}: {SENT_ID}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


BASIC_64_KB = "Authorization: Basic " + base64.b64encode(b"cli_x:" + b"s" * 49_000).decode()

REFUSED = {
    "9 KB header": (431, "U006", request("/healthz", "X-Padding: " + "a" * 9 * 1024)),
    "64 KB Basic header": (
        431, "U006", request("/token", BASIC_64_KB, "Content-Length: 0", method="POST"),
    ),
    "101 header fields": (431, "U006", request("/healthz", *(f"X-{n}: y" for n in range(100)))),
    "4 KB URI": (414, "U002", request("/open-banking/v4.0/aisp/accounts?q=" + "a" * 4096)),
    "malformed request line": (400, "U010", b"NOT AN HTTP REQUEST\r\n\r\n"),
    "malformed header": (400, "U006", request("/healthz", "A header without a colon")),
    "folded header": (400, "U006", request("/healthz", "X-Folded: a", " b")),
}  # fmt: skip


@pytest.mark.parametrize(("status", "code", "raw"), REFUSED.values(), ids=REFUSED.keys())
def test_gunicorn_s_refusals_are_obie_errors(
    server: tuple[str, int], status: int, code: str, raw: bytes
) -> None:
    response, raw_body = exchange(server, raw)

    assert response.status == status
    assert response.getheader("Content-Type") == "application/json"
    body: dict[str, Any] = json.loads(raw_body)
    conforms_to("OBErrorResponse1", body)
    assert body["Code"].startswith(f"{status} ")
    assert [error["ErrorCode"] for error in body["Errors"]] == [code]
    # A fresh interaction id (the request's headers were never read): the header and the Id.
    interaction_id = response.getheader(HEADER)
    assert interaction_id and str(uuid.UUID(interaction_id)) == interaction_id != SENT_ID
    assert body["Id"] == interaction_id


WITHIN = {
    "8 KB header": request("/healthz", "X-Padding: " + "a" * (LIMIT_REQUEST_FIELD_SIZE - 20)),
    "4 KB URI": request("/healthz?q=" + "a" * (LIMIT_REQUEST_LINE - 40)),
    "99 more header fields": request("/healthz", *(f"X-{n}: y" for n in range(97))),
}


@pytest.mark.parametrize("raw", WITHIN.values(), ids=WITHIN.keys())
def test_requests_within_the_limits_reach_the_application(
    server: tuple[str, int], raw: bytes
) -> None:
    response, body = exchange(server, raw)
    assert response.status == 200, body
    # The application read the headers: it echoes the partner's interaction id.
    assert response.getheader(HEADER) == SENT_ID


# The control socket ---------------------------------------------------------------------------


def listeners(path: Path) -> dict[str, Any]:
    """What the gunicorn at the control socket ``path`` listens on."""
    # Gunicorn opens its control socket once its workers are up, so maybe after they answer
    # (slowly on a busy machine).
    deadline = time.monotonic() + 60
    while True:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no control socket at {path}")
        time.sleep(0.1)
    with ControlClient(str(path), timeout=30) as client:
        listeners: dict[str, Any] = client.send_command("show listeners")
    return listeners


def test_each_instance_has_a_control_socket_of_its_own(app: Flask, tmp_path: Path) -> None:
    # Gunicorn's default, shared by every instance one user runs, would be in this HOME.
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": ""}
    for folder in ("1", "2"):
        (tmp_path / folder).mkdir()
    with ExitStack() as first_running, ExitStack() as second_running:
        first, _ = first_running.enter_context(running_gateway(tmp_path / "1", "s1", env=env))
        second, _ = second_running.enter_context(running_gateway(tmp_path / "2", "s2", env=env))
        sockets = {}
        for base in (first, second):
            port = urllib.parse.urlsplit(base).port
            assert port
            sockets[base] = control_socket_path(app.instance_path, "127.0.0.1", port)
            # Each socket is its own instance's: it lists that instance's listener.
            assert listeners(sockets[base])["listeners"][0]["address"].endswith(f":{port}")

        first_running.close()
        assert not sockets[first].exists(), "an instance removes its own socket when it stops"
        assert listeners(sockets[second])["count"] == 1, "and leaves the other's alone"
    assert not sockets[second].exists()
    assert not (home / ".gunicorn").exists()


def test_serve_refuses_a_control_socket_path_too_long_for_a_unix_socket(
    app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / ("x" * 120) / "gunicorn.ctl"
    result = app.test_cli_runner().invoke(args=["serve", "--control-socket", str(path)])
    assert result.exit_code == 2
    assert "longer than a Unix socket's may be" in result.output


@pytest.mark.parametrize(
    ("options", "workers", "threads"),
    [
        ([], 2, 2),
        (["--workers", "1"], 1, 4),
        (["--workers", "3"], 3, 2),
        (["--workers", "2", "--threads", "6"], 2, 6),
    ],
)
def test_serve_runs_two_threads_a_worker_and_four_in_all_unless_asked(
    app: Flask, monkeypatch: pytest.MonkeyPatch, options: list[str], workers: int, threads: int
) -> None:
    # What gunicorn is given: its configuration when it would start serving.
    started: dict[str, Any] = {}

    def run(self: Any) -> None:
        cfg = self.cfg
        started.update(workers=cfg.workers, threads=cfg.threads, worker=cfg.worker_class_str)

    monkeypatch.setattr("gunicorn.app.base.BaseApplication.run", run)
    # Several workers need the shared store; nothing connects to it before gunicorn runs.
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    result = app.test_cli_runner().invoke(args=["serve", "--port", "0", *options])
    assert result.exit_code == 0, result.output
    assert started == {
        "workers": workers,
        "threads": threads,
        "worker": "gateway.edge.server_errors.ThreadWorker",
    }
