"""The authorization endpoint and the sandbox bank's login and consent pages.

The browser arrives with ``client_id`` and a ``request_uri`` from PAR (FAPI 2.0 §5.3.2.2 (1):
the pushed request is the only way in). The customer signs in with their sandbox credentials,
sees who asks for what, picks accounts and approves or denies; the answer goes back to the
client's redirect URI with a 303 (FAPI 2.0 §5.3.2.2 (11)) carrying ``iss`` (RFC 9207), ``state``
and either ``code`` or ``error``.

A ``request_uri`` is redeemed once (RFC 9126 §4): the browser session that redeemed it holds the
pending authorization, so a reload of ``/authorize`` (or the back button) in that session resumes
it where it stood, while any other session is refused. Once the customer has answered, coming
back to these pages in the same session returns them to the client with an error response
(RFC 6749 §4.1.2.1, with ``iss``) instead of a dead end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from gateway.consents import financing as applications
from gateway.consents import funds_confirmation as funds
from gateway.consents import services as consents
from gateway.consents import wording
from gateway.consents.models import Consent
from gateway.core.accounts import Account
from gateway.core.bank import BankCore
from gateway.edge import sessions
from gateway.edge.errors import EdgeError
from gateway.edge.transaction import get_session
from gateway.edge.urls import issuer
from gateway.oauth import grants, par, scopes
from gateway.oauth.errors import OAuthError
from gateway.oauth.models import PushedRequest
from gateway.payments import cutoff, multi_authorisation
from gateway.payments import wording as payment_wording
from partners.models import App, Organisation

bp = Blueprint("authorize", __name__)
SESSION_KEY = "authorization"
# The request_uri of the authorization this session answered last.
ANSWERED_KEY = "authorization_answered"
ANSWERED = "the customer has answered this authorization request already"
EXPIRED = "This sign-in has expired. Start again from the app."
NOT_THEIR_ACCOUNT = "The account the consent names is not one of the customer's accounts."


@bp.before_request
def _csrf() -> None:
    """Every form post of these pages carries the session's CSRF token."""
    if request.method == "POST":
        current_app.extensions["csrf"].protect()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _error_page(message: str, status: int = 400) -> ResponseReturnValue:
    """An error we cannot send to the client: its redirect URI is not (yet) trusted."""
    return render_template("oauth/error.html", message=message), status


@bp.errorhandler(EdgeError)
def _edge_error(exc: EdgeError) -> ResponseReturnValue:
    """What the edge refuses, or a store that cannot serve, as a page: the customer's browser
    is here, and a client id or request it cannot trust is no place to redirect to (RFC 6749
    §4.1.2.1)."""
    return render_template("oauth/error.html", message=exc.message), exc.status, exc.headers


def _respond(pushed: PushedRequest, **params: str) -> ResponseReturnValue:
    """Send the authorization response to the client with a 303 (FAPI 2.0 §5.3.2.2 (11))."""
    state = pushed.parameters.get("state")
    if state is not None:
        params["state"] = state
    # RFC 9207 §2: iss in every authorization response, error responses included.
    params["iss"] = issuer()
    parts = urlsplit(pushed.parameters["redirect_uri"])
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    session.pop(SESSION_KEY, None)
    session[ANSWERED_KEY] = pushed.request_uri
    return redirect(urlunsplit(parts._replace(query=query)), code=303)


def _gone() -> ResponseReturnValue:
    """This session holds no authorization: it was answered (back to the client), or it
    expired."""
    answered = _answered_already()
    return answered if answered is not None else _error_page(EXPIRED)


def _answered_already(request_uri: str | None = None) -> ResponseReturnValue | None:
    """Back to the client with an error when this session has answered the authorization
    (``request_uri``, or the last one it answered): the back button after an answer lands here."""
    answered = session.get(ANSWERED_KEY)
    if not answered or (request_uri is not None and request_uri != answered):
        return None
    pushed = get_session().get(PushedRequest, answered)
    if pushed is None:
        return None
    return _respond(pushed, error="invalid_request", error_description=ANSWERED)


def _core() -> BankCore:
    core: BankCore = current_app.extensions["bank_core"](get_session())
    return core


def _pending() -> tuple[PushedRequest, App, Consent] | None:
    state = session.get(SESSION_KEY)
    if not state:
        return None
    db = get_session()
    pushed = db.get(PushedRequest, state["request_uri"])
    if pushed is None:
        return None
    app = db.get(App, pushed.client_id)
    consent = db.get(Consent, pushed.parameters.get("openbanking_intent_id", ""))
    if app is None or consent is None:
        return None
    return pushed, app, consent


def _consent_problem(
    app: App,
    consent: Consent | None,
    scope: str,
    customer_id: str | None = None,
    now: dt.datetime | None = None,
) -> str | None:
    """Why this consent cannot be authorised at ``now`` (its bank's time, read when not given) by
    ``customer_id`` (once signed in), if so."""
    if consent is None or consent.client_id != app.client_id:
        return "the consent does not exist for this client"
    if consent.kind not in scopes.split(scope):
        return f"the scope does not cover a {consent.kind} consent"
    now = now or grants.consent_time(get_session(), consent)
    status = consents.effective_status(consent, now)
    if status != consents.AWAITING and not consents.reauthenticable(consent, now):
        return f"the consent is {status}, not awaiting authorisation"
    closed = cutoff.authorisation_closed(consent.data or {}, now)
    if closed is not None and status == consents.AWAITING:
        return f"its authorisation had to be completed by {closed:%d %B %Y %H:%M} UTC"
    if customer_id and _given_by_another(consent, customer_id):
        # Another customer authorised it meanwhile (two sign-ins on one consent).
        return "the consent was authorised by another customer"
    return None


def _renewing(consent: Consent) -> bool:
    """Whether this authorization re-authenticates an authorised consent."""
    return consent.status == consents.AUTHORISED


def _given_by_another(consent: Consent, customer_id: str) -> bool:
    """Whether the consent is authorised already, by another customer (who alone may renew it)."""
    return _renewing(consent) and consent.customer_id != customer_id


@bp.get("/authorize")
def authorize() -> ResponseReturnValue:
    """Start an authorization from a pushed request, or resume the one this session holds."""
    client_id = request.args.get("client_id", "")
    request_uri = request.args.get("request_uri", "")
    if not request_uri:
        # FAPI 2.0 §5.3.2.2 (1): authorization requests are accepted only through PAR.
        return _error_page("This server accepts authorization requests only through PAR.")
    db = get_session()
    app = db.get(App, client_id)
    if app is None or app.status != "active":
        return _error_page("Unknown or inactive client.")
    pending = _pending()
    if pending is not None and (pending[0].request_uri, pending[0].client_id) == (
        request_uri,
        client_id,
    ):
        # A reload or the back button: this session redeemed the request_uri, carry on.
        return _resume(*pending)
    answered = _answered_already(request_uri)
    if answered is not None:
        return answered
    try:
        # RFC 9126 §4: one-time use; another session presenting it again is refused here.
        pushed = par.redeem(db, client_id, request_uri, _now())
    except OAuthError as exc:
        return _error_page(exc.description)
    consent = db.get(Consent, pushed.parameters.get("openbanking_intent_id", ""))
    problem = _consent_problem(app, consent, pushed.parameters["scope"])
    if problem:
        return _respond(pushed, error="invalid_request", error_description=problem)
    session[SESSION_KEY] = {"request_uri": request_uri, "customer_id": None}
    return _login_page(app, consent)


def _resume(pushed: PushedRequest, app: App, consent: Consent) -> ResponseReturnValue:
    """The page this session's authorization stands at: the consent page once the customer has
    signed in, the sign-in page before."""
    customer_id = session[SESSION_KEY].get("customer_id")
    problem = _consent_problem(app, consent, pushed.parameters["scope"], customer_id)
    if problem:
        return _respond(pushed, error="invalid_request", error_description=problem)
    if customer_id:
        return redirect(url_for("authorize.consent_page"), code=303)
    return _login_page(app, consent)


def _login_page(app: App, consent: Consent | None, error: str | None = None) -> ResponseReturnValue:
    org = get_session().get(Organisation, app.organisation_id)
    return render_template(
        "oauth/login.html", app=app, organisation=org, error=error
    ), 401 if error else 200


@bp.post("/authorize/login")
def login() -> ResponseReturnValue:
    """Check the sandbox customer's credentials."""
    pending = _pending()
    if pending is None:
        return _gone()
    _pushed, app, consent = pending
    customer = _core().authenticate(
        consent.tenant_id, request.form.get("username", ""), request.form.get("password", "")
    )
    if customer is None:
        return _login_page(app, consent, "The username or password is not right.")
    if _given_by_another(consent, customer.id):
        # Only the customer who gave a consent can renew it.
        return _login_page(app, consent, "Sign in as the customer who gave this permission.")
    session[SESSION_KEY] = {
        **session[SESSION_KEY],
        "customer_id": customer.id,
        "customer_name": customer.name,
        "customer_kind": customer.kind,
        "customer_username": customer.username,
    }
    sessions.regenerate()  # signed in as the customer: a new session id (fixation)
    return redirect(url_for("authorize.consent_page"), code=303)


@bp.get("/authorize/consent")
def consent_page() -> ResponseReturnValue:
    """Show what the partner asks for and the customer's accounts."""
    pending = _pending()
    customer_id = (session.get(SESSION_KEY) or {}).get("customer_id")
    if pending is None or not customer_id:
        return _gone()
    pushed, app, consent = pending
    problem = _consent_problem(app, consent, pushed.parameters["scope"], customer_id)
    if problem:
        return _respond(pushed, error="invalid_request", error_description=problem)
    if consent.kind == funds.KIND:
        return render_template("oauth/consent_funds.html", **_funds_context(app, consent))
    return render_template("oauth/consent.html", **_consent_context(app, consent, customer_id))


def _choosable(consent: Consent, customer_id: str) -> list[Account]:
    """The customer's accounts this consent may be authorised on: all of them, or for a payment
    those that can make it (its currency, the debtor account the partner named)."""
    accounts = list(_core().accounts(consent.tenant_id, customer_id))
    if consent.kind == "payments":
        return payment_wording.payable_from(accounts, consent.data or {})
    return accounts


def _consent_context(app: App, consent: Consent, customer_id: str) -> dict[str, Any]:
    org = get_session().get(Organisation, app.organisation_id)
    accounts = _choosable(consent, customer_id)
    # An account-access consent is described by what it lets the app see, in plain words; the
    # other kinds by what their scope lets a partner do (``purpose``).
    sees: list[str] = []
    window = None
    if consent.kind == "accounts":
        sees = wording.lines(consent.permissions)
        window = wording.transaction_window(consent.permissions, consent.data or {})
    payment = (
        payment_wording.lines(consent.data, consent.created_at)
        if consent.kind == "payments"
        else None
    )
    loan = consent.kind == applications.KIND
    return {
        "app": app,
        "organisation": org,
        "consent": consent,
        "loan": applications.lines(consent.data) if loan else None,
        "schedule": applications.schedule(consent.data) if loan else None,
        "purpose": scopes.SCOPES.get(consent.kind, consent.kind),
        "permissions": consent.permissions,
        "sees": sees,
        "window": window,
        "until": wording.plain_date(consent.expires_at) if consent.expires_at else None,
        "accounts": [(a, wording.account_kind(a.account_subtype)) for a in accounts],
        "multiple": consent.kind == "accounts",
        "customer_name": (session.get(SESSION_KEY) or {}).get("customer_name"),
        "renewing": _renewing(consent),
        "chosen": set(consent.account_ids or ()),
        "payment": payment,
        "currency": payment_wording.currency(consent.data) if payment else None,
        "recurring": "ControlParameters" in (consent.data or {}),
    }


def _funds_context(app: App, consent: Consent) -> dict[str, Any]:
    """What the page says of a funds-confirmation consent: who asks, about which account (the one
    it names, when it is the customer's), until when. There is nothing to choose: the customer
    agrees to it "in its entirety (but not selectively)" (Confirmation of Funds API Profile,
    Consent Authorisation)."""
    debtor = consent.data["DebtorAccount"]
    account = _funds_account(consent)
    return {
        "app": app,
        "organisation": get_session().get(Organisation, app.organisation_id),
        "account": account,
        "kind": wording.account_kind(account.account_subtype) if account else None,
        "ending": funds.normalised(debtor["Identification"])[-4:],
        "until": wording.plain_date(consent.expires_at) if consent.expires_at else None,
        "customer_name": (session.get(SESSION_KEY) or {}).get("customer_name"),
        "renewing": _renewing(consent),
    }


def _funds_account(consent: Consent) -> Account | None:
    """The signed-in customer's account that a funds-confirmation consent names, if any."""
    customer_id = session[SESSION_KEY]["customer_id"]
    accounts = _core().accounts(consent.tenant_id, customer_id)
    return funds.owned_account(accounts, consent.data["DebtorAccount"])


@bp.post("/authorize/consent")
def decide() -> ResponseReturnValue:
    """Record the customer's decision and answer the client."""
    pending = _pending()
    customer_id = (session.get(SESSION_KEY) or {}).get("customer_id")
    if pending is None or not customer_id:
        return _gone()
    pushed, app, consent = pending
    db, now = get_session(), _now()
    # The consent's status changes on its bank's clock; the code's lifetime is wall-clock time.
    bank_now = grants.consent_time(db, consent)
    problem = _consent_problem(app, consent, pushed.parameters["scope"], customer_id, bank_now)
    if problem:
        return _respond(pushed, error="invalid_request", error_description=problem)
    picked = _picked(consent, customer_id)
    if consent.kind == funds.KIND and not picked:
        # The account is not this customer's: they cannot give the consent, whatever they press
        # (as OBIE has it for a payment consent whose DebtorAccount is invalid for the PSU:
        # rejected after the PSU authenticates).
        return _decline(pushed, consent, bank_now, NOT_THEIR_ACCOUNT)
    if request.form.get("decision") != "approve":
        return _decline(pushed, consent, bank_now, "The customer said no.")
    if not picked:
        context = _consent_context(app, consent, customer_id)
        error = "Choose at least one account." if context["multiple"] else "Choose an account."
        return render_template("oauth/consent.html", error=error, **context), 400
    if consent.kind == "payments":
        state = session[SESSION_KEY]
        refused = multi_authorisation.on_consent_approval(
            consent, state.get("customer_kind", ""), state.get("customer_username", ""), bank_now
        )
        if refused:
            return _decline(pushed, consent, bank_now, refused)
    consents.authorise(db, consent, customer_id=customer_id, account_ids=picked, now=bank_now)
    if consent.kind == applications.KIND:
        # Decided in this unit of work: a bank that cannot decide fails the authorisation.
        applications.decide(_core(), consent, session[SESSION_KEY]["customer_kind"], bank_now)
    code = grants.create_code(db, pushed, customer_id=customer_id, consent_id=consent.id, now=now)
    return _respond(pushed, code=code)


def _picked(consent: Consent, customer_id: str) -> list[str]:
    """The accounts the consent is given for: the one a funds-confirmation consent names, or
    those of the customer's that they ticked (one for a payment); none when that is not so."""
    if consent.kind == funds.KIND:
        named = _funds_account(consent)
        return [named.id] if named is not None else []
    owned = {a.id for a in _choosable(consent, customer_id)}
    picked = [a for a in request.form.getlist("account") if a in owned]
    return picked if consent.kind == "accounts" or len(picked) == 1 else []


def _decline(
    pushed: PushedRequest, consent: Consent, bank_now: dt.datetime, why: str
) -> ResponseReturnValue:
    """Answer the client ``access_denied``: declining to renew leaves the consent as it was;
    declining a new one rejects it."""
    if not _renewing(consent):
        consents.reject(get_session(), consent, now=bank_now)
    return _respond(pushed, error="access_denied", error_description=why)
