#!/usr/bin/env python3
"""The gateway's API beside a bare Flask application, on one gunicorn configuration, in one run.

Starts three servers on the same configuration (``--workers`` x ``--threads``, gthread): a bare
Flask app answering ``GET /healthz`` with a small JSON body (:mod:`bare_app`), the gateway, and a
second gateway with its token cache off. Then, in rounds that alternate the cases, wrk on this
machine sends prepared requests (each DPoP-bound call its own proof, signed before the round) and
the script reads the servers' CPU time from ``/proc``. For each case it prints requests/s (median
of the rounds, with the range), p50 and p99 latency, server CPU per request, and the ratio of its
requests/s to the bare app's in the same round:

* ``bare Flask``: the baseline;
* ``gateway /healthz``: the edge alone (bar >= 0.6);
* ``GET /accounts, one token``: one token, cache on (bar >= 0.40);
* ``200 tokens``: round-robin over 200 consents and their tokens;
* ``200 tokens + churn``: the same while a second partner authorises a new consent and refreshes
  a token every second (bar >= 0.9 of the one-token figure);
* ``cache off``: one token, every call reading the token and the accounts (bar >= 0.20);
* with ``--history``, the first page of the busiest account's transactions and a page deep in it.

It talks HTTP only, like a partner; the partners and their sandboxes are made with
``gateway ops load-partner``. Example, on PostgreSQL and Redis::

    GATEWAY_DATABASE_URL=postgresql+psycopg://postgres@localhost/test \\
        GATEWAY_REDIS_URL=redis://localhost:6379/3 .venv/bin/python benchmarks/bench_api.py
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servers import BIN, ROOT, Server, free_port, migrated_env, start

from gateway.serve import default_threads
from partners.example_client import GatewayError, PartnerClient, parse_redirect

AIS = "/open-banking/v4.0/aisp"
PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits",
               "ReadTransactionsDebits", "ReadTransactionsDetail"]  # fmt: skip


class _Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if "load.example" in newurl:
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def authorise(client: PartnerClient, customer: dict[str, str]) -> dict[str, Any]:
    """Consent, PAR, the customer's approval of every account, code exchange: the tokens."""
    consent = client.create_account_access_consent(PERMISSIONS)["Data"]["ConsentId"]
    request_uri, verifier, state = client.push_authorization_request(consent)
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
    return client.exchange_code(code, verifier)


@dataclass
class Case:
    """What one case sends: ``requests(count)`` prepares that many (path, headers)."""

    name: str
    server: Server
    requests: Any
    churn: bool = False
    rates: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    errors: int = 0


def signed(client: PartnerClient, port: int, path: str, tokens: list[str], count: int) -> list[tuple[str, dict[str, str]]]:  # fmt: skip  # noqa: E501
    """``count`` calls of ``path`` round-robin over ``tokens``, each with a proof of its own
    (without a DPoP nonce: a proof signed ahead would outlive it)."""
    url = f"http://127.0.0.1:{port}{path.split('?')[0]}"
    client.dpop_nonces.clear()
    return [(path, client.resource_headers("GET", url, tokens[i % len(tokens)]))
            for i in range(count)]  # fmt: skip


def run_wrk(case: Case, args: argparse.Namespace, folder: Path, count: int) -> dict[str, Any]:
    """Send ``count`` prepared requests' worth for ``args.seconds`` seconds; wrk's summary."""
    lines = []
    for path, headers in case.requests(count):
        lines.append("\t".join([path, *(f"{k}: {v}" for k, v in headers.items())]))
    requests = folder / "requests.txt"
    requests.write_text("\n".join(lines) + "\n")
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections),
               "-d", f"{args.seconds}s", "--latency", "-s", str(ROOT / "wrk_requests.lua"),
               f"http://127.0.0.1:{case.server.port}", "--", str(requests),
               str(args.wrk_threads)]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


class Churn:
    """A second partner that authorises a new consent and refreshes a token every second."""

    def __init__(self, client: PartnerClient, customers: list[dict[str, str]]) -> None:
        self.client, self.customers = client, customers
        self.refresh_token = str(authorise(client, customers[0])["refresh_token"])
        self.done = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        # Every second on the clock, not a second after the last one ended (which, with the
        # authorisation's own time, would be less often than once a second).
        due = time.monotonic() + 1.0
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            authorise(self.client, self.customers[self.done % len(self.customers)])
            self.refresh_token = str(self.client.refresh(self.refresh_token)["refresh_token"])
            self.done += 1
            due += 1.0

    def __enter__(self) -> Churn:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def load_partner(env: dict[str, str], issuer: str, output: Path, transactions: int) -> dict[str, Any]:  # fmt: skip  # noqa: E501
    """A sandbox partner for the run (``gateway ops load-partner``), and its configuration."""
    command = [str(BIN / "gateway"), "ops", "load-partner", "--issuer", issuer,
               "--output", str(output)]  # fmt: skip
    if transactions:
        command += ["--transactions", str(transactions)]
    subprocess.run(command, env=env, check=True, capture_output=True)  # noqa: S603
    return dict(json.loads(output.read_text()))


def servers(args: argparse.Namespace, env: dict[str, str], folder: Path) -> dict[str, Server]:
    """The bare app, the gateway, and the gateway with its token cache off."""
    ports = {name: free_port() for name in ("bare", "gateway", "cold")}
    shape = ["--workers", str(args.workers), "--threads", str(args.threads)]
    bare = start(
        "bare", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{ports['bare']}", *shape,
                 "--worker-class", "gthread", "bare_app:app"], env, folder, ports["bare"],
    )  # fmt: skip
    found = {"bare": bare}
    for name, cache in (("gateway", None), ("cold", "0")):
        port = ports[name]
        server_env = {**env, "GATEWAY_ISSUER": f"http://127.0.0.1:{port}"}
        if cache is not None:
            server_env["GATEWAY_TOKEN_CACHE_SECONDS"] = cache
        command = [str(BIN / "gateway"), "serve", "--port", str(port), *shape,
                   "--control-socket", str(folder / f"{name}.ctl")]  # fmt: skip
        found[name] = start(name, command, server_env, folder, port)
    return found


def cases(args: argparse.Namespace, up: dict[str, Server], client: PartnerClient,
          config: dict[str, Any]) -> list[Case]:  # fmt: skip
    """The cases of the table, with the tokens they use."""
    gateway, cold = up["gateway"], up["cold"]
    customers = config["customers"]
    # The café (fourth test customer) holds the longest history.
    one = str(authorise(client, customers[3])["access_token"])
    many = [str(authorise(client, customers[i % len(customers)])["access_token"])
            for i in range(args.tokens)]  # fmt: skip
    accounts = f"{AIS}/accounts"
    found = [
        Case("bare Flask", up["bare"], lambda n: [("/healthz", {})] * n),
        Case("gateway /healthz", gateway, lambda n: [("/healthz", {})] * n),
        Case("GET /accounts, one token", gateway,
             lambda n: signed(client, gateway.port, accounts, [one], n)),
        Case(f"{args.tokens} tokens", gateway,
             lambda n: signed(client, gateway.port, accounts, many, n)),
        Case(f"{args.tokens} tokens + churn", gateway,
             lambda n: signed(client, gateway.port, accounts, many, n), churn=True),
        Case("cache off", cold, lambda n: signed(client, cold.port, accounts, [one], n)),
    ]  # fmt: skip
    if args.history:
        listed = client.get(accounts, one)["Data"]["Account"]
        trading = next(a["AccountId"] for a in listed if a["Nickname"] == "Trading")
        history = f"{AIS}/accounts/{trading}/transactions"
        deep_end = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 912 * 86400))
        deep = f"{history}?toBookingDateTime={deep_end}"
        found += [
            Case("transactions, first page", gateway,
                 lambda n: signed(client, gateway.port, history, [one], n)),
            Case("transactions, deep page", gateway,
                 lambda n: signed(client, gateway.port, deep, [one], n)),
        ]  # fmt: skip
    return found


def measure(all_cases: list[Case], args: argparse.Namespace, folder: Path, churn: Churn) -> None:
    """Rounds that alternate the cases, so that the machine's moods weigh on all alike."""
    expected = {case.name: 500.0 for case in all_cases}
    for round_number in range(args.rounds + 1):  # the first round warms up and sizes the next
        bare_rate = None
        for case in all_cases:
            # Twice its best rate, or the one-token rate when that is higher: a case that runs
            # faster this round than before (the warm-up's churn, say) must not run out.
            rate = max(expected[case.name], expected.get("GET /accounts, one token", 0.0))
            count = int(rate * args.seconds * 2) + 500
            before = case.server.cpu_seconds()
            if case.churn:
                with churn:
                    summary = run_wrk(case, args, folder, count)
            else:
                summary = run_wrk(case, args, folder, count)
            used = case.server.cpu_seconds() - before
            rate = summary["requests"] / (summary["duration_us"] / 1e6)
            # The fastest this case ran so far: a round slowed by the machine must not size the
            # next too small (wrk would repeat its last request, refused, and count it).
            expected[case.name] = max(expected[case.name], rate)
            bare_rate = rate if case.name == "bare Flask" else bare_rate
            if round_number == 0:
                continue
            case.rates.append(rate)
            case.ratios.append(rate / bare_rate if bare_rate else 0.0)
            case.p50.append(summary["p50_us"] / 1000)
            case.p99.append(summary["p99_us"] / 1000)
            case.cpu.append(used / max(1, summary["requests"]) * 1000)
            case.errors += summary["errors"]


def report(all_cases: list[Case], args: argparse.Namespace, database: str) -> None:
    """The table and the bars."""
    print(f"== API benchmark: {args.workers} workers x {args.threads} threads, wrk "
          f"-t{args.wrk_threads} -c{args.connections} {args.seconds}s x {args.rounds} rounds, "
          f"{database} ==")  # fmt: skip
    print(f"{'case':<28} {'req/s':>7} {'(range)':<15} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'cpu ms/req':>10} {'/ bare':>7}")  # fmt: skip
    median = statistics.median
    for case in all_cases:
        spread = f"({min(case.rates):,.0f}-{max(case.rates):,.0f})"
        errors = f"   {case.errors} errors" if case.errors else ""
        print(f"{case.name:<28} {median(case.rates):7,.0f} {spread:<15} {median(case.p50):7.2f} "
              f"{median(case.p99):7.2f} {median(case.cpu):10.2f} {median(case.ratios):7.2f}"
              f"{errors}")  # fmt: skip
    by = {case.name: median(case.ratios) for case in all_cases}
    one = by["GET /accounts, one token"]
    churned = by[f"{args.tokens} tokens + churn"]
    bars = [
        ("gateway /healthz / bare", by["gateway /healthz"], ">= 0.6"),
        ("GET /accounts, one token / bare", one, ">= 0.40"),
        ("churn / one token", churned / one, ">= 0.9"),
        ("cache off / bare", by["cache off"], ">= 0.20"),
    ]
    for name, value, bar in bars:
        print(f"{name:<34} {value:5.2f}   (bar {bar})")
    if "transactions, first page" in by:
        first = median(next(c for c in all_cases if c.name.endswith("first page")).p50)
        deep = median(next(c for c in all_cases if c.name.endswith("deep page")).p50)
        print(f"{'deep / first page (p50)':<34} {deep / first:5.2f}   (bar <= 1.3)")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (after one more)")
    parser.add_argument("--seconds", type=int, default=8, help="per case and round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="per worker (default: gateway serve's for that many workers)",
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--history", action="store_true", help="also the transaction pages")
    parser.add_argument("--transactions", type=int, default=0, help="large history (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.threads is None:
        args.threads = default_threads(args.workers)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="bench_api_"))
    env = migrated_env(folder)
    up = servers(args, env, folder)
    try:
        issuer = f"http://127.0.0.1:{up['gateway'].port}"
        config = load_partner(env, issuer, folder / "partner.json", args.transactions)
        other = load_partner(env, issuer, folder / "other.json", 0)
        client = PartnerClient(issuer, config["client_id"], config["redirect_uri"],
                               config["private_jwk"])  # fmt: skip
        churner = PartnerClient(issuer, other["client_id"], other["redirect_uri"],
                                other["private_jwk"])  # fmt: skip
        all_cases = cases(args, up, client, config)
        measure(all_cases, args, folder, Churn(churner, other["customers"]))
    except GatewayError as exc:
        raise SystemExit(f"the gateway refused a setup call: {exc.status} {exc.body}") from None
    finally:
        for server in up.values():
            server.process.terminate()
            server.process.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report(all_cases, args, env["GATEWAY_DATABASE_URL"].split("?")[0])


if __name__ == "__main__":
    main()
