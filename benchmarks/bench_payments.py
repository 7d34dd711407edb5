#!/usr/bin/env python3
"""Payment POST beside GET /accounts, on one gateway, in one run.

Starts the gateway (``gateway serve``, ``--workers`` x ``--threads``), makes a sandbox partner
with ``gateway ops load-partner`` (roles AISP and PISP), and authorises one account-access consent
over HTTP. Then, in rounds (the first warms up and sizes the next), for each round:

1. it prepares as many authorised payment consents as the round can use, over HTTP like a
   partner (consent signed with an idempotency key, PAR, the customer's sign-in and approval of
   the first account offered, code exchange), ``--prepare-threads`` at a time; the customer's
   token of each consent pays once;
2. wrk sends ``GET /accounts`` with the one token (each call its own DPoP proof), then
   ``POST /domestic-payments``: each request a distinct authorised consent and its token, a
   distinct ``x-idempotency-key``, the body signed (``x-jws-signature``) and posted to the ledger.

It prints, per case, requests/s (median of the rounds, with the range), p50 and p99 latency, the
server's CPU per request, and the ratio payment POST / GET /accounts (bar >= 0.5). A round whose
payments ran dry (more sent than prepared) shows as errors. Example, on PostgreSQL and Redis::

    GATEWAY_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        GATEWAY_REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python benchmarks/bench_payments.py
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
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_api import AIS, _Stop, authorise, load_partner, signed
from servers import BIN, ROOT, Server, free_port, migrated_env, start

from gateway.serve import default_threads
from partners.example_client import (
    PISP,
    GatewayError,
    PartnerClient,
    detached_jws,
    parse_redirect,
    payment_consent,
)

CREDITOR = {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
            "Name": "ACME Inc"}  # fmt: skip
PAYMENTS = f"{PISP}/domestic-payments"


@dataclass(frozen=True, slots=True)
class Authorised:
    """A payment consent the customer authorised: its id, its body and the customer's token."""

    consent_id: str
    consent: dict[str, Any]
    token: str


def approve(client: PartnerClient, consent_id: str, customer: dict[str, str], pick: int = 0) -> str:
    """PAR, the customer's sign-in and approval of one of the accounts offered (the ``pick``-th,
    round), code exchange: the customer's access token."""
    request_uri, verifier, state = client.push_authorization_request(consent_id, "payments")
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
    assert csrf and accounts, "no account to pay from"
    chosen = accounts[pick % len(accounts)]
    decision = urllib.parse.urlencode(
        {"csrf_token": csrf.group(1), "decision": "approve", "account": chosen}
    ).encode()
    location = ""
    try:
        browser.open(f"{client.issuer}/authorize/consent", decision)
    except urllib.error.HTTPError as answer:
        with answer:
            location = answer.headers["Location"]
    code = parse_redirect(location, state, client.issuer)
    return str(client.exchange_code(code, verifier)["access_token"])


class Consents:
    """Authorised payment consents, made over HTTP ``threads`` at a time."""

    def __init__(self, client: PartnerClient, customers: list[dict[str, str]], threads: int):
        self.client, self.customers, self.threads = client, customers, threads
        self.made = 0
        self._lock = threading.Lock()
        self._token: str | None = None

    def _one(self, number: int) -> Authorised:
        staff = self._staff()
        consent = payment_consent("0.01", "GBP", CREDITOR, f"BENCH-{number:07d}")
        consent_id = self.client.create_domestic_payment_consent(staff, consent)["Data"]
        # Spread the payments over every customer and each of their accounts in GBP: each
        # payment locks its debtor account's balance until it commits.
        customer = self.customers[number % len(self.customers)]
        pick = number // len(self.customers)
        token = approve(self.client, consent_id["ConsentId"], customer, pick)
        return Authorised(consent_id["ConsentId"], consent, token)

    def _staff(self) -> str:
        with self._lock:  # one client-credentials token per batch
            if self._token is None:
                self._token = str(self.client.client_credentials("payments")["access_token"])
            return self._token

    def make(self, count: int) -> list[Authorised]:
        """``count`` new authorised consents."""
        self._token = None
        first = self.made
        self.made += count
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(self._one, range(first, first + count)))


def payment_requests(
    client: PartnerClient, port: int, consents: list[Authorised]
) -> list[tuple[str, dict[str, str], bytes]]:
    """One ``POST /domestic-payments`` per consent: its token with a fresh DPoP proof, a new
    idempotency key, the body signed."""
    url = f"http://127.0.0.1:{port}{PAYMENTS}"
    client.dpop_nonces.clear()
    prepared = []
    for item in consents:
        order = {"Data": {"ConsentId": item.consent_id,
                          "Initiation": item.consent["Data"]["Initiation"]},
                 "Risk": item.consent["Risk"]}  # fmt: skip
        body = json.dumps(order).encode()
        headers = client.resource_headers("POST", url, item.token)
        headers.update({
            "Content-Type": "application/json",
            "x-idempotency-key": str(uuid.uuid4()),
            "x-jws-signature": detached_jws(body, client.private_jwk, iss=client.client_id,
                                            tan=client.tan()),
        })  # fmt: skip
        prepared.append((f"POST {PAYMENTS}", headers, body))
    return prepared


@dataclass
class Case:
    """One measured case and its figures by round."""

    name: str
    rates: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, summary: dict[str, Any], cpu_seconds: float) -> float:
        """Keep a round's wrk summary; return its requests/s (answered without an error: a
        round that ran dry repeats its last request, which is refused)."""
        rate = (summary["requests"] - summary["errors"]) / (summary["duration_us"] / 1e6)
        self.rates.append(rate)
        self.p50.append(summary["p50_us"] / 1000)
        self.p99.append(summary["p99_us"] / 1000)
        self.cpu.append(cpu_seconds / max(1, summary["requests"]) * 1000)
        self.errors += summary["errors"]
        return rate


def wrk(
    server: Server, requests: list[tuple[str, dict[str, str], bytes | None]],
    args: argparse.Namespace, folder: Path,
) -> tuple[dict[str, Any], float]:  # fmt: skip
    """Send the prepared requests (each once) for ``args.seconds``; wrk's summary and the
    server's CPU seconds."""
    lines = []
    for target, headers, body in requests:
        fields = [target, *(f"{k}: {v}" for k, v in headers.items())]
        lines.append("\t".join(fields + ([body.decode()] if body else [])))
    path = folder / "requests.txt"
    path.write_text("\n".join(lines) + "\n")
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections),
               "-d", f"{args.seconds}s", "--latency", "-s", str(ROOT / "wrk_requests.lua"),
               f"http://127.0.0.1:{server.port}", "--", str(path),
               str(args.wrk_threads)]  # fmt: skip
    before = server.cpu_seconds()
    out = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    used = server.cpu_seconds() - before
    return dict(json.loads(out.stdout.strip().splitlines()[-1])), used


def measure(args: argparse.Namespace, server: Server, config: dict[str, Any],
            folder: Path) -> tuple[Case, Case]:  # fmt: skip
    """The rounds: prepare the consents a round needs, then GET /accounts and payment POSTs."""
    client = PartnerClient(f"http://127.0.0.1:{server.port}", config["client_id"],
                           config["redirect_uri"], config["private_jwk"])  # fmt: skip
    customers = config["customers"]
    one = str(authorise(client, customers[0])["access_token"])
    consents = Consents(client, customers, args.prepare_threads)
    accounts, payments = Case("GET /accounts, one token"), Case("POST /domestic-payments")
    expected = {"accounts": 1000.0, "payments": float(args.first_payments) / args.seconds}
    for number in range(args.rounds + 1):  # the first round warms up and sizes the next
        ready = consents.make(int(expected["payments"] * args.seconds * 2.5) + 100)
        print(f"round {number}: {len(ready)} authorised payment consents ready", flush=True)
        gets = signed(client, server.port, f"{AIS}/accounts", [one],
                      int(expected["accounts"] * args.seconds * 2) + 500)  # fmt: skip
        got, got_cpu = wrk(server, [(p, h, None) for p, h in gets], args, folder)
        paid, paid_cpu = wrk(server, payment_requests(client, server.port, ready), args, folder)
        if number == 0:  # size the next rounds on what succeeded (a dry run repeats its last)
            expected["accounts"] = got["requests"] / (got["duration_us"] / 1e6)
            done = (paid["requests"] - paid["errors"]) / (paid["duration_us"] / 1e6)
            expected["payments"] = done * (2 if paid["errors"] else 1)
            continue
        expected["accounts"] = accounts.add(got, got_cpu)
        expected["payments"] = payments.add(paid, paid_cpu)
        print(f"round {number}: GET /accounts {expected['accounts']:,.0f} req/s, payment POST "
              f"{expected['payments']:,.0f} req/s", flush=True)  # fmt: skip
    return accounts, payments


def report(accounts: Case, payments: Case, args: argparse.Namespace, database: str) -> None:
    """The table, the ratio and the bar."""
    print(f"== payment benchmark: {args.workers} workers x {args.threads} threads, wrk "
          f"-t{args.wrk_threads} -c{args.connections} {args.seconds}s x {args.rounds} rounds, "
          f"{database} ==")  # fmt: skip
    print(f"{'case':<26} {'req/s':>7} {'(range)':<15} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'cpu ms/req':>10}")  # fmt: skip
    median = statistics.median
    for case in (accounts, payments):
        spread = f"({min(case.rates):,.0f}-{max(case.rates):,.0f})"
        errors = f"   {case.errors} errors" if case.errors else ""
        print(f"{case.name:<26} {median(case.rates):7,.0f} {spread:<15} {median(case.p50):7.2f} "
              f"{median(case.p99):7.2f} {median(case.cpu):10.2f}{errors}")  # fmt: skip
    # A round whose GET /accounts answered nothing but errors (a server that failed) has no
    # ratio to give: it counts as 0, and its errors are in the table above.
    ratios = [p / a if a else 0.0 for p, a in zip(payments.rates, accounts.rates, strict=True)]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= 0.5 else "missed"
    print(f"payment POST / GET /accounts: {ratio:.2f} (rounds: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; bar >= 0.5: {verdict})")  # fmt: skip


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (after one more)")
    parser.add_argument("--seconds", type=int, default=5, help="per case and round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="per worker (default: gateway serve's for that many workers)",
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--prepare-threads", type=int, default=8)
    parser.add_argument("--first-payments", type=int, default=300,
                        help="consents prepared for the warm-up round")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.threads is None:
        args.threads = default_threads(args.workers)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="bench_payments_"))
    env = migrated_env(folder)
    port = free_port()
    command = [str(BIN / "gateway"), "serve", "--port", str(port), "--workers",
               str(args.workers), "--threads", str(args.threads)]  # fmt: skip
    server = start("gateway", command, {**env, "GATEWAY_ISSUER": f"http://127.0.0.1:{port}"},
                   folder, port)  # fmt: skip
    try:
        config = load_partner(env, f"http://127.0.0.1:{port}", folder / "partner.json", 0)
        accounts, payments = measure(args, server, config, folder)
    except GatewayError as exc:
        raise SystemExit(f"the gateway refused a setup call: {exc.status} {exc.body}") from None
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report(accounts, payments, args, env["GATEWAY_DATABASE_URL"].split("?")[0])


if __name__ == "__main__":
    main()
