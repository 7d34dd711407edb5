"""The sandbox bank's approval page of a payment that awaits another authoriser (OBIE v4.0
multiple authorisation, :mod:`gateway.payments.multi_authorisation`).

A business's payment needs two authorisers. The first approves on the consent page; the partner
submits the order, which is ``PDNG`` with ``MultiAuthorisation`` ``AWAF``. The other authoriser
opens ``/authorize/approvals/<payment id>`` (the partner shows them the link, as a bank would
notify them), signs in with their own sandbox login and approves or refuses: the bank then
executes the payment, or rejects it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.edge.transaction import get_session
from gateway.payments import domestic, multi_authorisation
from gateway.payments import wording as payment_wording
from gateway.payments.models import PaymentOrder

bp = Blueprint("approvals", __name__)
UNKNOWN = "There is no payment awaiting an authoriser at this address."


@bp.before_request
def _csrf() -> None:
    """Every form post of this page carries the session's CSRF token."""
    if request.method == "POST":
        current_app.extensions["csrf"].protect()


def _core() -> BankCore:
    core: BankCore = current_app.extensions["bank_core"](get_session())
    return core


def _found(payment_id: str, lock: bool = False) -> tuple[PaymentOrder, Consent] | None:
    """The order awaiting (or once awaiting) authorisers, and its consent; ``lock``: the order's
    row locked for this unit of work (two answers at once take turns)."""
    db = get_session()
    query = select(PaymentOrder).where(PaymentOrder.id == payment_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = db.scalar(query)
    if order is None or order.multi_authorisation is None:
        return None
    consent = db.get(Consent, order.consent_id)
    return None if consent is None else (order, consent)


def _page(
    order: PaymentOrder, consent: Consent, *, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    flow = order.multi_authorisation or {}
    context = {
        "order": order,
        "payment": payment_wording.lines(consent.data),
        "received": len(flow.get("Authorisers", ())),
        "required": flow.get("Required"),
        "error": error,
    }
    return render_template("oauth/approval.html", **context), status


@bp.get("/authorize/approvals/<payment_id>")
def approval_page(payment_id: str) -> ResponseReturnValue:
    """The payment, and a sign-in form for the authoriser who answers it."""
    found = _found(payment_id)
    if found is None:
        return render_template("oauth/error.html", message=UNKNOWN), 404
    return _page(*found)


@bp.post("/authorize/approvals/<payment_id>")
def answer(payment_id: str) -> ResponseReturnValue:
    """Check the authoriser's credentials and record their answer; the last approval executes
    the payment, a refusal rejects it."""
    found = _found(payment_id, lock=True)
    if found is None:
        return render_template("oauth/error.html", message=UNKNOWN), 404
    order, consent = found
    core = _core()
    customer = core.authenticate(
        order.tenant_id, request.form.get("username", ""), request.form.get("password", "")
    )
    if customer is None:
        return _page(order, consent, error="The username or password is not right.", status=401)
    now = core.now(order.tenant_id)
    problem = multi_authorisation.approvable(
        order, consent.customer_id, customer.id, customer.username, now
    )
    if problem:
        return _page(order, consent, error=problem, status=400)
    approved = request.form.get("decision") == "approve"
    if multi_authorisation.answer(order, customer.username, approved, now):
        domestic.execute(core, consent, order, now)
    get_session().flush()
    return render_template("oauth/approved.html", approved=approved, order=order)
