#!/usr/bin/env python3
"""Authenticated API calls against a bare endpoint, on one gunicorn configuration, in one run.

Prints requests/s (the median of several rounds that alternate the endpoints, with the range) and
p50/p99 latency of

* ``GET /healthz`` (a Flask endpoint that touches no store: the bare baseline, through the same
  middleware),
* ``GET /open-banking/v4.0/aisp/accounts`` with a DPoP-bound token and a fresh proof per request,
* ``GET .../accounts/{id}/transactions`` (first page),

the gateway's CPU time per request (its gunicorn processes, read from ``/proc`` on Linux), and
their ratios (bar: accounts at least 0.4 of the bare endpoint's requests/s); then the p50 of
the first page of a million-row history beside a page deep in it (a booking window two and a half
years back), and their ratio (bar: at most 1.3).

With ``--floor`` (PostgreSQL and Redis) it also serves ``floor_app.py``, the least work any
gateway does for ``GET /accounts`` written without layers, on the same configuration and in the
same rounds, and prints the floor's own ratio and the gateway's rate over the floor's.

It talks HTTP only, like a partner; the partner and its sandbox are made with
``gateway ops load-partner`` (an ops task). Example, on PostgreSQL::

    GATEWAY_DATABASE_URL=postgresql+psycopg://postgres@localhost/test \\
        .venv/bin/python loadtests/bench_api.py --transactions 1000000
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
import floor_app  # noqa: E402 - next to this script

from partners.example_client import PartnerClient, parse_redirect  # noqa: E402

AIS = "/open-banking/v4.0/aisp"
GATEWAY = str(Path(sys.executable).parent / "gateway")
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return (
            None
            if "load.example" in newurl
            else super().redirect_request(req, fp, code, msg, headers, newurl)
        )


def wait_for(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Wait until ``server`` answers ``url``; stop the run if it does not."""
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310
                return
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer:\n{log.read_text()[-2000:]}")


def start_floor(args: argparse.Namespace, env: dict[str, str], folder: str) -> tuple[subprocess.Popen[bytes], PartnerClient]:  # fmt: skip  # noqa: E501
    """Serve :mod:`floor_app` on the gateway's gunicorn configuration; return it and a client
    whose DPoP key its token is bound to."""
    url = env["GATEWAY_DATABASE_URL"]
    if not url.startswith("postgresql") or not env.get("GATEWAY_REDIS_URL"):
        raise SystemExit("--floor needs GATEWAY_DATABASE_URL (PostgreSQL) and GATEWAY_REDIS_URL")
    port = free_port()
    client = PartnerClient(f"http://127.0.0.1:{port}", "floor-app", "", {})
    floor_env = {**env, "FLOOR_DATABASE_URL": url, "FLOOR_REDIS_URL": env["GATEWAY_REDIS_URL"],
                 "FLOOR_ISSUER": client.issuer}  # fmt: skip
    command = [GUNICORN, "--chdir", str(ROOT / "benchmarks"), "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--threads", str(args.threads),
               "--worker-class", "gthread" if args.threads > 1 else "sync",
               "floor_app:create_app()"]  # fmt: skip
    log = Path(folder) / "floor.log"
    server = subprocess.Popen(  # noqa: S603 - our own command line
        command, env=floor_env, stdout=subprocess.DEVNULL, stderr=log.open("w")
    )
    wait_for(server, f"{client.issuer}/healthz", log)
    return server, client


def authorise(client: PartnerClient, customer: dict[str, str]) -> str:
    """Consent, PAR, the customer's approval of every account, code exchange: an access token."""
    consent = client.create_account_access_consent(
        ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits",
         "ReadTransactionsDebits", "ReadTransactionsDetail"]
    )  # fmt: skip
    request_uri, verifier, state = client.push_authorization_request(consent["Data"]["ConsentId"])
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _Stop()
    )
    with browser.open(client.authorization_url(request_uri)) as page:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
    assert csrf
    form = urllib.parse.urlencode({"csrf_token": csrf.group(1), **customer}).encode()
    with browser.open(f"{client.issuer}/authorize/login", form) as page:
        html = page.read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    accounts = re.findall(r'name="account" value="([^"]+)"', html)
    assert csrf and accounts
    decision = urllib.parse.urlencode(
        {"csrf_token": csrf.group(1), "decision": "approve", "account": accounts}, doseq=True
    ).encode()
    try:
        browser.open(f"{client.issuer}/authorize/consent", decision)
    except urllib.error.HTTPError as answer:
        with answer:
            location = answer.headers["Location"]
    code = parse_redirect(location, state, client.issuer)
    return str(client.exchange_code(code, verifier)["access_token"])


def measure(port: int, requests: list[tuple[str, dict[str, str]]], concurrency: int) -> tuple[float, list[float]]:  # fmt: skip  # noqa: E501
    """Send the prepared GETs from keep-alive connections; return (requests/s, latencies)."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    cursor = iter(requests)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                break
            path, headers = item
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                (latencies if response.status == 200 else failures).append(elapsed)  # type: ignore[arg-type]
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed")
    return len(latencies) / wall, latencies


def port_of(client: PartnerClient) -> int:
    """The port of the server a client talks to."""
    return int(client.issuer.rsplit(":", 1)[1])


def prepared(client: PartnerClient, path: str, token: str | None, count: int) -> list[tuple[str, dict[str, str]]]:  # fmt: skip  # noqa: E501
    """``count`` requests of ``path``, each with its own DPoP proof (signed before the run)."""
    if token is None:
        return [(path, {})] * count
    url = client.issuer + path.split("?")[0]
    return [(path, client.resource_headers("GET", url, token)) for _ in range(count)]


def server_cpu_seconds(root: int) -> float | None:
    """CPU time (user + system) used so far by the gunicorn arbiter ``root`` and its workers,
    from ``/proc`` (``None`` where there is no ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    try:
        stats = [Path(f"/proc/{root}/stat").read_text()]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                # Fields after the command name: state, ppid, ...; utime and stime are 14, 15.
                if int(stat.rsplit(")", 1)[1].split()[1]) == root:
                    stats.append(stat)
    except OSError:
        return None
    for stat in stats:
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def p(values: list[float], q: float) -> float:
    """A percentile in milliseconds."""
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)] * 1000


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the endpoints")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--transactions", type=int, default=0, help="large history (0: none)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure floor_app.py, the least work of an authorised read")  # fmt: skip  # noqa: E501
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench_api_")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GATEWAY_ISSUER": issuer, "GATEWAY_SECRET_KEY": "bench",
           "GATEWAY_LOG_LEVEL": "WARNING",
           "GATEWAY_RATE_LIMIT_TIERS": json.dumps({"sandbox": "100000/second"})}  # fmt: skip
    env.setdefault("GATEWAY_DATABASE_URL", f"sqlite:///{folder}/gateway.sqlite3")
    partner_file = f"{folder}/partner.json"
    subprocess.run([GATEWAY, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    setup = [GATEWAY, "ops", "load-partner", "--issuer", issuer, "--output", partner_file]
    if args.transactions:
        setup += ["--transactions", str(args.transactions)]
    subprocess.run(setup, env=env, check=True)  # noqa: S603
    config: dict[str, Any] = json.loads(Path(partner_file).read_text())
    command = [GATEWAY, "serve", "--port", str(port), "--workers", str(args.workers),
               "--threads", str(args.threads)]  # fmt: skip
    log = Path(folder) / "server.log"
    server = subprocess.Popen(  # noqa: S603 - our own console script
        command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w")
    )
    floor: subprocess.Popen[bytes] | None = None
    try:
        wait_for(server, f"{issuer}/healthz", log)
        client = PartnerClient(issuer, config["client_id"], config["redirect_uri"],
                               config["private_jwk"])  # fmt: skip
        # The café (fourth test customer) holds the longest history.
        token = authorise(client, config["customers"][3])
        listed = client.get(f"{AIS}/accounts", token)["Data"]["Account"]
        trading = next(a["AccountId"] for a in listed if a["Nickname"] == "Trading")
        history = f"{AIS}/accounts/{trading}/transactions"
        deep_end = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 912 * 86400))
        deep = f"{history}?toBookingDateTime={deep_end}"
        # The ratio compares two full pages: a history that does not reach that far back gives
        # a short (or empty) deep page, whose speed says nothing.
        full_page = len(client.get(history, token)["Data"]["Transaction"])
        deep_is_full = 0 < full_page == len(client.get(deep, token)["Data"]["Transaction"])
        # (name, server, client, path, token)
        endpoints: list[tuple[str, subprocess.Popen[bytes], PartnerClient, str, str | None]] = [
            ("bare /healthz", server, client, "/healthz", None),
            ("GET /accounts", server, client, f"{AIS}/accounts", token),
            ("transactions, first page", server, client, history, token),
        ]
        if deep_is_full:
            endpoints.append(("transactions, deep page", server, client, deep, token))
        if args.floor:
            floor, floor_client = start_floor(args, env, folder)
            floor_token = floor_app.prepare(env["GATEWAY_DATABASE_URL"], listed,
                                            floor_client.dpop_jwk)  # fmt: skip
            endpoints += [("floor: bare /healthz", floor, floor_client, "/healthz", None),
                          ("floor: GET /accounts", floor, floor_client, f"{AIS}/accounts",
                           floor_token)]  # fmt: skip
        for _name, _server, caller, path, bearer in endpoints:  # warm-up
            measure(port_of(caller), prepared(caller, path, bearer, 200), args.concurrency)
        # Rounds alternate the endpoints, so that whatever else the machine does at one moment
        # (a checkpoint after the bulk load, another process) weighs on all of them alike.
        rates: dict[str, list[float]] = {entry[0]: [] for entry in endpoints}
        latencies: dict[str, list[float]] = {entry[0]: [] for entry in endpoints}
        # Milliseconds of server CPU (arbiter and workers) per request, per round.
        cpu: dict[str, list[float]] = {entry[0]: [] for entry in endpoints}
        for _round in range(args.rounds):
            for name, serving, caller, path, bearer in endpoints:
                batch = prepared(caller, path, bearer, args.requests)
                before = server_cpu_seconds(serving.pid)
                rate, times = measure(port_of(caller), batch, args.concurrency)
                after = server_cpu_seconds(serving.pid)
                rates[name].append(rate)
                latencies[name].extend(times)
                if before is not None and after is not None:
                    cpu[name].append((after - before) / len(batch) * 1000)
    finally:
        for process in (server, floor):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
        if floor is not None:
            floor_app.drop(env["GATEWAY_DATABASE_URL"])
    database = env["GATEWAY_DATABASE_URL"].split("?")[0]
    print(f"== API benchmark: {args.workers} workers x {args.threads} threads, "
          f"{args.concurrency} connections, {database} ==")  # fmt: skip
    for name, values in rates.items():
        spread = f"({min(values):,.0f}-{max(values):,.0f})"
        p50, p99 = p(latencies[name], 0.5), p(latencies[name], 0.99)
        used = f"   cpu {statistics.median(cpu[name]):5.2f} ms/req" if cpu[name] else ""
        print(f"{name:<26} {statistics.median(values):6,.0f} req/s {spread:<13} "
              f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms{used}")  # fmt: skip
    bare = statistics.median(rates["bare /healthz"])
    accounts = statistics.median(rates["GET /accounts"])
    transactions = statistics.median(rates["transactions, first page"])
    print(f"accounts / bare (req/s)      {accounts / bare:.2f}   (bar >= 0.4)")
    print(f"transactions / bare (req/s)  {transactions / bare:.2f}")
    if "transactions, deep page" in latencies:
        first = statistics.median(latencies["transactions, first page"])
        deep_p50 = statistics.median(latencies["transactions, deep page"])
        print(f"deep / first page (p50)      {deep_p50 / first:.2f}   (bar <= 1.3)")
    else:
        print("deep / first page (p50)      not measured: the history does not reach two and a "
              "half years back (--transactions 1000000 makes one that does)")  # fmt: skip
    if args.floor:
        floor_bare = statistics.median(rates["floor: bare /healthz"])
        floor_accounts = statistics.median(rates["floor: GET /accounts"])
        floor_ratio = floor_accounts / floor_bare
        print(f"floor: accounts / bare       {floor_ratio:.2f}   (one statement a call)")
        print(f"accounts / floor accounts    {accounts / floor_accounts:.2f}")


if __name__ == "__main__":
    main()
