"""A real gateway process for end-to-end tests: migrated and served the way the README says."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = Path(sys.executable).parent / "gateway"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Seconds a new server has to answer /readyz.
READY_WITHIN = 90


@contextmanager
def running_gateway(
    folder: Path, secret: str, *, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """``gateway db upgrade`` then ``gateway serve`` (one worker, four threads) on a free port
    with its own SQLite database in ``folder`` (and ``env`` over the environment); yield its base
    URL and its environment (for CLI commands against the same database)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {
        **os.environ,
        "GATEWAY_DATABASE_URL": f"sqlite:///{folder / 'gateway.sqlite3'}",
        "GATEWAY_REDIS_URL": "",
        "GATEWAY_SECRET_KEY": secret,
        "GATEWAY_ISSUER": base,
        **(env or {}),
    }
    environ.pop("GATEWAY_SESSION_COOKIE_SECURE", None)
    subprocess.run([str(GATEWAY), "db", "upgrade"], env=environ, check=True, cwd=ROOT)
    # One worker: without Redis the in-process stores belong to one process. Four threads: the
    # portal's try-the-flow page calls back into the server while its own request is served.
    process = subprocess.Popen(
        [str(GATEWAY), "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Generous: on a busy machine a new server takes a while to import and to answer. A
        # slow answer times out (TimeoutError, an OSError like the refusals) and is retried.
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the gateway did not become ready within {READY_WITHIN} s")
        yield base, environ
    finally:
        process.terminate()
        process.wait(timeout=15)
