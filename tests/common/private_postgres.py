"""A PostgreSQL server of the test's own, to restart at will: the shared server serves other test
runs, so it is never restarted. Made with the binaries of the local installation (``initdb``,
``pg_ctl``) in a temporary folder, on a free port of the loopback interface, and removed at the
end. As root (a container), the server runs as the ``postgres`` user: PostgreSQL refuses root.

Where the binaries are missing the test skips, saying why (or fails under CI).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.common import services


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateServer:
    """One private PostgreSQL cluster: its URL, and restarts."""

    def __init__(self, binaries: Path, folder: Path, port: int, user: str | None) -> None:
        self.binaries = binaries
        self.data = folder / "data"
        self.port = port
        self._user = user
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.binaries / tool), *args]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def pg_ctl(self, *args: str) -> None:
        """Run ``pg_ctl`` on this cluster (waiting for it to finish)."""
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.data.parent / "server.log"), *args)  # fmt: skip

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is ended, the server is down a moment."""
        self.pg_ctl("-m", "fast", "restart")


@contextmanager
def private_postgres() -> Iterator[PrivateServer]:
    """Start a private cluster; stop and remove it afterwards."""
    binaries = _binaries()
    if binaries is None or not (binaries / "initdb").exists():
        services.unavailable("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        raise AssertionError("unreachable")
    user = None
    folder = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
    if os.geteuid() == 0:
        user = "postgres"
        record = pwd.getpwnam(user)
        os.chown(folder, record.pw_uid, record.pw_gid)
    server = PrivateServer(binaries, folder, _free_port(), user)
    try:
        server._run("initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync")  # fmt: skip
        server.pg_ctl("start")
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # never started
            server.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
