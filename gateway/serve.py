"""``gateway serve``: the gateway under gunicorn, one application per worker.

Gunicorn's own errors (a request too large or malformed to reach the application) are OBIE
errors (:mod:`gateway.edge.server_errors`); each instance has a control socket of its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from gateway import migrate
from gateway.store.database import Database

# Requests over these limits gunicorn refuses itself, as OBIE errors (gateway.edge.server_errors):
# 414 for a longer request line, 431 for a longer header field or more fields. Gunicorn's
# defaults, pinned: the README states them.
LIMIT_REQUEST_LINE = 4094
LIMIT_REQUEST_FIELD_SIZE = 8190
LIMIT_REQUEST_FIELDS = 100
# The longest path a Unix socket may have on Linux and macOS (sun_path less its final NUL).
MAX_SOCKET_PATH = 103
# Request threads: at least this many in all, so that a few slow calls (a partner's jwks_uri, a
# new sandbox tenant) do not stall the rest...
THREADS_IN_ALL = 4
# ...and no more than this many per worker unless asked. A thread that waits for Redis or the
# database hands the interpreter lock to another, and gets it back only when that one waits or
# its switch interval ends; each extra thread in a worker adds such hand-overs, which cost more
# CPU than the waits they fill (benchmarks/README.md: per payment 6.4 ms of CPU with 2
# threads a worker against 10.1 ms with 4, on 2 workers; per GET /accounts 0.64 ms against 0.72).
THREADS_PER_WORKER = 2


def control_socket_path(instance_path: str, host: str, port: int) -> Path:
    """The default gunicorn control socket of ``gateway serve`` on ``host:port``: one per
    instance, in the instance folder (gunicorn's own default is one per user, shared)."""
    name = re.sub(r"[^A-Za-z0-9.-]", "_", f"gunicorn-{host}-{port}.ctl")
    return Path(instance_path).absolute() / name


def _workers(asked: int | None) -> int:
    """How many workers: 2 with Redis, 1 without; more than one without Redis only when no
    worker keeps tokens (a worker's change would not reach the others' caches)."""
    shared = bool(current_app.config.get("REDIS_URL"))
    if asked is None:
        return 2 if shared else 1
    if asked > 1 and not shared and "token_cache" in current_app.extensions:
        # A worker's change would not reach the others' caches: revoked tokens would be served.
        raise click.UsageError(
            "GATEWAY_TOKEN_CACHE_SECONDS needs GATEWAY_REDIS_URL to run more than one worker"
        )
    if asked > 1 and not shared:
        click.secho(
            "warning: without GATEWAY_REDIS_URL each worker keeps its own replay caches, rate "
            "limits and portal state; set it, or run one worker",
            err=True,
            fg="yellow",
        )
    return asked


def default_threads(workers: int) -> int:
    """Request threads per worker when none are asked for: two, or more with fewer workers, so
    that there are :data:`THREADS_IN_ALL` in all (one worker: four)."""
    return max(THREADS_PER_WORKER, -(-THREADS_IN_ALL // workers))


def _control_socket(asked: str | None, host: str, port: int) -> Path:
    """Gunicorn's control socket: ``asked``, or one of this instance's own."""
    control = (
        Path(asked).absolute()
        if asked
        else control_socket_path(current_app.instance_path, host, port)
    )
    if len(os.fsencode(control)) > MAX_SOCKET_PATH:
        raise click.UsageError(
            f"the control socket path {control} is longer than a Unix socket's may be "
            f"({MAX_SOCKET_PATH} bytes); give a shorter one with --control-socket"
        )
    return control


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: 2 with Redis, 1 without: in-process stores are per worker].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Request threads per worker [default: 2, or 4 with one worker: the interpreter lock "
    "makes more threads a worker cost CPU; four in all keep slow calls from stalling the rest].",
)
@click.option(
    "--control-socket",
    type=click.Path(dir_okay=False),
    default=None,
    help="Gunicorn's control socket, for gunicornc -s PATH "
    "[default: gunicorn-HOST-PORT.ctl in the instance folder].",
)
def serve(
    host: str, port: int, workers: int | None, threads: int | None, control_socket: str | None
) -> None:
    """Run the gateway under gunicorn (the application is built once per worker); gunicorn's
    own errors (a request too large or malformed to reach the application) are OBIE errors."""
    workers = _workers(workers)
    per_worker = threads if threads is not None else default_threads(workers)
    control = _control_socket(control_socket, host, port)
    from gunicorn.app.base import BaseApplication

    # Each worker builds the application the way this one was built.
    factory: Callable[[], Flask] = current_app.extensions["factory"]
    database: Database = current_app.extensions["database"]
    current, head = migrate.schema_status(database.engine)
    if current != head:
        raise click.ClickException(
            f"database schema is at {current}, the code expects {head}: run `gateway db upgrade`"
        )
    # Workers fork from this process: they must not share its connections.
    database.dispose()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", per_worker)
            # Gunicorn's gthread and sync workers, answering their own errors in the envelope.
            worker = "ThreadWorker" if per_worker > 1 else "SyncWorker"
            self.cfg.set("worker_class", f"gateway.edge.server_errors.{worker}")
            self.cfg.set("limit_request_line", LIMIT_REQUEST_LINE)
            self.cfg.set("limit_request_field_size", LIMIT_REQUEST_FIELD_SIZE)
            self.cfg.set("limit_request_fields", LIMIT_REQUEST_FIELDS)
            self.cfg.set("accesslog", None)
            if "control_socket" in self.cfg.settings:  # gunicorn 25.1 and later
                self.cfg.set("control_socket", str(control))

        def load(self) -> Flask:
            return factory()

    Server().run()
