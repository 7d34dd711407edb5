#!/usr/bin/env python3
"""Client-credentials grants per second with ``private_key_jwt``, against a real gunicorn server.

Keycloak's sizing guide plans 120 client-credentials grants per second per vCPU; we aim for at
least twice that per core. The script:

1. creates a fresh SQLite database (or uses ``--database-url``), migrates it and registers one
   partner app with an ES256 key (directly through the partner services: a benchmark set-up, not
   a client);
2. starts ``gateway serve`` with ``--workers`` sync workers on a free local port;
3. pre-signs every client assertion (each needs a fresh ``jti``), so that the load generator
   spends its CPU on sending, not signing;
4. sends ``POST /token`` (``grant_type=client_credentials``) from ``--concurrency`` keep-alive
   connections for ``--seconds`` and prints grants/s, p50/p99 latency and grants/s per worker.

The load generator shares the machine with the server: on a 2-core machine run it with
``--workers 1`` for the per-core figure.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.store.database import make_engine
from partners import services
from partners.models import Organisation

ROOT = Path(__file__).resolve().parents[1]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def register(database_url: str) -> tuple[str, ECKey]:
    """Migrate the database and register one app; return its client id and private key."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    key = ECKey.generate_key("P-256", auto_kid=True)
    with Session(engine) as session, session.begin():
        developer = services.sign_up(
            session, email=f"bench-{secrets.token_hex(4)}@tpp.example", name="Bench",
            password="benchmark correct horse",  # noqa: S106 - a throwaway benchmark account
            legal_name="Bench Ltd", country="GB",
            registration_number="00000001", roles=["AISP"],
        )  # fmt: skip
        organisation = session.get_one(Organisation, developer.organisation_id)
        app, _ = services.create_app(
            session, organisation, name="Bench", redirect_uris=["https://bench.example/cb"],
            token_endpoint_auth_method="private_key_jwt",  # noqa: S106 - a method name
            jwks={"keys": [key.as_dict(private=False)]},
        )  # fmt: skip
        client_id = app.client_id
    engine.dispose()
    return client_id, key


def assertions(client_id: str, key: ECKey, issuer: str, count: int) -> list[bytes]:
    """Pre-signed request bodies, one fresh jti each."""
    now = int(time.time())
    bodies = []
    for _ in range(count):
        claims = {"iss": client_id, "sub": client_id, "aud": issuer, "iat": now,
                  "exp": now + 290, "jti": str(uuid.uuid4())}  # fmt: skip
        token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])
        form = {"grant_type": "client_credentials", "scope": "accounts",
                "client_assertion_type": ASSERTION_TYPE, "client_assertion": token}  # fmt: skip
        bodies.append(urllib.parse.urlencode(form).encode())
    return bodies


def run_load(
    port: int, bodies: list[bytes], concurrency: int, seconds: float
) -> tuple[list[float], int]:
    """Send the bodies from ``concurrency`` keep-alive connections; return latencies, errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    cursor = iter(bodies)
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        while time.perf_counter() < deadline:
            with lock:
                body = next(cursor, None)
            if body is None:
                break
            started = time.perf_counter()
            connection.request("POST", "/token", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 200:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


def main() -> None:
    """Parse options, run the benchmark, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--redis-url", default="", help="default: the in-process stand-in")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench_token_")
    database_url = args.database_url or f"sqlite:///{folder}/gateway.sqlite3"
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    client_id, key = register(database_url)
    expected = int(args.seconds * 1500 * args.workers) + 1000
    print(f"pre-signing {expected:,} client assertions ...", flush=True)
    bodies = assertions(client_id, key, issuer, expected)
    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_REDIS_URL": args.redis_url,
        "GATEWAY_SECRET_KEY": "bench",
        "GATEWAY_ISSUER": issuer,
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    gateway = str(Path(sys.executable).parent / "gateway")
    command = [gateway, "serve", "--port", str(port), "--workers", str(args.workers)]
    command += ["--threads", str(args.threads)]
    server = subprocess.Popen(  # noqa: S603 - our own console script
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{issuer}/healthz", timeout=1):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.2)
        run_load(port, bodies[:200], args.concurrency, 5.0)  # warm-up, not counted
        latencies, errors = run_load(port, bodies[200:], args.concurrency, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=20)
    rate = len(latencies) / args.seconds
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else float("nan")
    print("== client-credentials grants with private_key_jwt ==")
    print(f"database          : {database_url.split('?')[0]}")
    print(f"redis             : {args.redis_url or 'in-process'}")
    print(f"workers           : {args.workers} x {args.threads} threads")
    print(f"concurrency       : {args.concurrency} keep-alive connections")
    print(f"grants            : {len(latencies):,} in {args.seconds:.0f} s, {errors} errors")
    print(f"grants/s          : {rate:,.0f}")
    print(f"grants/s/worker   : {rate / args.workers:,.0f}  (anchor: 120/s per vCPU; aim 240)")
    print(f"latency p50 / p99 : {statistics.median(latencies) * 1000:.1f} / {p99 * 1000:.1f} ms")
    print(f"ratio to anchor   : {rate / args.workers / 120:.2f}x per core")


if __name__ == "__main__":
    main()
