#!/usr/bin/env python3
"""Bootstrap a development environment and run the gateway or its tests.

Needs nothing but Python 3.11+ (standard library only)::

    python3 dev.py run [--port 5000]    install, migrate, seed the ``demo`` tenant, serve
    python3 dev.py test [PYTEST ARGS]   install with the dev extra, run pytest

The virtualenv lives in ``.venv`` next to this file, or wherever ``GATEWAY_VENV`` points. It is
created on first use and the project is reinstalled into it whenever ``pyproject.toml`` or
``setup.py`` change (a stamp file inside the virtualenv records what was installed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGING_FILES = ("pyproject.toml", "setup.py")
STAMP_NAME = ".openbank-gateway-install.json"
DEMO_TENANT = "demo"
# One test worker a core; a test file stays on one worker (its module fixtures are made once).
PARALLEL = ["-n", "auto", "--dist", "loadfile"]
WINDOWS = os.name == "nt"


class DevError(Exception):
    """A bootstrap step failed; the message is the one line shown to the developer."""


def say(message: str) -> None:
    """Print a progress line."""
    print(f"==> {message}", flush=True)


def venv_dir() -> Path:
    """Return the virtualenv folder: ``GATEWAY_VENV`` if set, else ``.venv`` in the repository."""
    configured = os.environ.get("GATEWAY_VENV", "").strip()
    if configured:
        return Path(configured).expanduser().absolute()
    return ROOT / ".venv"


def venv_exe(venv: Path, name: str) -> Path:
    """Return the path of executable ``name`` inside ``venv`` (``Scripts\\`` on Windows)."""
    if WINDOWS:
        return venv / "Scripts" / f"{name}.exe"
    return venv / "bin" / name


def packaging_hash() -> str:
    """Return a digest of the files that decide what gets installed."""
    digest = hashlib.sha256()
    for name in PACKAGING_FILES:
        path = ROOT / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def read_stamp(venv: Path) -> dict[str, object]:
    """Return what the last successful install recorded, or an empty dict."""
    try:
        data = json.loads((venv / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_stamp(venv: Path, digest: str, extras: Sequence[str]) -> None:
    """Record the packaging digest and the extras of a successful install."""
    stamp = {"packaging": digest, "extras": sorted(extras)}
    (venv / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")


def run(cmd: Sequence[str | Path]) -> None:
    """Run ``cmd`` in the repository, raising :class:`DevError` when it fails."""
    args = [str(part) for part in cmd]
    try:
        subprocess.run(args, check=True, cwd=ROOT)  # noqa: S603 (fixed argv, no shell)
    except subprocess.CalledProcessError as exc:
        raise DevError(f"`{' '.join(args)}` failed with exit status {exc.returncode}") from None
    except OSError as exc:
        raise DevError(f"cannot run `{args[0]}`: {exc.strerror or exc}") from None


def venv_works(venv: Path) -> bool:
    """Tell whether ``venv`` has a Python that starts (a moved or upgraded one may not)."""
    python = venv_exe(venv, "python")
    if not python.exists():
        return False
    try:
        probe = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            [str(python), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return probe.returncode == 0


def create_venv(venv: Path) -> None:
    """Create ``venv`` with the Python running this script, replacing a broken one."""
    if venv.exists():
        if not (venv / "pyvenv.cfg").exists() and any(venv.iterdir()):
            raise DevError(
                f"{venv} exists and is not a virtualenv; move it away or set GATEWAY_VENV"
            )
        say(f"replacing broken virtualenv {venv}")
        shutil.rmtree(venv)
    say(f"creating virtualenv {venv}")
    try:
        run([sys.executable, "-m", "venv", venv])
    except DevError as exc:
        raise DevError(
            f"{exc}; on Debian/Ubuntu install the venv module first (apt install python3-venv)"
        ) from None


def bootstrap(extras: Sequence[str] = ()) -> Path:
    """Make sure the virtualenv exists and holds the project with ``extras``; return it."""
    venv = venv_dir()
    if not venv_works(venv):
        create_venv(venv)
    digest = packaging_hash()
    stamp = read_stamp(venv)
    recorded = stamp.get("extras")
    installed = {str(e) for e in recorded} if isinstance(recorded, list) else set()
    if stamp.get("packaging") == digest and installed.issuperset(extras):
        say(f"virtualenv {venv} is up to date")
        return venv
    # Keep the extras already installed unless the packaging changed (then they may be stale).
    wanted = sorted(set(extras) | (installed if stamp.get("packaging") == digest else set()))
    target = f".[{','.join(wanted)}]" if wanted else "."
    python = venv_exe(venv, "python")
    say("upgrading pip")
    run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    say(f"installing the project: pip install -e {target} (slow only the first time)")
    (venv / STAMP_NAME).unlink(missing_ok=True)
    run([python, "-m", "pip", "install", "--quiet", "-e", target])
    write_stamp(venv, digest, wanted)
    return venv


def check_port_free(port: int) -> None:
    """Stop before the slow steps when another program already listens on ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if not WINDOWS:
            # As the server binds: a port left in TIME_WAIT by a server just stopped is free.
            # (On Windows the option would let the probe share a port another program holds.)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise DevError(
                f"port {port} is in use by another program: "
                f"run `python3 dev.py run --port {5050 if port != 5050 else 5051}`"
            ) from None


def cmd_run(port: int) -> int:
    """Install, migrate, seed the demo tenant, then replace this process with the server."""
    check_port_free(port)
    venv = bootstrap()
    gateway = venv_exe(venv, "gateway")
    say("migrating the database")
    run([gateway, "db", "upgrade"])
    say(f"seeding sandbox tenant {DEMO_TENANT!r}")
    run([gateway, "sandbox", "seed", "--tenant", DEMO_TENANT])
    url = f"http://127.0.0.1:{port}"
    say(f"serving the gateway at {url} (Ctrl+C stops it)")
    say(f"developer portal: {url}/portal/signup   API reference: {url}/docs")
    say(f"health: curl {url}/healthz  and  curl {url}/readyz")
    sys.stdout.flush()
    args = [str(gateway), "serve", "--port", str(port)]
    if WINDOWS:
        # os.exec* on Windows starts a child and returns at once; wait for the server instead.
        return subprocess.run(args, cwd=ROOT, check=False).returncode  # noqa: S603
    os.chdir(ROOT)
    try:
        os.execv(args[0], args)  # noqa: S606 (the venv's own console script)
    except OSError as exc:
        raise DevError(f"cannot run `{args[0]}`: {exc.strerror or exc}") from None
    return 0  # not reached: execv replaces this process


def cmd_test(pytest_args: Sequence[str]) -> int:
    """Install with the ``dev`` extra and run pytest; return pytest's exit status.

    Tests run on every core (pytest-xdist, one worker a core, a test file per worker at a time)
    unless the arguments say otherwise (``-n 0`` runs them in this process)."""
    venv = bootstrap(["dev"])
    python = venv_exe(venv, "python")
    parallel = [] if any(a == "-n" or a.startswith("-n") for a in pytest_args) else PARALLEL
    cmd = [str(python), "-m", "pytest", *parallel, *pytest_args]
    say("running " + " ".join(["pytest", *parallel, *pytest_args]))
    try:
        return subprocess.run(cmd, cwd=ROOT, check=False).returncode  # noqa: S603
    except OSError as exc:
        raise DevError(f"cannot run `{python}`: {exc.strerror or exc}") from None


def port_number(value: str) -> int:
    """Parse a TCP port for argparse."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 1-65535: {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="dev.py",
        description="Bootstrap a virtualenv and run the gateway or its tests "
        "(set GATEWAY_VENV to use a virtualenv other than .venv).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_parser = commands.add_parser(
        "run", help="install, migrate, seed the demo tenant and serve the gateway"
    )
    run_parser.add_argument(
        "--port", type=port_number, default=5000, help="port to listen on (default: 5000)"
    )
    commands.add_parser(
        "test",
        help="install with the dev extra and run pytest; further arguments go to pytest",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # An older interpreter still parses this file; tell its user what to install.
        if sys.version_info < (3, 11):  # noqa: UP036
            raise DevError(f"Python 3.11+ is required, this is {sys.version.split()[0]}")
        # Everything after ``test`` belongs to pytest, options included.
        if args and args[0] == "test":
            return cmd_test(args[1:])
        options = build_parser().parse_args(args)
        return cmd_run(options.port)
    except DevError as exc:
        print(f"dev.py: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dev.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
