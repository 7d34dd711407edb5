"""Portal accounts: sign-up, sign-in, sign-out, and who is signed in.

The signed-in developer's id is the only identity the session cookie carries. Signing in (or up)
clears the session first, so that nothing planted in a session before sign-in (session fixation)
survives it. A failed sign-in says the same thing whether or not the address has an account, and
:func:`partners.services.authenticate_developer` takes the same time either way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from gateway.edge import sessions
from gateway.edge.transaction import get_session
from gateway.portal.forms import (
    COUNTRIES,
    SIGN_UP_FIELDS,
    SIGN_UP_LABELS,
    labelled,
    sign_up_errors,
)
from partners import services
from partners.errors import PartnerError
from partners.models import ROLES, Developer

P = ParamSpec("P")
SESSION_KEY = "portal_developer"
SIGN_IN_FAILED = "The e-mail address or password is not right."
_UNSET = object()


def current_developer() -> Developer | None:
    """Return the developer signed in to this browser session, or ``None``."""
    cached = g.get("portal_developer", _UNSET)
    if cached is None or isinstance(cached, Developer):
        return cached
    developer_id = session.get(SESSION_KEY)
    developer = None
    if isinstance(developer_id, str):
        developer = get_session().get(Developer, developer_id)
    g.portal_developer = developer
    return developer


def signed_in() -> Developer:
    """Return the signed-in developer of a view behind :func:`login_required`."""
    developer = current_developer()
    if developer is None:  # pragma: no cover - login_required guards every caller
        abort(401)
    return developer


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a portal path on this site (no open redirect), else ``None``."""
    if not target or not target.startswith("/portal/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and "\\" not in target else None


def login_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Send a visitor who is not signed in to the sign-in page (and back after it)."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_developer() is None:
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("portal.login", next=back), code=303)
        return view(*args, **kwargs)

    return wrapped


def ops_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Let bank ops through; anyone else signed in gets a 404, as if the page did not exist."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        developer = current_developer()
        if developer is not None and not developer.is_ops:
            abort(404)
        return view(*args, **kwargs)

    return login_required(wrapped)


def _sign_in(developer: Developer) -> None:
    # A new session: drop whatever the browser carried before, remember who, and move to a new
    # session id (fixation).
    session.clear()
    session[SESSION_KEY] = developer.id
    sessions.regenerate()
    g.portal_developer = developer


def _signup_page(form: dict[str, Any], errors: dict[str, str], status: int) -> ResponseReturnValue:
    return render_template(
        "portal/signup.html", form=form, errors=errors, countries=COUNTRIES, roles=ROLES
    ), status


def signup() -> ResponseReturnValue:
    """Create an organisation and its first developer, and sign them in."""
    if request.method == "GET":
        return _signup_page({"country": "GB", "roles": []}, {}, 200)
    form: dict[str, Any] = {
        name: request.form.get(name, "") for name in SIGN_UP_FIELDS if name != "roles"
    }
    form["roles"] = request.form.getlist("roles")
    # Every field is checked before the service runs, so the page shows all the problems at once;
    # what only the service can tell (an e-mail address already taken) comes after.
    errors = sign_up_errors(form)
    if not errors:
        try:
            developer = services.sign_up(get_session(), **form)
        except PartnerError as exc:
            errors = labelled(exc, SIGN_UP_LABELS)
        else:
            _sign_in(developer)
            flash("Welcome! Your organisation is registered.", "ok")
            return redirect(url_for("portal.organisation"), code=303)
    form["password"] = ""  # never sent back into the page
    return _signup_page(form, errors, 400)


def login() -> ResponseReturnValue:
    """Sign a developer in with their e-mail address and password."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("portal/login.html", email="", next=target, error=None)
    email = request.form.get("email", "")
    developer = services.authenticate_developer(
        get_session(), email, request.form.get("password", "")
    )
    if developer is None:
        page = render_template("portal/login.html", email=email, next=target, error=SIGN_IN_FAILED)
        return page, 401
    _sign_in(developer)
    default = "portal.ops" if developer.is_ops else "portal.apps"
    return redirect(target or url_for(default), code=303)


def logout() -> ResponseReturnValue:
    """Forget the signed-in developer."""
    session.clear()
    g.portal_developer = None
    flash("You are signed out.", "ok")
    return redirect(url_for("portal.login"), code=303)
