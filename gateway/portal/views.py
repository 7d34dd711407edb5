"""The developer's pages: the organisation and its sandbox, apps, and "try the flow".

Views are thin: they read the form, call :mod:`partners.services` or :mod:`.services`, and render.
An app is visible only to members of its organisation and to ops; anyone else gets a 404, so that
client ids of other organisations cannot be probed. A page that shows a client secret renders it
in the response to the POST that made it, with ``Cache-Control: no-store``, and nowhere else.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from gateway.consents.account_access import PERMISSIONS
from gateway.core.administration import MAX_ADVANCE, SandboxBank
from gateway.edge.transaction import get_session
from gateway.edge.urls import issuer, trust_anchor
from gateway.portal import forms, sandbox, trial, trial_payments
from gateway.portal import services as portal
from gateway.portal.auth import current_developer, login_required, signed_in
from gateway.store.kv import is_fake
from partners import services
from partners.errors import PartnerError
from partners.models import App, Organisation

NEW_APP_FIELDS = frozenset(
    {"name", "redirect_uris", "token_endpoint_auth_method", "jwks", "jwks_uri", "dpop_bound"}
    | {"environment"}
)
TRIAL_SESSION_KEY = "portal_trial"


def _core() -> SandboxBank:
    return sandbox.core()


def _organisation() -> Organisation:
    """The signed-in developer's organisation (ops have none: 404)."""
    developer = signed_in()
    if developer.organisation_id is None:
        abort(404)
    return get_session().get_one(Organisation, developer.organisation_id)


def _visible_app(client_id: str) -> App:
    app = get_session().get(App, client_id)
    if app is None or not portal.can_see(signed_in(), app):
        abort(404)
    return app


def _back_to(app: App, error: PartnerError | None = None) -> ResponseReturnValue:
    if error is not None:
        get_session().rollback()  # nothing half-done is kept
        flash(error.message, "error")
    return redirect(url_for("portal.app", client_id=app.client_id), code=303)


def home() -> ResponseReturnValue:
    """The portal's front door: your apps, or the sign-in page."""
    developer = current_developer()
    if developer is None:
        return redirect(url_for("portal.login"), code=303)
    return redirect(url_for("portal.ops" if developer.is_ops else "portal.apps"), code=303)


@login_required
def organisation() -> ResponseReturnValue:
    """The organisation, its status, and its sandbox bank: its clock, its test customers and
    their accounts (a sandbox not made yet is prepared first, see :mod:`.sandbox`)."""
    if signed_in().is_ops:
        return redirect(url_for("portal.ops"), code=303)
    org = _organisation()
    waiting = sandbox.preparing(org.id)
    if waiting is not None:
        return waiting
    customers = portal.sandbox_customers(_core(), org.id)
    info = _core().tenant_info(org.id)
    return render_template(
        "portal/organisation.html",
        organisation=org,
        meaning=portal.STATUS_MEANINGS.get(org.status, ""),
        customers=customers,
        sandbox_time=portal.clock_text(info.now),
        run=sandbox.last_run(),
        max_days=MAX_ADVANCE.days,
    )


@login_required
def apps() -> ResponseReturnValue:
    """The organisation's apps (every app, for ops)."""
    developer = signed_in()
    listed = portal.organisation_apps(get_session(), developer.organisation_id)
    return render_template("portal/apps.html", apps=listed)


def _new_app_page(
    org: Organisation, form: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "portal/app_new.html", organisation=org, form=form, errors=errors
    ), status


def _secret_page(app: App, secret: str, *, created: bool) -> ResponseReturnValue:
    page = render_template("portal/secret.html", app=app, secret=secret, created=created)
    # The secret exists only in this response: no cache, no history copy may keep it.
    return page, 201 if created else 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@login_required
def new_app() -> ResponseReturnValue:
    """Register an app: redirect URIs, client authentication, keys, DPoP, environment."""
    org = _organisation()
    if request.method == "GET":
        defaults = {"token_endpoint_auth_method": "private_key_jwt", "environment": "sandbox"}
        return _new_app_page(org, {**defaults, "dpop_bound": True}, {})
    form: dict[str, Any] = {name: request.form.get(name, "") for name in NEW_APP_FIELDS}
    form["dpop_bound"] = request.form.get("dpop_bound") == "on"
    try:
        app, secret = services.create_app(
            get_session(),
            org,
            name=form["name"],
            redirect_uris=forms.lines(form["redirect_uris"]),
            token_endpoint_auth_method=form["token_endpoint_auth_method"],
            jwks=forms.jwks(form["jwks"]),
            jwks_uri=forms.optional(form["jwks_uri"]),
            environment=form["environment"] or "sandbox",
            dpop_bound=form["dpop_bound"],
        )
    except PartnerError as exc:
        return _new_app_page(org, form, forms.field_errors(exc, NEW_APP_FIELDS), 400)
    if secret is not None:
        return _secret_page(app, secret, created=True)
    flash(f"{app.name} is registered.", "ok")
    return redirect(url_for("portal.app", client_id=app.client_id), code=303)


def _callback_uri(app: App) -> str:
    return issuer() + url_for("portal.try_callback", client_id=app.client_id)


@login_required
def app_page(client_id: str) -> ResponseReturnValue:
    """One app: its registration, keys, redirect URIs, and the sandbox test customers."""
    app = _visible_app(client_id)
    org = get_session().get_one(Organisation, app.organisation_id)
    waiting = sandbox.preparing(org.id)
    if waiting is not None:
        return waiting
    return render_template(
        "portal/app.html",
        app=app,
        organisation=org,
        keys=portal.key_summaries(app),
        customers=portal.sandbox_customers(_core(), org.id, with_accounts=False),
        issuer=issuer(),
        signing_issuers=services.signing_issuers(app.client_id, org.id, app.software_id),
        trust_anchor=trust_anchor(),
    )


@login_required
def redirect_uris(client_id: str) -> ResponseReturnValue:
    """Replace the app's redirect URIs (one per line)."""
    app = _visible_app(client_id)
    try:
        services.set_redirect_uris(get_session(), app, forms.lines(request.form.get("uris", "")))
    except PartnerError as exc:
        return _back_to(app, exc)
    flash("Redirect URIs saved.", "ok")
    return _back_to(app)


@login_required
def app_keys(client_id: str) -> ResponseReturnValue:
    """Replace the app's public keys: a pasted JWKS or a jwks_uri."""
    app = _visible_app(client_id)
    try:
        services.set_keys(
            get_session(),
            app,
            jwks=forms.jwks(request.form.get("jwks", "")),
            jwks_uri=forms.optional(request.form.get("jwks_uri", "")),
        )
    except PartnerError as exc:
        return _back_to(app, exc)
    flash("Keys saved.", "ok")
    return _back_to(app)


@login_required
def request_signing(client_id: str) -> ResponseReturnValue:
    """Require signed payment, VRP and funds-confirmation requests, or (sandbox apps only) not."""
    app = _visible_app(client_id)
    required = request.form.get("required") == "on"
    try:
        services.set_request_signing(get_session(), app, required)
    except PartnerError as exc:
        return _back_to(app, exc)
    flash("Requests must now be signed." if required else "Request signing is off.", "ok")
    return _back_to(app)


@login_required
def secret(client_id: str) -> ResponseReturnValue:
    """Replace the client secret and show the new one, once."""
    app = _visible_app(client_id)
    try:
        new_secret = services.rotate_secret(get_session(), app)
    except PartnerError as exc:
        return _back_to(app, exc)
    return _secret_page(app, new_secret, created=False)


@login_required
def delete(client_id: str) -> ResponseReturnValue:
    """Delete the app, once the developer has ticked the confirmation."""
    app = _visible_app(client_id)
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm that you want to delete this app.", "error")
        return _back_to(app)
    name = app.name
    services.delete_app(get_session(), app)
    flash(f"{name} is deleted; its tokens no longer work.", "ok")
    return redirect(url_for("portal.apps"), code=303)


@login_required
def statement(client_id: str) -> ResponseReturnValue:
    """Issue a software statement for the app, for dynamic client registration."""
    app = _visible_app(client_id)
    try:
        software_id, ssa = portal.software_statement(get_session(), app)
    except PartnerError as exc:
        return _back_to(app, exc)
    return (
        render_template(
            "portal/software_statement.html", app=app, software_id=software_id, ssa=ssa
        ),
        200,
        {"Cache-Control": "no-store"},
    )


# -- try the flow ---------------------------------------------------------------------------


def _trial_transport() -> trial.Transport:
    """The transport of the portal's own client: ``PORTAL_TRIAL_TRANSPORT`` if configured (tests
    inject one), else real HTTP to the gateway's public URL."""
    configured: trial.Transport | None = current_app.config.get("PORTAL_TRIAL_TRANSPORT")
    return configured or trial.default_transport()


def _try_page(app: App, status: int = 200, **context: Any) -> ResponseReturnValue:
    callback = _callback_uri(app)
    return render_template(
        "portal/try.html",
        app=app,
        callback_uri=callback,
        registered=callback in app.redirect_uris,
        customers=portal.sandbox_customers(_core(), app.organisation_id, with_accounts=False),
        permissions=PERMISSIONS,
        chosen=context.pop("chosen", trial.DEFAULT_PERMISSIONS),
        amount=context.pop("amount", "") or trial_payments.DEFAULT_AMOUNT,
        **context,
    ), status


@login_required
def try_flow(client_id: str) -> ResponseReturnValue:
    """Step 1 of the walkthrough: token, consent and PAR, run by the portal; then the link on."""
    app = _visible_app(client_id)
    if request.method == "GET":
        return sandbox.preparing(app.organisation_id) or _try_page(app)
    chosen = [p for p in request.form.getlist("permissions") if p in PERMISSIONS]
    paying = request.form.get("flow") == trial_payments.PAYMENT
    form: dict[str, Any] = {
        "chosen": chosen,
        "paying": paying,
        "amount": request.form.get("amount", ""),
    }
    callback = _callback_uri(app)
    problem = None
    if app.environment != "sandbox":
        problem = "Try the flow works with sandbox apps only."
    elif callback not in app.redirect_uris:
        problem = "Register the portal's callback as a redirect URI first."
    elif not chosen and not paying:
        problem = "Choose at least one permission."
    if problem:
        return _try_page(app, 400, error=problem, **form)
    try:
        credential = trial.check_credential(
            app.token_endpoint_auth_method, request.form.get("credential", "")
        )
        amount = trial_payments.check_amount(form["amount"]) if paying else ""
    except trial.TrialError as exc:
        return _try_page(app, 400, error=exc.message, **form)
    ids: dict[str, Any] = {
        "developer_id": signed_in().id,
        "client_id": app.client_id,
        "issuer": issuer(),
        "redirect_uri": callback,
        "credential": credential,
        "transport": _trial_transport(),
    }
    # The client's requests come back to this server. Release this request's transaction first:
    # on SQLite it holds the write lock (BEGIN IMMEDIATE) that those requests need.
    get_session().rollback()
    try:
        if paying:
            pending, authorization_url = trial_payments.start(**ids, amount=amount)
        else:
            pending, authorization_url = trial.start(**ids, permissions=chosen)
    except trial.TrialError as exc:
        failed = getattr(exc, "exchanges", [])
        return _try_page(app, 400, error=str(exc), exchanges=failed, **form)
    session[TRIAL_SESSION_KEY] = trial.save(current_app.extensions["redis"], pending)
    return _try_page(app, exchanges=pending.exchanges, authorization_url=authorization_url, **form)


@login_required
def try_redirect_uri(client_id: str) -> ResponseReturnValue:
    """One click: register the portal's callback as a redirect URI of a sandbox app."""
    app = _visible_app(client_id)
    try:
        portal.add_redirect_uri(get_session(), app, _callback_uri(app))
    except PartnerError as exc:
        get_session().rollback()
        flash(exc.message, "error")
    else:
        flash("The portal's callback is now a redirect URI of this app.", "ok")
    return redirect(url_for("portal.try_flow", client_id=app.client_id), code=303)


@login_required
def try_callback(client_id: str) -> ResponseReturnValue:
    """Steps 3 and 4: the authorization response arrives; exchange the code, call the API."""
    app = _visible_app(client_id)
    key = session.pop(TRIAL_SESSION_KEY, None)
    pending = trial.take(current_app.extensions["redis"], key) if isinstance(key, str) else None
    if pending is None or (pending.client_id, pending.developer_id) != (
        app.client_id,
        signed_in().id,
    ):
        message = (
            "This walkthrough has expired (after 10 minutes), was already finished, or was "
            "started in another browser. Start it again from step 1."
        )
        if is_fake(current_app.extensions["redis"]):
            message += (
                " Without GATEWAY_REDIS_URL each worker process keeps its own walkthroughs: "
                "serve the gateway with one worker, or give it a Redis."
            )
        return render_template("portal/try_result.html", app=app, error=message), 400
    query = request.args.to_dict()
    get_session().rollback()  # as in step 1: the code exchange and API call come back here
    context: dict[str, Any] = {"app": app, "pending": pending}
    context["response"] = trial.response_parameters(query)
    try:
        if pending.flow == trial_payments.PAYMENT:
            paid = trial_payments.finish(pending, query, _trial_transport())
            context.update(payment=paid.payment, idempotency_key=paid.idempotency_key)
            context["exchanges"] = paid.exchanges
        else:
            finished = trial.finish(pending, query, _trial_transport())
            context.update(exchanges=finished.exchanges, accounts=finished.accounts)
    except trial.TrialError as exc:
        page = render_template(
            "portal/try_result.html", error=exc.message, exchanges=exc.exchanges, **context
        )
        return page, 400
    return render_template("portal/try_result.html", **context)
