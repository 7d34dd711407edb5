#!/usr/bin/env python3
"""CPU per payment POST, in process: the figure to follow while making the payment path cheaper.

Builds the gateway as ``gateway serve`` does, serves it with werkzeug on a thread of this process
(to make a partner with ``gateway ops load-partner`` and authorise payment consents over HTTP,
as :mod:`bench_payments` does), then sends ``POST /domestic-payments`` straight to the WSGI
application: each request a distinct authorised consent and its customer's token, its own DPoP
proof, a new ``x-idempotency-key``, the body signed, and each one executed by the sandbox bank.
Each request is timed with :func:`time.thread_time` (waiting for the database or Redis costs
nothing) and its database statements are counted. ``--profile`` then sends more under cProfile,
timed by the thread's CPU, and prints the functions that took most; ``--sql`` prints the
statements of one payment.

Example, on PostgreSQL and Redis::

    GATEWAY_DATABASE_URL=postgresql+psycopg://postgres@localhost/test \\
        GATEWAY_REDIS_URL=redis://localhost:6379/3 .venv/bin/python benchmarks/cpu_payments.py
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import pstats
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cpu_api
from bench_payments import Consents, payment_requests
from cpu_api import TIERS, counting, gateway
from flask import Flask
from servers import BIN, free_port, settle_replay_store
from sqlalchemy import event
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from partners.example_client import PartnerClient

BATCH = 50


def prepare(count: int) -> tuple[Flask, list[dict[str, Any]], Any]:
    """Migrate, build and serve the gateway, make the partner and ``count`` payments ready to
    send: the application, their WSGI environs, and a stop."""
    folder = Path(tempfile.mkdtemp(prefix="cpu_payments_"))
    os.environ.update(
        {"GATEWAY_SECRET_KEY": "bench", "GATEWAY_RATE_LIMIT_TIERS": json.dumps(TIERS)}
    )
    os.environ.setdefault("GATEWAY_DATABASE_URL", f"sqlite:///{folder}/gateway.sqlite3")
    gateway_cli = str(BIN / "gateway")
    subprocess.run([gateway_cli, "db", "upgrade"], check=True, capture_output=True)  # noqa: S603
    settle_replay_store(os.environ.get("GATEWAY_REDIS_URL"))
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    app = gateway(issuer, None)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    output = folder / "partner.json"
    subprocess.run([gateway_cli, "ops", "load-partner", "--issuer", issuer, "--output",  # noqa: S603
                    str(output)], check=True, capture_output=True)  # fmt: skip
    config = json.loads(output.read_text())
    client = PartnerClient(issuer, config["client_id"], config["redirect_uri"],
                           config["private_jwk"])  # fmt: skip
    ready = Consents(client, config["customers"], 4).make(count)
    environs = [
        EnvironBuilder(target.split(" ", 1)[1], base_url=issuer, method="POST", headers=headers,
                       data=body).get_environ()
        for target, headers, body in payment_requests(client, port, ready)
    ]  # fmt: skip
    return app, environs, server.shutdown


def timed(app: Flask, environs: list[dict[str, Any]]) -> list[float]:
    """Send each payment once; the CPU milliseconds of each (each must answer 201)."""
    return cpu_api.timed(app, environs, expect="201")


def show_statements(app: Flask, environ: dict[str, Any]) -> None:
    """Send one payment and print the statements it ran."""
    database = app.extensions["database"]
    engines = (database.engine, database.read_engine)

    def show(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        print("  SQL:", " ".join(statement.split())[:160])

    for engine in engines:
        event.listen(engine, "before_cursor_execute", show)
    try:
        timed(app, [environ])
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", show)


def main() -> None:
    """Prepare, measure, print (and profile when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=300, help="measured, after a warm-up")
    parser.add_argument("--profile", type=int, default=0, help="then profile this many more")
    parser.add_argument("--sql", action="store_true", help="print one payment's statements")
    args = parser.parse_args()
    warm = 30
    app, environs, stop = prepare(warm + args.payments + args.profile + int(args.sql))
    try:
        timed(app, environs[:warm])
        measured = environs[warm : warm + args.payments]
        statements = counting(app)
        spent = timed(app, measured)
        ran = statements()
        batches = [statistics.mean(spent[i : i + BATCH])
                   for i in range(0, len(spent) - BATCH + 1, BATCH)]  # fmt: skip
        low = min(batches) if batches else statistics.mean(spent)
        database = os.environ["GATEWAY_DATABASE_URL"].split("?")[0]
        print(f"== payment POST, in process: {len(spent)} payments, {database} ==")
        print(f"cpu ms/payment: mean {statistics.mean(spent):.2f}, median "
              f"{statistics.median(spent):.2f}, low (best batch of {BATCH}) {low:.2f}; "
              f"statements/payment {ran / len(spent):.1f}")  # fmt: skip
        rest = environs[warm + args.payments :]
        if args.sql:
            show_statements(app, rest.pop())
        if args.profile:
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            timed(app, rest)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(60)
    finally:
        stop()


if __name__ == "__main__":
    main()
