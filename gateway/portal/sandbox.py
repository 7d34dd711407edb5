"""The organisation's sandbox bank in the portal: made on first use, its clock moved forward, and
reset to its seed.

Making a sandbox takes seconds. A page that needs one that is not made yet answers at once with a
"Preparing your sandbox" page whose ``<meta http-equiv="refresh">`` loads :func:`prepare`, which
makes it and sends the browser back: the browser keeps showing that page meanwhile, and no script
is needed. The clock moves by a step the page offers or a number of days and hours; what ran on
the way is shown once, on the organisation page. A reset waits for a confirmation (its own page,
whose form carries ``confirm=yes``), as ops suspensions do.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from gateway.core.administration import SandboxBank
from gateway.edge.transaction import get_session
from gateway.portal import services as portal
from gateway.portal.auth import login_required, safe_next, signed_in
from partners.errors import PartnerError
from partners.models import Organisation

RUN_SESSION_KEY = "portal_sandbox_run"


def core() -> SandboxBank:
    """The sandbox, bound to this request's unit of work."""
    bank: SandboxBank = current_app.extensions["sandbox"](get_session())
    return bank


def _organisation() -> Organisation | None:
    developer = signed_in()
    if developer.organisation_id is None:
        return None
    return get_session().get_one(Organisation, developer.organisation_id)


def _back() -> ResponseReturnValue:
    return redirect(url_for("portal.organisation", _anchor="sandbox-heading"), code=303)


def preparing(tenant: str) -> ResponseReturnValue | None:
    """The "Preparing your sandbox" page while ``tenant`` is not made, else ``None`` (and for
    ops, who have no sandbox of their own to prepare: a page they open makes it as it goes)."""
    if signed_in().is_ops or portal.sandbox_ready(core(), tenant) is not None:
        return None
    here = request.full_path.rstrip("?")
    return render_template(
        "portal/preparing.html", prepare_url=url_for("portal.prepare_sandbox", next=here)
    )


@login_required
def prepare() -> ResponseReturnValue:
    """Make the organisation's sandbox (the slow part: seconds), then go back to the page that
    needed it."""
    organisation = _organisation()
    if organisation is None:
        return redirect(url_for("portal.home"), code=303)
    core().ensure_tenant(organisation.id)
    target = safe_next(request.args.get("next")) or url_for("portal.organisation")
    return redirect(target, code=303)


@login_required
def advance() -> ResponseReturnValue:
    """Move the sandbox's clock forward; the organisation page then shows what ran."""
    organisation = _organisation()
    if organisation is None:
        return redirect(url_for("portal.home"), code=303)
    try:
        delta = portal.advance_request(
            request.form.get("step", ""),
            request.form.get("days", ""),
            request.form.get("hours", ""),
        )
    except PartnerError as exc:
        flash(exc.message, "error")
        return _back()
    bank = core()
    before = bank.ensure_tenant(organisation.id).now
    run = bank.advance_clock(organisation.id, delta)
    session[RUN_SESSION_KEY] = portal.run_summary(before, delta, run)
    return _back()


@login_required
def reset() -> ResponseReturnValue:
    """Reset the sandbox to its seed once confirmed; ``GET`` shows the confirmation."""
    organisation = _organisation()
    if organisation is None:
        return redirect(url_for("portal.home"), code=303)
    here = url_for("portal.reset_sandbox")
    if request.method == "GET":
        return render_template(
            "portal/confirm.html",
            title="Reset your sandbox?",
            consequences=[
                "Its data is thrown away and generated again from its seed: the same test "
                "customers, accounts and ids, their balances and history as they were at the "
                "start.",
                "Payments, standing orders and everything else your apps did in it are gone.",
                "Its clock goes back to real time.",
                "Your apps, their consents and tokens stay as they are.",
                "It takes a few seconds.",
            ],
            action_url=here,
            button="Reset the sandbox",
            cancel_url=url_for("portal.organisation"),
        )
    if request.form.get("confirm") != "yes":
        return redirect(here, code=303)
    bank = core()
    if portal.sandbox_ready(bank, organisation.id) is None:
        info = bank.ensure_tenant(organisation.id)  # a new sandbox is at its seed already
    else:
        info = bank.reset_tenant(organisation.id)
    session.pop(RUN_SESSION_KEY, None)
    flash(f"Your sandbox is back at its seed; its clock reads {portal.clock_text(info.now)}.", "ok")
    return _back()


def last_run() -> dict[str, object] | None:
    """What the last move of the clock did, shown once."""
    run: dict[str, object] | None = session.pop(RUN_SESSION_KEY, None)
    return run
