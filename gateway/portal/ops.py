"""The bank's ops pages: approve or suspend organisations, approve, suspend or reactivate apps.

Only developers with ``is_ops`` (created with ``gateway ops create-account``) reach them; for
anyone else signed in they do not exist (404).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.edge.transaction import get_session
from gateway.portal import services as portal
from gateway.portal.auth import ops_required
from partners import services
from partners.errors import PartnerError
from partners.models import App

ORGANISATION_ACTIONS = {"approve": "approved", "suspend": "suspended"}
APP_ACTIONS: dict[str, Callable[[Session, App], App]] = {
    "approve": services.approve_app,
    "suspend": services.suspend_app,
    "reactivate": services.reactivate_app,
}


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
    )


def _done(message: str | None, error: PartnerError | None = None) -> ResponseReturnValue:
    if error is not None:
        get_session().rollback()
        flash(error.message, "error")
    elif message:
        flash(message, "ok")
    return redirect(url_for("portal.ops"), code=303)


@ops_required
def organisation_action(org_id: str, action: str) -> ResponseReturnValue:
    """Approve an organisation for production, or suspend it (and its active apps)."""
    status = ORGANISATION_ACTIONS.get(action)
    if status is None:
        abort(404)
    try:
        org = services.set_organisation_status(get_session(), org_id, status)
    except PartnerError as exc:
        if exc.code == "unknown_organisation":
            abort(404)
        return _done(None, exc)
    return _done(f"{org.legal_name} is {org.status}.")


@ops_required
def app_action(client_id: str, action: str) -> ResponseReturnValue:
    """Approve a pending production app, suspend an app, or reactivate a suspended one."""
    change = APP_ACTIONS.get(action)
    app = get_session().get(App, client_id)
    if change is None or app is None:
        abort(404)
    try:
        change(get_session(), app)
    except PartnerError as exc:
        return _done(None, exc)
    return _done(f"{app.name} ({app.client_id}) is {app.status}.")
