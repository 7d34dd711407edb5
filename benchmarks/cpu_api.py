#!/usr/bin/env python3
"""CPU per request of the API benchmark's cases, in process: figures that a busy machine moves
far less than requests per second.

The cases of :mod:`bench_api` (the bare Flask app, the gateway's ``/healthz``, ``GET /accounts``
with one token, round-robin over ``--tokens`` tokens, the same while a second partner authorises
a new consent and refreshes a token every second, and the token cache off), each sent
``--requests`` times a round straight to the WSGI application, its environ built beforehand as a
server would. Each request is timed with :func:`time.thread_time`: the CPU of the thread that
handles it, whatever else the machine runs (waiting for PostgreSQL or Redis costs nothing). The
partners, their consents and the churn go over HTTP to the same application, served by werkzeug
on another thread of this process: the churn's own CPU is not counted, only what it does to the
cached entries (their reads are counted).

For each case: the median over the rounds of the mean CPU per request; ``low``, the tenth
percentile of the means of its batches of 100 requests (the least disturbed: compare two
versions of the code with it); and the statements per request. ``--profile CASE`` then runs that
case under cProfile, timed by the thread's CPU, and prints the functions that took most.

Example, on PostgreSQL and Redis::

    GATEWAY_DATABASE_URL=postgresql+psycopg://postgres@localhost/test \\
        GATEWAY_REDIS_URL=redis://localhost:6379/3 .venv/bin/python benchmarks/cpu_api.py
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bare_app import app as bare
from bench_api import AIS, Churn, authorise, signed
from flask import Flask
from servers import BIN, free_port, settle_replay_store
from sqlalchemy import event
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from partners.example_client import PartnerClient

TIERS = {"sandbox": "1000000/second;100000000/minute;1000000000/day"}
BATCH = 100
# Under callgrind (--callgrind), instructions are counted only while the gateway serves the
# measured requests.
CALLGRIND = False
Requests = Callable[[int], list[tuple[str, dict[str, str]]]]


@dataclass
class Case:
    """One case: the application, what it is sent, and what was measured."""

    name: str
    app: Flask
    requests: Requests
    churn: bool = False
    means: list[float] = field(default_factory=list)
    batches: list[float] = field(default_factory=list)
    statements: list[float] = field(default_factory=list)


def gateway(issuer: str, cache_seconds: int | None) -> Flask:
    """The gateway as ``gateway serve`` builds it, with the benchmark's settings."""
    from gateway.app import create_app

    config: dict[str, Any] = {"ISSUER": issuer, "RATE_LIMIT_TIERS": TIERS,
                              "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}  # fmt: skip
    if cache_seconds is not None:
        config["TOKEN_CACHE_SECONDS"] = cache_seconds
    return create_app(config)


def environs(base: str, requests: list[tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
    """The WSGI environ of each of ``requests``, as a server would build it."""
    return [EnvironBuilder(path, base_url=base, headers=headers).get_environ()
            for path, headers in requests]  # fmt: skip


def timed(app: Flask, prepared: list[dict[str, Any]], expect: str = "200") -> list[float]:
    """Send the requests of ``prepared`` (environs) to ``app``; the CPU milliseconds of each
    (each must answer ``expect``)."""
    spent = []
    status: list[str] = []

    def start_response(sent: str, _headers: Any, _exc_info: Any = None) -> None:
        status[:] = [sent]

    grind = CALLGRIND and app.import_name == "gateway"
    if grind:
        _callgrind("on")
    for environ in prepared:
        started = time.thread_time()
        body = app.wsgi_app(environ, start_response)
        content = b"".join(body)
        getattr(body, "close", lambda: None)()
        spent.append((time.thread_time() - started) * 1000)
        if not status[0].startswith(expect):
            raise SystemExit(f"{environ['PATH_INFO']}: {status[0]} {content[:500]!r}")
    if grind:
        _callgrind("off")
    return spent


def _callgrind(switch: str) -> None:
    """Count instructions (``on``) or stop (``off``), when running under
    ``valgrind --tool=callgrind --instr-atstart=no``."""
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())],  # noqa: S603, S607
                   check=True, capture_output=True)  # fmt: skip


def counting(app: Flask, threads: Sequence[threading.Thread] = ()) -> Callable[[], int]:
    """Count the statements ``app``'s engines run on this thread (or on ``threads``) from now;
    the returned function stops counting and tells how many."""
    database = app.extensions.get("database")
    if database is None:
        return lambda: 0
    count, counted = [0], threads or [threading.current_thread()]

    def seen(*_args: Any) -> None:
        # (The threads' idents exist once they start, after this is set up.)
        count[0] += any(t.ident == threading.get_ident() for t in counted)

    engines = (database.read_engine, database.engine)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)

    def done() -> int:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
        return count[0]

    return done


def setup(tokens: int) -> tuple[str, list[Case], Churn, Callable[[], None]]:
    """Migrate, build the gateway (and one with its cache off), serve it on a thread, make the
    two partners, authorise the consents; the issuer, the cases, the churn, and a stop."""
    folder = Path(tempfile.mkdtemp(prefix="cpu_api_"))
    os.environ.update(
        {"GATEWAY_SECRET_KEY": "bench", "GATEWAY_RATE_LIMIT_TIERS": json.dumps(TIERS)}
    )
    os.environ.setdefault("GATEWAY_DATABASE_URL", f"sqlite:///{folder}/gateway.sqlite3")
    gateway_cli = str(BIN / "gateway")
    subprocess.run([gateway_cli, "db", "upgrade"], check=True, capture_output=True)  # noqa: S603
    settle_replay_store(os.environ.get("GATEWAY_REDIS_URL"))
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    app, cold = gateway(issuer, None), gateway(issuer, 0)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    partners = []
    for name in ("partner", "other"):
        output = folder / f"{name}.json"
        subprocess.run([gateway_cli, "ops", "load-partner", "--issuer", issuer, "--output",  # noqa: S603
                        str(output)], check=True, capture_output=True)  # fmt: skip
        config = json.loads(output.read_text())
        client = PartnerClient(issuer, config["client_id"], config["redirect_uri"],
                               config["private_jwk"])  # fmt: skip
        partners.append((client, config["customers"]))
    (client, customers), (churner, others) = partners
    # The café (fourth test customer), as in bench_api.
    one = [str(authorise(client, customers[3])["access_token"])]
    many = [str(authorise(client, customers[i % len(customers)])["access_token"])
            for i in range(tokens)]  # fmt: skip
    accounts = f"{AIS}/accounts"

    def calls(tokens: list[str]) -> Requests:
        return lambda n: signed(client, port, accounts, tokens, n)

    cases = [
        Case("bare Flask", bare, lambda n: [("/healthz", {})] * n),
        Case("gateway /healthz", app, lambda n: [("/healthz", {})] * n),
        Case("GET /accounts, one token", app, calls(one)),
        Case(f"{tokens} tokens", app, calls(many)),
        Case(f"{tokens} tokens + churn", app, calls(many), churn=True),
        Case("cache off", cold, calls(one)),
    ]
    return issuer, cases, Churn(churner, others), server.shutdown


def serve(app: Flask, prepared: list[dict[str, Any]], threads: int) -> tuple[list[float], int]:
    """Send ``prepared`` to ``app`` from ``threads`` threads at once (each its share, as a
    server's threads would), or from this thread; each request's CPU milliseconds (its thread's:
    what the threads spend handing the interpreter lock to each other included) and how many
    statements they ran."""
    if threads == 1:
        statements = counting(app)
        spent = timed(app, prepared)
        return spent, statements()
    shares: list[list[float]] = [[] for _ in range(threads)]
    failed: list[BaseException] = []

    def share(n: int) -> None:
        try:
            shares[n] = timed(app, prepared[n::threads])
        except BaseException as exc:
            failed.append(exc)

    workers = [threading.Thread(target=share, args=(n,)) for n in range(threads)]
    statements = counting(app, workers)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ran = statements()
    if failed:
        raise failed[0]
    return [ms for part in shares for ms in part], ran


def measure(cases: list[Case], issuer: str, churn: Churn, args: argparse.Namespace) -> None:
    """Rounds that alternate the cases (the first warms up and is not counted)."""
    for round_number in range(args.rounds + 1):
        for case in cases:
            prepared = environs(issuer, case.requests(args.requests))
            if case.churn:
                with churn:
                    spent, ran = serve(case.app, prepared, args.threads)
            else:
                spent, ran = serve(case.app, prepared, args.threads)
            if round_number:
                case.means.append(statistics.mean(spent))
                case.batches += [statistics.mean(spent[i : i + BATCH])
                                 for i in range(0, len(spent) - BATCH + 1, BATCH)]  # fmt: skip
                case.statements.append(ran / len(spent))


def report(cases: list[Case], args: argparse.Namespace) -> None:
    """The table."""
    database = os.environ["GATEWAY_DATABASE_URL"].split("?")[0]
    print(f"== CPU per request, in process: {args.requests} requests x {args.rounds} rounds, "
          f"{args.threads} thread(s), {database} ==")  # fmt: skip
    print(f"{'case':<28} {'cpu ms/req':>10} {'low':>7} {'/ bare':>7} {'statements':>11}")
    bare_cpu = statistics.median(cases[0].means)
    for case in cases:
        cpu = statistics.median(case.means)
        low = statistics.quantiles(case.batches, n=10)[0] if len(case.batches) > 1 else cpu
        print(f"{case.name:<28} {cpu:10.3f} {low:7.3f} {bare_cpu / cpu:7.2f} "
              f"{statistics.median(case.statements):11.2f}")  # fmt: skip


def profile(case: Case, issuer: str, churn: Churn, requests: int, out: str | None) -> None:
    """Run ``case`` under cProfile, timed by this thread's CPU; print the heaviest functions
    (and keep the whole profile in ``out``, for ``pstats`` or a viewer, when given)."""
    prepared = environs(issuer, case.requests(requests))
    profiler = cProfile.Profile(time.thread_time)
    with churn if case.churn else _Nothing():
        profiler.enable()
        timed(case.app, prepared)
        profiler.disable()
    stats = pstats.Stats(profiler)
    if out:
        stats.dump_stats(out)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(50)


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


def main() -> None:
    """Set up, measure, print the table (and a profile when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per case and round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (after one more)")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--only", help="measure only the cases whose names start so")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="send each case's requests from this many threads at once",
    )
    parser.add_argument("--profile", help="then profile the case whose name starts so")
    parser.add_argument("--profile-out", help="and keep that profile in this file (pstats)")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count instructions only while the gateway serves the measured "
        "requests (run under valgrind --tool=callgrind --instr-atstart=no)",
    )
    args = parser.parse_args()
    global CALLGRIND
    CALLGRIND = args.callgrind
    issuer, cases, churn, stop = setup(args.tokens)
    try:
        chosen = [c for c in cases if c is cases[0] or c.name.startswith(args.only or "")]
        measure(chosen, issuer, churn, args)
        report(chosen, args)
        if args.profile:
            case = next(c for c in cases if c.name.startswith(args.profile))
            profile(case, issuer, churn, args.requests, args.profile_out)
    finally:
        stop()


if __name__ == "__main__":
    main()
