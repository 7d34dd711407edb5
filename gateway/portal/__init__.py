"""The developer portal: sign-up and sign-in, the organisation and its sandbox, apps, "try the
flow" and ops pages.

Every page is HTML for a browser session. Every form post carries the session's CSRF token
(Flask-WTF), checked for the whole blueprint before any view runs. The URL map below is the one
the getting-started guide promises; views live in :mod:`.auth`, :mod:`.views`, :mod:`.sandbox`
and :mod:`.ops`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound

from gateway.edge.errors import EdgeError, Unavailable
from gateway.portal import auth, ops, sandbox, views

bp = Blueprint("portal", __name__, url_prefix="/portal")

GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")
ROUTES: tuple[tuple[str, str, Callable[..., ResponseReturnValue], tuple[str, ...]], ...] = (
    ("/", "home", views.home, GET),
    ("/signup", "signup", auth.signup, BOTH),
    ("/login", "login", auth.login, BOTH),
    ("/logout", "logout", auth.logout, POST),
    ("/organisation", "organisation", views.organisation, GET),
    ("/organisation/sandbox/prepare", "prepare_sandbox", sandbox.prepare, GET),
    ("/organisation/sandbox/clock", "advance_sandbox", sandbox.advance, POST),
    ("/organisation/sandbox/reset", "reset_sandbox", sandbox.reset, BOTH),
    ("/apps", "apps", views.apps, GET),
    ("/apps/new", "new_app", views.new_app, BOTH),
    ("/apps/<client_id>", "app", views.app_page, GET),
    ("/apps/<client_id>/redirect-uris", "redirect_uris", views.redirect_uris, POST),
    ("/apps/<client_id>/keys", "keys", views.app_keys, POST),
    ("/apps/<client_id>/request-signing", "request_signing", views.request_signing, POST),
    ("/apps/<client_id>/secret", "secret", views.secret, POST),
    ("/apps/<client_id>/delete", "delete", views.delete, POST),
    ("/apps/<client_id>/software-statement", "software_statement", views.statement, POST),
    ("/apps/<client_id>/try", "try_flow", views.try_flow, BOTH),
    ("/apps/<client_id>/try/redirect-uri", "try_redirect_uri", views.try_redirect_uri, POST),
    ("/apps/<client_id>/try/callback", "try_callback", views.try_callback, GET),
    ("/ops", "ops", ops.overview, GET),
    ("/ops/organisations/<org_id>/<action>", "ops_organisation", ops.organisation_action, BOTH),
    ("/ops/apps/<client_id>/tier", "ops_tier", ops.app_tier, POST),
    ("/ops/apps/<client_id>/<action>", "ops_app", ops.app_action, BOTH),
)
for _rule, _endpoint, _view, _methods in ROUTES:
    bp.add_url_rule(_rule, _endpoint, _view, methods=list(_methods))


@bp.before_request
def _csrf() -> None:
    """Every form post of the portal carries the session's CSRF token (400 otherwise)."""
    if request.method == "POST":
        current_app.extensions["csrf"].protect()


@bp.context_processor
def _navigation() -> dict[str, Any]:
    # The API reference is linked when the application serves it.
    docs = url_for("docs.index") if "docs.index" in current_app.view_functions else None
    return {"developer": auth.current_developer(), "docs_url": docs}


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError) -> ResponseReturnValue:
    message = "This form has expired or did not come from the portal. Reload the page and retry."
    return render_template("portal/error.html", title="Form expired", message=message), 400


@bp.errorhandler(EdgeError)
def _edge_error(exc: EdgeError) -> ResponseReturnValue:
    """What the edge refuses (a control character in a field), or a store that cannot serve."""
    title = "Not accepted"
    if isinstance(exc, Unavailable):
        title = "Try again shortly"
        g.setdefault("portal_developer", None)  # the navigation asks no store that is down
    page = render_template("portal/error.html", title=title, message=exc.message)
    return page, exc.status, exc.headers


@bp.errorhandler(NotFound)
def _not_found(_exc: NotFound) -> ResponseReturnValue:
    message = "There is nothing here, or it belongs to another organisation."
    return render_template("portal/error.html", title="Not found", message=message), 404
