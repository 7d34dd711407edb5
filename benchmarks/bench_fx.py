"""Benchmark of FX quote creation: quotes per second priced and kept by the sandbox bank.

1. Pricing alone: :func:`gateway.core.fx.price` through a corridor at a fixed mid rate (the
   arithmetic every quote does, no database).
2. Quote creation: ``SandboxCore.create_fx_quote`` with a 5-minute lock, one unit of work (and
   commit) per quote, as the FX API's ``POST /quotes`` does below HTTP: the feed's rates, the
   corridor, the settlement date and the insert.

It measures the bank core below HTTP and therefore imports the sandbox directly; it always exits
0. Example: ``.venv/bin/python benchmarks/bench_fx.py --quotes 2000`` (a fresh SQLite file), or
``--database-url postgresql+psycopg://postgres@localhost/test`` (a migrated database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from gateway.core import fx
from gateway.core.fx_corridors import BY_ID
from gateway.migrate import upgrade
from gateway.store.database import make_engine
from sandbox.core import SandboxCore
from sandbox.synth.population import populate

PAIRS = ("EUR", "USD", "JPY", "KWD", "CNY")


def pricing_rate(count: int) -> float:
    """Quotes priced per second (no database)."""
    now = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
    started = time.perf_counter()
    for index in range(count):
        buy = PAIRS[index % len(PAIRS)]
        asked = fx.QuoteRequest("GBP", buy, Decimal(10 + index % 500), None, "PT5M")
        fx.price(BY_ID[f"GBP-{buy}"], Decimal("1.16789012"), asked, now, f"q{index}")
    return count / (time.perf_counter() - started)


def creation_rate(url: str, count: int, seed: int) -> float:
    """Quotes created and committed per second, one unit of work each."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    tenant = "bench-fx"
    with sessions() as session:
        SandboxCore(session, default_seed=seed, dataset=populate).now(tenant)
        session.commit()
    started = time.perf_counter()
    for index in range(count):
        with sessions() as session:
            core = SandboxCore(session, default_seed=seed, dataset=populate)
            buy = PAIRS[index % len(PAIRS)]
            core.create_fx_quote(tenant, fx.QuoteRequest("GBP", buy, Decimal(25), None, "PT5M"))
            session.commit()
    rate = count / (time.perf_counter() - started)
    engine.dispose()
    return rate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp directory")
    parser.add_argument("--quotes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_fx_"))
    try:
        url: str = args.database_url or f"sqlite:///{tmp / 'gateway.sqlite3'}"
        print(f"pricing alone      : {pricing_rate(args.quotes * 10):,.0f} quotes/s", flush=True)
        created = creation_rate(url, args.quotes, args.seed)
        print(f"quote creation     : {created:,.0f} quotes/s (one commit each)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
