"""The bank's ops pages: approve or suspend organisations, approve, suspend or reactivate apps,
and move apps between rate-limit tiers.

Only developers with ``is_ops`` (created with ``gateway ops create-account``) reach them; for
anyone else signed in they do not exist (404). Suspending takes a confirmation step, a page of its
own (``GET`` the action's URL) whose form carries ``confirm=yes``: a suspension posted without it
goes to that page instead. Every change is logged (``gateway.portal.ops``) with the ops account
that made it and the request's interaction id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.edge.transaction import get_session
from gateway.portal import services as portal
from gateway.portal.auth import ops_required, signed_in
from partners import services
from partners.errors import PartnerError
from partners.models import App, Organisation

log = logging.getLogger(__name__)

ORGANISATION_ACTIONS = {"approve": "approved", "suspend": "suspended"}
APP_ACTIONS: dict[str, Callable[[Session, App], App]] = {
    "approve": services.approve_app,
    "suspend": services.suspend_app,
    "reactivate": services.reactivate_app,
}
# The actions that stop a partner's traffic at once, taken only once confirmed.
CONFIRMED = frozenset({"suspend"})


def _tiers() -> dict[str, str]:
    return portal.rate_limit_tiers(current_app.config.get("RATE_LIMIT_TIERS") or {})


@ops_required
def overview() -> ResponseReturnValue:
    """Every organisation and every app, with the actions ops may take on each."""
    db = get_session()
    organisations = portal.organisations(db)
    names = {org.id: org.legal_name for org in organisations}
    return render_template(
        "portal/ops.html",
        organisations=organisations,
        apps=portal.organisation_apps(db, None),
        names=names,
        tiers=_tiers(),
    )


def _audit(action: str, subject: str) -> None:
    log.info("ops %s: %s %s", signed_in().email, action, subject)


def _done(message: str | None, error: PartnerError | None = None) -> ResponseReturnValue:
    if error is not None:
        get_session().rollback()
        flash(error.message, "error")
    elif message:
        flash(message, "ok")
    return redirect(url_for("portal.ops"), code=303)


def _unconfirmed(action: str) -> bool:
    """Whether this request asks for an action that needs a confirmation it does not carry."""
    return action in CONFIRMED and (request.method == "GET" or request.form.get("confirm") != "yes")


def _confirm_page(
    title: str, consequences: list[str], action_url: str, button: str
) -> ResponseReturnValue:
    if request.method == "POST":
        # A suspension posted without its confirmation (an old page): ask first.
        return redirect(action_url, code=303)
    return render_template(
        "portal/confirm.html",
        title=title,
        consequences=consequences,
        action_url=action_url,
        button=button,
        cancel_url=url_for("portal.ops"),
    )


@ops_required
def organisation_action(org_id: str, action: str) -> ResponseReturnValue:
    """Approve an organisation for production, or suspend it (and its active apps) once
    confirmed; ``GET`` shows the confirmation of a suspension."""
    status = ORGANISATION_ACTIONS.get(action)
    org = get_session().get(Organisation, org_id)
    if status is None or org is None or (request.method == "GET" and action not in CONFIRMED):
        abort(404)
    if _unconfirmed(action):
        active = [
            a for a in portal.organisation_apps(get_session(), org.id) if a.status == "active"
        ]
        return _confirm_page(
            f"Suspend {org.legal_name}?",
            [
                f"Its {len(active)} active app(s) are suspended with it: their tokens stop "
                "working at once and they cannot obtain new ones.",
                "It cannot create apps while suspended.",
                "Approving it again does not reactivate its apps: reactivate each one here.",
            ],
            url_for("portal.ops_organisation", org_id=org.id, action=action),
            f"Suspend {org.legal_name}",
        )
    try:
        services.set_organisation_status(get_session(), org_id, status)
    except PartnerError as exc:
        return _done(None, exc)
    _audit(action, f"organisation {org.id} ({org.legal_name})")
    return _done(f"{org.legal_name} is {org.status}.")


@ops_required
def app_action(client_id: str, action: str) -> ResponseReturnValue:
    """Approve a pending production app, suspend an app once confirmed, or reactivate a suspended
    one; ``GET`` shows the confirmation of a suspension."""
    change = APP_ACTIONS.get(action)
    app = get_session().get(App, client_id)
    if change is None or app is None or (request.method == "GET" and action not in CONFIRMED):
        abort(404)
    if _unconfirmed(action):
        return _confirm_page(
            f"Suspend {app.name}?",
            [
                f"{app.name} ({app.client_id}) can no longer obtain tokens, and the tokens it "
                "holds stop working at once.",
                "Reactivate it here to let it back in; its consents are kept.",
            ],
            url_for("portal.ops_app", client_id=app.client_id, action=action),
            f"Suspend {app.name}",
        )
    try:
        change(get_session(), app)
    except PartnerError as exc:
        return _done(None, exc)
    _audit(action, f"app {app.client_id} ({app.name})")
    return _done(f"{app.name} ({app.client_id}) is {app.status}.")


@ops_required
def app_tier(client_id: str) -> ResponseReturnValue:
    """Move an app to another rate-limit tier: its calls count at the new tier from the next one
    (a worker that kept the app's token learns of the change in that call's round trip, after
    charging it: the call after it)."""
    app = get_session().get(App, client_id)
    if app is None:
        abort(404)
    tiers = _tiers()
    before = app.tier
    try:
        services.set_tier(get_session(), app, request.form.get("tier", ""), tiers)
    except PartnerError as exc:
        return _done(None, exc)
    if app.tier != before:
        _audit("tier", f"app {app.client_id} ({app.name}) from {before} to {app.tier}")
    return _done(f"{app.name} ({app.client_id}) is in tier {app.tier}: {tiers[app.tier]}.")
