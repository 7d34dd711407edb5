"""The ``gateway`` command: every operator task, on Flask's CLI.

    gateway db upgrade                      bring the schema to the newest revision
    gateway sandbox seed --tenant acme      create a tenant's data set (if new) and print it
    gateway sandbox list                    every tenant: seed, clock, customers, accounts
    gateway sandbox reset --tenant acme     regenerate a tenant from its seed
    gateway sandbox advance --tenant acme --days 7
    gateway sandbox show --tenant acme [--customer USERNAME]
    gateway serve                           run the gateway under gunicorn (control socket:
                                            instance/gunicorn-HOST-PORT.ctl)
    gateway specs write|check               write the OpenAPI documents, or check them for drift
    gateway idempotency purge               delete the idempotency keys past their 24 hours

A command is one unit of work: it commits once at the end, or not at all if it fails. Only
``sandbox seed`` creates a tenant; the other sandbox commands refuse one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.api.idempotency.cli import idempotency_cli
from gateway.apidocs.cli import specs_cli
from gateway.core.administration import SandboxBank, TenantInfo
from gateway.core.errors import UnknownResource
from gateway.ops_cli import keys_cli, ops_cli
from gateway.serve import serve
from gateway.store.database import Database


@contextmanager
def unit_of_work() -> Iterator[tuple[Session, SandboxBank]]:
    """Yield a session and the bank core bound to it; commit on success, roll back on error."""
    database: Database = current_app.extensions["database"]
    session = database.sessions()
    try:
        yield session, current_app.extensions["sandbox"](session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# AppGroup, not click.Group: its commands run in an application context however they are invoked
# (FlaskGroup pushes one, app.cli and the test runner do not).
db_cli = AppGroup("db", help="Database schema migrations.")


@db_cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database schema to REVISION."""
    database: Database = current_app.extensions["database"]
    migrate.upgrade(database.engine, revision)
    current, _ = migrate.schema_status(database.engine)
    click.echo(f"database at revision {current}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database schema back to REVISION ("base" empties it)."""
    database: Database = current_app.extensions["database"]
    migrate.downgrade(database.engine, revision)
    click.echo(f"database at revision {migrate.schema_status(database.engine)[0]}")


@db_cli.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the one the code expects."""
    database: Database = current_app.extensions["database"]
    current, head = migrate.schema_status(database.engine)
    click.echo(f"database: {current}\ncode:     {head}")
    if current != head:
        sys.exit(1)


sandbox_cli = AppGroup("sandbox", help="The sandbox bank: tenants, clock, test customers.")
tenant_option = click.option("--tenant", required=True, help="Tenant (organisation) id.")


def _existing(core: SandboxBank, tenant: str) -> TenantInfo:
    """The tenant, or the error that says how to create it: only ``seed`` does."""
    try:
        return core.tenant_info(tenant)
    except UnknownResource:
        raise click.ClickException(
            f"no sandbox tenant {tenant!r}; create it with "
            f"`gateway sandbox seed --tenant {shlex.quote(tenant)}`"
        ) from None


@sandbox_cli.command("seed")
@tenant_option
@click.option("--seed", type=int, default=None, help="Seed of a new tenant's data set.")
@click.option(
    "--profile",
    type=click.Choice(["standard", "large"]),
    default="standard",
    show_default=True,
    help="Size of a new data set; large gives one business account a long card-sale history.",
)
@click.option(
    "--transactions",
    type=click.IntRange(min=1),
    default=None,
    help="With --profile large: about how many transactions the business account gets.",
)
@click.option("--quiet", is_flag=True, help="Do not print the customers.")
def sandbox_seed(
    tenant: str, seed: int | None, profile: str, transactions: int | None, quiet: bool
) -> None:
    """Create TENANT's data set if it does not exist yet; print its test customers' logins."""
    with unit_of_work() as (_session, core):
        info = core.ensure_tenant(tenant, seed, profile=profile, transactions=transactions)
        click.echo(
            f"tenant {info.id}: seed {info.seed}, {info.customers} customers, "
            f"{info.accounts} accounts, clock {info.now:%Y-%m-%d %H:%M} UTC"
        )
        if not quiet:
            _print_customers(core, tenant)


@sandbox_cli.command("reset")
@tenant_option
@click.option("--seed", type=int, default=None, help="A new seed (default: keep the tenant's).")
def sandbox_reset(tenant: str, seed: int | None) -> None:
    """Throw away TENANT's data and regenerate it from its seed."""
    with unit_of_work() as (_session, core):
        _existing(core, tenant)
        info = core.reset_tenant(tenant, seed)
        click.echo(f"tenant {info.id} reset to seed {info.seed}: {info.accounts} accounts")


@sandbox_cli.command("advance")
@tenant_option
@click.option("--days", type=click.IntRange(min=0), default=0)
@click.option("--hours", type=click.IntRange(min=0), default=0)
def sandbox_advance(tenant: str, days: int, hours: int) -> None:
    """Move TENANT's clock forward and run what falls due (standing orders, scheduled payments)."""
    if not days and not hours:
        raise click.UsageError("give --days and/or --hours")
    with unit_of_work() as (_session, core):
        _existing(core, tenant)
        run = core.advance_clock(tenant, dt.timedelta(days=days, hours=hours))
        click.echo(f"clock now {run.now:%Y-%m-%d %H:%M} UTC")
        for kind in sorted(set(run.executed) | set(run.rejected)):
            click.echo(
                f"  {kind}: {run.executed.get(kind, 0)} executed, "
                f"{run.rejected.get(kind, 0)} rejected"
            )


@sandbox_cli.command("show")
@tenant_option
@click.option("--customer", "username", default=None, help="Username of one test customer.")
def sandbox_show(tenant: str, username: str | None) -> None:
    """Print TENANT's test customers, their logins, accounts and balances."""
    with unit_of_work() as (_session, core):
        _existing(core, tenant)
        _print_customers(core, tenant, username)


@sandbox_cli.command("list")
def sandbox_list() -> None:
    """List every tenant: its seed, clock, customers and accounts."""
    with unit_of_work() as (_session, core):
        tenants = core.list_tenants()
    if not tenants:
        click.echo("no sandbox tenants; create one with `gateway sandbox seed --tenant ID`")
        return
    width = max(len("TENANT"), *(len(info.id) for info in tenants))
    click.echo(f"{'TENANT':<{width}}  {'SEED':>15}  CLOCK (UTC)       CUSTOMERS  ACCOUNTS")
    for info in tenants:
        click.echo(
            f"{info.id:<{width}}  {info.seed:>15}  {info.now:%Y-%m-%d %H:%M}  "
            f"{info.customers:>9}  {info.accounts:>8}"
        )


def _print_customers(core: SandboxBank, tenant: str, username: str | None = None) -> None:
    customers = [c for c in core.customers(tenant) if username in (None, c.username)]
    if username and not customers:
        raise click.ClickException(f"no customer {username!r} in tenant {tenant}")
    # A sandbox shows its test customers' passwords, as the portal does; a real bank has none.
    passwords = {login.customer.id: login.password for login in core.sandbox_logins(tenant)}
    for customer in customers:
        password = passwords.get(customer.id)
        click.echo(
            f"\n{customer.name} ({customer.kind}) login: {customer.username}"
            + (f"  password: {password}" if password is not None else "")
        )
        for account in core.accounts(tenant, customer.id):
            bal = core.balances(tenant, account.id)
            ident = next(
                (i.identification for i in account.identifiers if "SortCode" in i.scheme),
                account.identifiers[0].identification if account.identifiers else "",
            )
            click.echo(
                f"  {account.id}  {account.account_subtype:<14} {ident:<24} "
                f"booked {bal.booked.amount:>14,} {bal.booked.currency}  "
                f"available {bal.available.amount + bal.credit_line.amount:>14,}"
            )


def register_commands(app: Flask) -> None:
    """Attach the operator commands to ``app.cli``."""
    for command in (db_cli, sandbox_cli, serve, ops_cli, keys_cli, specs_cli, idempotency_cli):
        app.cli.add_command(command)
