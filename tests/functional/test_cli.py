"""The ``gateway`` command (:mod:`gateway.cli`): schema migrations and the sandbox bank.

Commands run in-process with Flask's CLI runner on the test database; the console script's own
behaviour (exit status and one line on stderr for a configuration error, migrating a fresh
database) runs in a subprocess, as an operator would run it.

The bank core is read through short-lived sessions of its own, never across a command: on SQLite
an open transaction holds the write lock the command needs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskCliRunner

from gateway import migrate
from gateway.app import create_app
from gateway.console import cli
from gateway.core.accounts import Customer
from gateway.core.administration import SandboxBank
from gateway.store.database import Database
from sandbox.core import SandboxCore
from sandbox.models import Tenant

T = TypeVar("T")

CLOCK = re.compile(r"clock now (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")
SEEDED = re.compile(r"tenant (\S+): seed (\d+), (\d+) customers, (\d+) accounts, clock .* UTC")
PASSWORD = "s3cret"


def read(app: Flask, query: Callable[[SandboxBank], T]) -> T:
    """Run ``query`` on the bank core in a session of its own, rolled back at once."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        try:
            return query(app.extensions["bank_core"](session))
        finally:
            session.rollback()


def invoke(runner: FlaskCliRunner, *args: str) -> Result:
    result = runner.invoke(args=list(args))
    return result


def ok(runner: FlaskCliRunner, *args: str) -> str:
    """Run a command that must succeed; return what it printed."""
    result = invoke(runner, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture(scope="module")
def seeded(app: Flask) -> str:
    """A tenant seeded once for the read-only tests of this module."""
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    ok(app.test_cli_runner(), "sandbox", "seed", "--tenant", tenant, "--quiet")
    return tenant


# db ------------------------------------------------------------------------------------------


def test_db_current_prints_both_revisions(runner: FlaskCliRunner) -> None:
    head = migrate.head_revision()
    assert head is not None
    output = ok(runner, "db", "current")
    assert re.search(rf"^database: {head}$", output, re.M)
    assert re.search(rf"^code: +{head}$", output, re.M)


def test_db_commands_on_a_fresh_database(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    head = migrate.head_revision()
    try:
        behind = invoke(runner, "db", "current")
        assert behind.exit_code == 1
        assert "database: None" in behind.output

        assert f"database at revision {head}" in ok(runner, "db", "upgrade")
        assert f"database: {head}" in ok(runner, "db", "current")

        assert "database at revision None" in ok(runner, "db", "downgrade", "base")
        assert invoke(runner, "db", "current").exit_code == 1
    finally:
        app.extensions["database"].dispose()


# sandbox seed / show -------------------------------------------------------------------------


def test_seed_prints_the_customers_with_their_logins(
    app: Flask, runner: FlaskCliRunner, tenant: str
) -> None:
    output = ok(runner, "sandbox", "seed", "--tenant", tenant)

    summary = SEEDED.search(output)
    assert summary, output
    assert summary.group(1) == tenant
    customers = read(app, lambda core: core.customers(tenant))
    assert customers
    assert int(summary.group(3)) == len(customers)
    logins = re.findall(r"\) login: (\S+)  password: \S+$", output, re.M)
    assert logins == [c.username for c in customers]
    for customer in customers:
        assert f"{customer.name} ({customer.kind}) login: {customer.username}  " in output


def test_seed_is_idempotent_and_keeps_the_seed(runner: FlaskCliRunner, tenant: str) -> None:
    first = SEEDED.search(ok(runner, "sandbox", "seed", "--tenant", tenant, "--seed", "42"))
    again = SEEDED.search(ok(runner, "sandbox", "seed", "--tenant", tenant, "--quiet"))
    assert first and again
    assert first.group(2) == again.group(2) == "42"
    assert first.group(3, 4) == again.group(3, 4)


def test_quiet_seed_prints_no_customer(runner: FlaskCliRunner, tenant: str) -> None:
    output = ok(runner, "sandbox", "seed", "--tenant", tenant, "--quiet")
    assert SEEDED.search(output)
    assert "login:" not in output


def test_show_one_customer_lists_accounts_with_balances(
    app: Flask, runner: FlaskCliRunner, seeded: str
) -> None:
    customers = read(app, lambda core: core.customers(seeded))
    customer, others = customers[0], customers[1:]

    def balances(core: SandboxBank) -> list[tuple[str, str, str]]:
        rows = []
        for account in core.accounts(seeded, customer.id):
            booked = core.balances(seeded, account.id).booked
            rows.append((account.id, f"{booked.amount:,}", booked.currency))
        return rows

    expected = read(app, balances)
    assert expected
    output = ok(runner, "sandbox", "show", "--tenant", seeded, "--customer", customer.username)
    assert f"login: {customer.username}" in output
    lines = [line for line in output.splitlines() if line.startswith("  acc")]
    assert len(lines) == len(expected)
    for account_id, amount, currency in expected:
        [line] = [line for line in lines if account_id in line]
        assert re.search(rf"booked +{re.escape(amount)} {currency}  available +[-\d,.]+$", line)
    for other in others:
        assert other.username not in output


def test_show_all_customers(app: Flask, runner: FlaskCliRunner, seeded: str) -> None:
    output = ok(runner, "sandbox", "show", "--tenant", seeded)
    usernames = read(app, lambda core: [c.username for c in core.customers(seeded)])
    assert re.findall(r"login: (\S+)  password: \S+$", output, re.M) == usernames


@pytest.mark.parametrize(
    ("command", "one"), [("seed", False), ("show", False), ("show", True)],
    ids=["seed", "show", "show --customer"],
)  # fmt: skip
def test_a_test_customer_signs_in_with_the_password_printed(
    app: Flask, runner: FlaskCliRunner, seeded: str, command: str, one: bool
) -> None:
    customers = read(app, lambda core: list(core.customers(seeded)))[: 1 if one else None]
    extra = ["--customer", customers[0].username] if one else []

    output = ok(runner, "sandbox", command, "--tenant", seeded, *extra)

    printed = re.findall(r"login: (\S+)  password: (\S+)$", output, re.M)
    assert [username for username, _ in printed] == [c.username for c in customers]

    def sign_in(core: SandboxBank) -> list[Customer | None]:
        return [core.authenticate(seeded, username, password) for username, password in printed]

    assert read(app, sign_in) == customers


def test_a_bank_without_sandbox_logins_prints_no_password(
    app: Flask, runner: FlaskCliRunner, seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real bank's core returns no test customers' credentials: there is no password to show.
    monkeypatch.setattr(SandboxCore, "sandbox_logins", lambda self, tenant: [])
    output = ok(runner, "sandbox", "show", "--tenant", seeded)
    assert "password" not in output
    usernames = read(app, lambda core: [c.username for c in core.customers(seeded)])
    assert re.findall(r"\) login: (\S+)$", output, re.M) == usernames


def test_show_an_unknown_customer_fails(runner: FlaskCliRunner, seeded: str) -> None:
    result = invoke(runner, "sandbox", "show", "--tenant", seeded, "--customer", "no.body")
    assert result.exit_code != 0
    assert f"no customer 'no.body' in tenant {seeded}" in result.output
    assert "login:" not in result.output


# sandbox advance / reset ---------------------------------------------------------------------


def parse_clock(output: str) -> dt.datetime:
    found = CLOCK.search(output)
    assert found, output
    return dt.datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)


def offset(app: Flask, tenant: str) -> dt.timedelta:
    """How far the tenant's clock is ahead of real time."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        return dt.timedelta(seconds=session.get_one(Tenant, tenant).clock_offset_seconds)


def test_advance_moves_the_clock_and_runs_what_falls_due(
    app: Flask, runner: FlaskCliRunner, tenant: str
) -> None:
    ok(runner, "sandbox", "seed", "--tenant", tenant, "--quiet")
    before = read(app, lambda core: core.now(tenant))

    output = ok(runner, "sandbox", "advance", "--tenant", tenant, "--days", "3")

    printed = parse_clock(output)
    target = before + dt.timedelta(days=3)
    assert target - dt.timedelta(minutes=1) <= printed <= target + dt.timedelta(minutes=2)
    assert offset(app, tenant) == dt.timedelta(days=3)
    # The generated data set has one payment scheduled three days ahead.
    scheduled = re.search(r"^  scheduled_payment: (\d+) executed, (\d+) rejected$", output, re.M)
    assert scheduled, output
    assert int(scheduled.group(1)) + int(scheduled.group(2)) == 1


def test_advance_by_hours(app: Flask, runner: FlaskCliRunner, tenant: str) -> None:
    ok(runner, "sandbox", "seed", "--tenant", tenant, "--quiet")
    ok(runner, "sandbox", "advance", "--tenant", tenant, "--hours", "5")
    assert offset(app, tenant) == dt.timedelta(hours=5)


@pytest.mark.parametrize("extra", [[], ["--days", "0"], ["--days", "0", "--hours", "0"]])
def test_advance_without_a_duration_is_a_usage_error(
    runner: FlaskCliRunner, tenant: str, extra: list[str]
) -> None:
    result = invoke(runner, "sandbox", "advance", "--tenant", tenant, *extra)
    assert result.exit_code == 2
    assert "give --days and/or --hours" in result.output


def test_advance_refuses_a_negative_duration(runner: FlaskCliRunner, tenant: str) -> None:
    result = invoke(runner, "sandbox", "advance", "--tenant", tenant, "--days", "-1")
    assert result.exit_code == 2


def test_reset_regenerates_from_the_kept_seed(
    app: Flask, runner: FlaskCliRunner, tenant: str
) -> None:
    seeded = SEEDED.search(ok(runner, "sandbox", "seed", "--tenant", tenant, "--quiet"))
    assert seeded
    before = read(app, lambda core: [(c.username, c.name) for c in core.customers(tenant)])
    ok(runner, "sandbox", "advance", "--tenant", tenant, "--days", "10")
    assert offset(app, tenant) > dt.timedelta(days=9)

    output = ok(runner, "sandbox", "reset", "--tenant", tenant)

    assert output.strip() == (
        f"tenant {tenant} reset to seed {seeded.group(2)}: {seeded.group(4)} accounts"
    )
    after = read(app, lambda core: [(c.username, c.name) for c in core.customers(tenant)])
    assert after == before
    # The clock is back at real time: the data set was generated anew.
    assert offset(app, tenant) == dt.timedelta(0)


def due_checked_at(app: Flask, tenant: str) -> dt.datetime:
    """The day up to which the tenant's due work has run."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        return session.get_one(Tenant, tenant).due_checked_at


def test_a_failed_command_commits_nothing(app: Flask, runner: FlaskCliRunner, tenant: str) -> None:
    ok(runner, "sandbox", "seed", "--tenant", tenant, "--quiet")
    # Nobody looked at the tenant for three days: the next command runs their due work first.
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        row = session.get_one(Tenant, tenant)
        row.due_checked_at -= dt.timedelta(days=3)
        behind = row.due_checked_at

    # `show` runs the due work, then fails on the unknown customer: one unit of work, so the due
    # work is rolled back with it.
    result = invoke(runner, "sandbox", "show", "--tenant", tenant, "--customer", "no.body")
    assert result.exit_code == 1
    assert due_checked_at(app, tenant) == behind

    ok(runner, "sandbox", "show", "--tenant", tenant)
    assert due_checked_at(app, tenant) > behind


# Unknown tenants and the list ----------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["show", "--customer", "no.body"],
        ["advance", "--days", "1"],
        ["reset"],
        ["reset", "--seed", "7"],
    ],
)
def test_only_seed_creates_a_tenant(
    app: Flask, runner: FlaskCliRunner, tenant: str, command: list[str]
) -> None:
    result = invoke(runner, "sandbox", command[0], "--tenant", tenant, *command[1:])

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: no sandbox tenant '{tenant}'; create it with "
        f"`gateway sandbox seed --tenant {tenant}`"
    )
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        assert session.get(Tenant, tenant) is None


def test_the_error_quotes_a_tenant_id_for_the_shell(runner: FlaskCliRunner) -> None:
    result = invoke(runner, "sandbox", "show", "--tenant", "no such")
    assert result.exit_code == 1
    assert "`gateway sandbox seed --tenant 'no such'`" in result.output


LISTED = re.compile(
    r"^(?P<id>\S+) +(?P<seed>\d+)  (?P<clock>\d{4}-\d\d-\d\d \d\d:\d\d)"
    r" +(?P<customers>\d+) +(?P<accounts>\d+)$",
    re.M,
)


def test_list_shows_every_tenant_with_seed_clock_and_size(
    app: Flask, runner: FlaskCliRunner, tenant: str
) -> None:
    later = f"{tenant}-later"
    ok(runner, "sandbox", "seed", "--tenant", tenant, "--seed", "42", "--quiet")
    ok(runner, "sandbox", "seed", "--tenant", later, "--quiet")
    ok(runner, "sandbox", "advance", "--tenant", later, "--days", "2")

    output = ok(runner, "sandbox", "list")

    assert re.match(r"TENANT +SEED  CLOCK \(UTC\) +CUSTOMERS  ACCOUNTS\n", output)
    rows = {m["id"]: m for m in LISTED.finditer(output)}
    assert list(rows) == sorted(rows)
    infos = read(app, lambda core: {t: core.tenant_info(t) for t in (tenant, later)})
    for listed, info in infos.items():
        row = rows[listed]
        assert (int(row["seed"]), int(row["customers"]), int(row["accounts"])) == (
            info.seed,
            info.customers,
            info.accounts,
        )
        clock = dt.datetime.strptime(row["clock"], "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
        assert dt.timedelta(0) <= info.now - clock < dt.timedelta(minutes=2)
    assert infos[tenant].seed == 42
    assert infos[later].now - infos[tenant].now > dt.timedelta(days=2) - dt.timedelta(minutes=1)


def test_list_without_tenants_says_how_to_make_one(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "SECRET_KEY": "x"})
    try:
        runner = app.test_cli_runner()
        ok(runner, "db", "upgrade")
        output = ok(runner, "sandbox", "list")
    finally:
        app.extensions["database"].dispose()
    assert output.strip() == (
        "no sandbox tenants; create one with `gateway sandbox seed --tenant ID`"
    )


# The console script --------------------------------------------------------------------------


def run_gateway(args: Sequence[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``gateway ARGS`` as the console script does, with only ``env`` of GATEWAY_*.

    A secret key is given so that no run writes one into the package's instance folder.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environ["GATEWAY_SECRET_KEY"] = "test-secret"
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", "from gateway.console import main; main()", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "cwd"
    folder.mkdir()
    yield folder


@pytest.mark.parametrize(
    "url",
    [
        "mysql://x/y",
        f"postgresql://user:{PASSWORD}@/",
        f"postgresql+psycopg://nobody:{PASSWORD}@127.0.0.1:1/x",
    ],
)
def test_a_configuration_error_is_one_line_and_exit_status_2(workdir: Path, url: str) -> None:
    done = run_gateway(["db", "current"], workdir, GATEWAY_DATABASE_URL=url)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: GATEWAY_DATABASE_URL")
    assert "Traceback" not in done.stderr
    assert PASSWORD not in done.stderr
    assert done.stdout == ""


def test_db_upgrade_then_current_through_the_console_script(workdir: Path, tmp_path: Path) -> None:
    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    head = migrate.head_revision()

    before = run_gateway(["db", "current"], workdir, **env)
    assert before.returncode == 1, before.stderr
    assert "database: None" in before.stdout

    upgraded = run_gateway(["db", "upgrade"], workdir, **env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"database at revision {head}" in upgraded.stdout

    current = run_gateway(["db", "current"], workdir, **env)
    assert current.returncode == 0, current.stderr
    assert f"database: {head}" in current.stdout
    assert "Traceback" not in current.stderr


COMMANDS = [
    "db", "idempotency", "keys", "ops", "routes", "run", "sandbox", "serve", "shell", "specs",
]  # fmt: skip


def test_help_shows_the_gateway_s_options_and_every_command(workdir: Path, tmp_path: Path) -> None:
    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    done = run_gateway(["--help"], workdir, **env)
    assert done.returncode == 0, done.stderr
    options = done.stdout.split("Options:")[1].split("Commands:")[0]
    assert re.findall(r"^  (-\S+)", options, re.M) == ["--version", "--help"]
    for flask_only in ("--app", "--env-file", "--debug", "Flask"):
        assert flask_only not in done.stdout
    listed = re.findall(r"^  (\S+) ", done.stdout.split("Commands:")[1], re.M)
    assert listed == COMMANDS


def test_version_is_the_gateway_s(workdir: Path) -> None:
    done = run_gateway(["--version"], workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"gateway, version {metadata.version('openbank-gateway')}\n"


def run_group(app: Flask, *args: str) -> Result:
    """Run the ``gateway`` group itself (not ``app.cli``) in-process on the test app."""
    info = ScriptInfo(create_app=lambda: app)
    return CliRunner().invoke(cli, list(args), obj=info, prog_name="gateway")


@pytest.mark.parametrize(
    "option", [["-A", "wsgi:app"], ["--app", "wsgi:app"], ["-e", "x.env"], ["--env-file", "x.env"],
               ["--debug"], ["--no-debug"]],
    ids=lambda option: option[0],
)  # fmt: skip
def test_flask_s_own_options_are_gone(app: Flask, option: list[str]) -> None:
    result = run_group(app, *option, "db", "current")
    assert result.exit_code == 2
    assert f"No such option '{option[0]}'" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_still_there(app: Flask, command: str) -> None:
    result = run_group(app, command, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: gateway {command} [OPTIONS]")


def test_serve_refuses_several_workers_with_a_token_cache_but_no_redis(database_url: str) -> None:
    # Without a shared store a change in one worker would not reach the others' caches.
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
                      "REDIS_URL": "", "TOKEN_CACHE_SECONDS": 30})  # fmt: skip
    try:
        result = app.test_cli_runner().invoke(args=["serve", "--workers", "2"])
    finally:
        app.extensions["database"].dispose()
    assert result.exit_code == 2
    assert "GATEWAY_TOKEN_CACHE_SECONDS needs GATEWAY_REDIS_URL" in result.output
