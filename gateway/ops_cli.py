"""Operator commands for partners and the authorization server's keys.

gateway ops create-account --email ops@bank.example --name "Ops"   (asks for a password)
gateway ops organisation approve|suspend ORG_ID
gateway ops app approve|suspend|reactivate CLIENT_ID
gateway ops tier CLIENT_ID TIER
gateway ops fx-reconcile
gateway ops fx-position TENANT
gateway ops loan-book [--tenant TENANT]
gateway keys rotate
gateway keys list
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.fx import FxCore
from gateway.core.loans import LoansCore
from gateway.oauth import keys
from gateway.oauth.models import ServerKey
from gateway.store.database import Database
from partners import services
from partners.errors import PartnerError
from partners.models import App


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, whether the file is new or was there with a
    wider mode (``os.open`` sets the mode of a file it creates only)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        if hasattr(os, "fchmod"):  # POSIX; Windows keeps no such mode
            os.fchmod(fd, 0o600)
        fh.write(text)


@contextmanager
def _session() -> Iterator[Session]:
    database: Database = current_app.extensions["database"]
    with database.sessions.begin() as session:
        try:
            yield session
        except PartnerError as exc:
            raise click.ClickException(exc.message) from None


ops_cli = AppGroup("ops", help="Bank operations: ops accounts, approvals, suspensions.")
keys_cli = AppGroup("keys", help="The authorization server's signing keys.")


@ops_cli.command("create-account")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option(help="At least 12 characters; asked for when not given.")
def create_account(email: str, name: str, password: str) -> None:
    """Create an ops account for the portal's ops pages."""
    with _session() as session:
        developer = services.create_ops_account(session, email, name, password)
        click.echo(f"ops account {developer.email} created")


@ops_cli.command("organisation")
@click.argument("action", type=click.Choice(["approve", "suspend"]))
@click.argument("organisation_id")
def organisation(action: str, organisation_id: str) -> None:
    """Approve an organisation for production, or suspend it (and its apps)."""
    status = "approved" if action == "approve" else "suspended"
    with _session() as session:
        org = services.set_organisation_status(session, organisation_id, status)
        click.echo(f"{org.legal_name} ({org.id}) is {org.status}")


@ops_cli.command("app")
@click.argument("action", type=click.Choice(["approve", "suspend", "reactivate"]))
@click.argument("client_id")
def app_command(action: str, client_id: str) -> None:
    """Approve a production app, suspend an app (its tokens stop working), or reactivate it."""
    with _session() as session:
        app = session.get(App, client_id)
        if app is None:
            raise click.ClickException(f"no app {client_id}")
        change = {
            "approve": services.approve_app,
            "suspend": services.suspend_app,
            "reactivate": services.reactivate_app,
        }[action]
        change(session, app)
        click.echo(f"{app.name} ({app.client_id}) is {app.status}")


@keys_cli.command("rotate")
def rotate() -> None:
    """Make a new signing key; the previous one stays published until the next rotation."""
    with _session() as session:
        click.echo(f"new signing key {keys.rotate(session)}")


@keys_cli.command("list")
def list_keys() -> None:
    """List the signing keys and their status."""
    with _session() as session:
        keys.active_key(session)
        for row in session.scalars(select(ServerKey).order_by(ServerKey.created_at.desc())):
            click.echo(f"{row.kid}  {row.alg}  {row.status:<9}  {row.created_at:%Y-%m-%d %H:%M}")


@ops_cli.command("tier")
@click.argument("client_id")
@click.argument("tier")
def tier(client_id: str, tier: str) -> None:
    """Move an app to a rate-limit tier (see GATEWAY_RATE_LIMIT_TIERS)."""
    from gateway.edge.ratelimit import DEFAULT_TIERS

    known = {**DEFAULT_TIERS, **(current_app.config.get("RATE_LIMIT_TIERS") or {})}
    if tier not in known:
        raise click.ClickException(f"unknown tier {tier!r}; known: {', '.join(sorted(known))}")
    with _session() as session:
        app = session.get(App, client_id)
        if app is None:
            raise click.ClickException(f"no app {client_id}")
        services.set_tier(session, app, tier, known)
        click.echo(f"{app.name} ({app.client_id}) is in tier {tier}: {known[tier]}")


@ops_cli.command("load-partner")
@click.option("--issuer", required=True, help="The gateway's public base URL.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="File to write, mode 0600: it holds the app's private key.",
)
@click.option("--redirect-uri", default="https://load.example/callback", show_default=True)
@click.option(
    "--transactions",
    type=click.IntRange(min=1),
    default=None,
    help="Give the partner's sandbox a large profile: its café account gets about this many.",
)
def load_partner(issuer: str, output: str, redirect_uri: str, transactions: int | None) -> None:
    """Create a sandbox partner for load tests and write its client configuration (the JSON
    the example client and the locust scenario read, with its private key and its test
    customers' logins), readable by its owner only."""
    import json
    import secrets as random

    from joserfc.jwk import ECKey

    from partners.models import Organisation

    key = ECKey.generate_key("P-256", auto_kid=True)
    with _session() as session:
        developer = services.sign_up(
            session,
            email=f"load-{random.token_hex(6)}@load.example",
            name="Load test",
            password=random.token_urlsafe(24),
            legal_name="Load Test Partner Ltd",
            country="GB",
            registration_number=random.token_hex(4),
            roles=["AISP", "PISP", "FINANCING"],
        )
        organisation = session.get_one(Organisation, developer.organisation_id)
        app, _ = services.create_app(
            session,
            organisation,
            name="Load test app",
            redirect_uris=[redirect_uri],
            token_endpoint_auth_method="private_key_jwt",  # noqa: S106 - a method name
            jwks={"keys": [key.as_dict(private=False)]},
            dpop_bound=True,
        )
        core = current_app.extensions["sandbox"](session)
        if transactions:
            core.ensure_tenant(organisation.id, profile="large", transactions=transactions)
        logins = core.sandbox_logins(organisation.id)
        config = {
            "issuer": issuer.rstrip("/"),
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "private_jwk": key.as_dict(private=True),
            "customers": [{"username": x.username, "password": x.password} for x in logins],
        }
    write_private(output, json.dumps(config, indent=2))
    click.echo(f"partner {organisation.id}, app {config['client_id']}: written to {output}")


@ops_cli.command("fx-reconcile")
def fx_reconcile() -> None:
    """Prove that every FX journal balances per currency and agrees with its conversion (amounts
    and rate, to the minor unit), and that each nostro's and vostro's balance is the sum of its
    postings; exit 1 on any break."""
    database: Database = current_app.extensions["database"]
    with database.sessions() as session:
        desk: FxCore = current_app.extensions["bank_core"](session)
        found = desk.reconcile()
    for line in found.breaks:
        click.echo(f"break: {line}", err=True)
    click.echo(f"{found.journals} FX journals, {found.conversions} conversions, "
               f"{found.nostros} nostro and vostro accounts, "
               f"{len(found.breaks)} breaks")  # fmt: skip
    if found.breaks:
        sys.exit(1)


@ops_cli.command("fx-position")
@click.argument("tenant")
def fx_position(tenant: str) -> None:
    """A sandbox's FX position per currency, fee income, and profit and loss at mid rates now."""
    database: Database = current_app.extensions["database"]
    with database.sessions() as session:
        desk: FxCore = current_app.extensions["bank_core"](session)
        found = desk.position(tenant)
        session.commit()
    for money in found.positions:
        click.echo(f"position {money.currency} {money.amount:f}")
    for money in found.fees:
        click.echo(f"fees     {money.currency} {money.amount:f}")
    click.echo(f"P&L      {found.pnl.currency} {found.pnl.amount:f}")


@ops_cli.command("loan-book")
@click.option("--tenant", default=None, help="One sandbox; every one when absent.")
def loan_book(tenant: str | None) -> None:
    """The loan book per currency: loans active and settled, the amount outstanding, and loans
    in arrears by days-past-due bucket (count and amount overdue)."""
    database: Database = current_app.extensions["database"]
    with database.sessions() as session:
        bank: LoansCore = current_app.extensions["bank_core"](session)
        books = bank.loan_book(tenant)
        session.commit()  # the clock's due work, run as the book was read
    if not books:
        click.echo("no loans")
    for book in books:
        click.echo(f"{book.currency} active {book.active} settled {book.settled} "
                   f"outstanding {book.outstanding:f}")  # fmt: skip
        for total in book.arrears:
            click.echo(f"{book.currency} arrears {total.bucket:>5} days: {total.count} loans, "
                       f"{total.arrears:f} overdue")  # fmt: skip
