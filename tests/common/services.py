"""Real PostgreSQL and Redis for the tests.

Each test session works in a PostgreSQL schema of its own (created, migrated, dropped at the end),
so test runs never see each other's rows and never touch other data in the database.

Where a server is not reachable the tests that need it skip, saying why, on a developer's machine;
under CI (``CI`` set to a true value) they fail instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@localhost:5432/test"
DEFAULT_REDIS = "redis://localhost:6379/1"


def in_ci() -> bool:
    """Tell whether this run is CI, where a missing server is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip on a developer's machine, fail under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI must reach it)", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str:
    """The PostgreSQL server the tests use (``GATEWAY_TEST_POSTGRES_URL``)."""
    return os.environ.get("GATEWAY_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def redis_database(url: str, offset: int) -> str:
    """``url`` with its database number moved by ``offset`` (``redis://h:6379/2`` + 2 is
    ``redis://h:6379/4``); Redis has databases 0 to 15."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + offset
    if number > 15:
        raise ValueError(f"{url} moved by {offset} is past Redis's last database (15)")
    return urlunsplit(parts._replace(path=f"/{number}"))


def redis_url() -> str:
    """The Redis server the tests use (``GATEWAY_TEST_REDIS_URL``)."""
    return os.environ.get("GATEWAY_TEST_REDIS_URL", DEFAULT_REDIS)


def reachable(host: str, port: int) -> bool:
    """Tell whether a TCP server answers at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """Create a fresh schema in ``base_url``'s database; yield a URL whose connections use it."""
    url = make_url(base_url)
    if not reachable(url.host or "localhost", url.port or 5432):
        unavailable(f"PostgreSQL is not reachable at {url.host}:{url.port}")
    schema = f"test_{secrets.token_hex(4)}"
    admin = create_engine(url.set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = url.set(drivername="postgresql+psycopg").update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def redis_client() -> redis.Redis:
    """Return a client for the test Redis, skipping (or failing in CI) when it is down."""
    client: redis.Redis = redis.Redis.from_url(redis_url(), socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        unavailable(f"Redis is not reachable at {redis_url()}")
    return client


class PrivateRedis:
    """A ``redis-server`` of a test's own (never the shared one: other runs use it), without
    persistence, on a free loopback port, with its files in ``folder``; it can be restarted
    empty on the same port."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder),
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = self.client()
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        log = (self.folder / "redis.log").read_text(errors="replace")
                        pytest.fail(f"redis-server did not start on {self.port}:\n{log}")
                    time.sleep(0.05)
        finally:
            client.close()

    def restart(self) -> None:
        """``SHUTDOWN NOSAVE``, then start again on the same port: an empty store."""
        client = self.client()
        client.shutdown(nosave=True)
        client.close()
        assert self.process is not None
        self.process.wait(timeout=10)
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        """A client that does not retry (SHUTDOWN answers by closing the connection)."""
        return redis.Redis(
            host="127.0.0.1", port=self.port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
        )


@contextmanager
def private_redis(folder: Path) -> Iterator[PrivateRedis]:
    """A started :class:`PrivateRedis`; without ``redis-server`` the test skips, or fails in CI."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(binary, os.X_OK):
        unavailable("redis-server is not installed: a test of a Redis restart needs its own")
    server = PrivateRedis(binary, folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
