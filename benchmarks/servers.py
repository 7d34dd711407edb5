"""The servers the API and payment benchmarks start: the gateway (``gateway serve``) and the bare
Flask app on one gunicorn configuration, each watched for its CPU time, and the environment the
gateways run with, their database migrated."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Wait until ``server`` answers ``url``; stop the run if it does not."""
    for _ in range(150):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own server
                return
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer:\n{log.read_text()[-2000:]}")


@dataclass
class Server:
    """A gunicorn server of this run: its port and master process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the master and its workers so far, from ``/proc``."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(entry.name) == self.process.pid or int(fields[1]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks


def start(name: str, command: list[str], env: dict[str, str], folder: Path, port: int) -> Server:
    """Start a server and wait for its ``/healthz``."""
    log = folder / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603 - our own command lines
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w")
    )
    server = Server(name, port, process)
    wait_for(process, f"http://127.0.0.1:{port}/healthz", log)
    return server


def migrated_env(folder: Path) -> dict[str, str]:
    """The environment the benchmark's gateways run with (``GATEWAY_DATABASE_URL`` as given,
    else an SQLite file in ``folder``), its database migrated."""
    env = {**os.environ, "GATEWAY_SECRET_KEY": "bench", "GATEWAY_LOG_LEVEL": "WARNING",
           # A sandbox tier of the usual shape (three windows) with limits no run reaches.
           "GATEWAY_RATE_LIMIT_TIERS": json.dumps(
               {"sandbox": "1000000/second;100000000/minute;1000000000/day"})}  # fmt: skip
    env.setdefault("GATEWAY_DATABASE_URL", f"sqlite:///{folder}/gateway.sqlite3")
    subprocess.run([str(BIN / "gateway"), "db", "upgrade"], env=env, check=True,  # noqa: S603
                   capture_output=True)  # fmt: skip
    settle_replay_store(env.get("GATEWAY_REDIS_URL"))
    return env


def settle_replay_store(url: str | None) -> None:
    """Make the replay store at ``url`` (the gateway's ``GATEWAY_REDIS_URL``) accept the DPoP
    proofs a benchmark signs ahead, without a nonce, from its first request.

    A store the gateway finds without a start marker is marked when the gateway starts, and for
    a minute after that a proof without a nonce is answered ``use_dpop_nonce``
    (:mod:`gateway.oauth.replay`): every prepared request of a run on a new or flushed store
    would be refused. A store without a marker holds no claims, so it is marked an hour back,
    as a store that has served that long would be; one marked less than a minute ago is waited
    for."""
    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        return  # the in-process store marks itself back at start
    import redis

    from gateway.oauth import replay

    store = redis.Redis.from_url(url)
    try:
        now = time.time()
        held = replay.mark(store, at=now - 3600, quiet=True) / 1000
        wait = held + replay.CLIENT_CLOCK_AHEAD + 1 - now
        if wait > 0:
            print(
                f"the replay store was marked {now - held:.0f} s ago: "
                f"waiting {wait:.0f} s for proofs without a nonce to be accepted",
                flush=True,
            )
            time.sleep(wait)
    finally:
        store.close()
