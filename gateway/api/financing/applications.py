"""``/loan-applications``: a partner applies for a priced loan on a customer's behalf.

An application is a consent of kind ``financing`` (client-credentials token, scope
``financing``): created ``AWAU`` with the loan and its quote, authorised by the customer on the
bank's consent page (the partner names it as ``openbanking_intent_id`` in its pushed
authorization request, scope ``openid financing``), where they see the loan, its APR and its
schedule and choose the account it is paid into, whose history the bank reads to decide.
"""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.common import envelope, iso, parse_json, public_url
from gateway.api.financing import bp, offers
from gateway.api.financing.schemas import ApplicationRequest, quote_body
from gateway.api.financing.views import caller, core, priced
from gateway.consents import financing
from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session


def _body(consent: Consent, status: str) -> dict[str, object]:
    body: dict[str, object] = {
        "ConsentId": consent.id,
        "Status": status,
        "CreationDateTime": iso(consent.created_at),
        "StatusUpdateDateTime": iso(consent.status_updated_at),
        "Loan": consent.data["Loan"],
        "Quote": consent.data["Quote"],
    }
    if "Decision" in consent.data:
        body["Decision"] = consent.data["Decision"]
    if consent.expires_at is not None:
        body["ExpirationDateTime"] = iso(consent.expires_at)
    return body


@bp.post("/loan-applications")
def create_application() -> ResponseReturnValue:
    """CreateLoanApplication: the loan priced now, awaiting the customer (201, ``AWAU``)."""
    client_id, owner = caller()
    data = parse_json(ApplicationRequest())["Data"]
    bank = core()
    now = bank.now(owner)
    expires = data.get("ExpirationDateTime")
    if expires is not None and expires <= now:
        raise ApiError.one(
            "U002", "ExpirationDateTime must be in the future", path="Data.ExpirationDateTime"
        )
    quote = priced(bank, owner, data["Loan"], "Data.Loan")
    loan = dict(data["Loan"])
    if "FirstRepaymentDate" in loan:
        loan["FirstRepaymentDate"] = loan["FirstRepaymentDate"].isoformat()
    consent = consents.create(
        get_session(),
        client_id=client_id,
        tenant_id=owner,
        kind=financing.KIND,
        data=financing.consent_data(loan, quote_body(quote, now)),
        expires_at=expires,
        now=now,
    )
    created = public_url(f"{request.path}/{consent.id}")
    response = jsonify(envelope(_body(consent, consent.status), self_url=created))
    response.status_code = 201
    return response


@bp.get("/loan-applications/<consent_id>")
def get_application(consent_id: str) -> ResponseReturnValue:
    """GetLoanApplication: the application, its status read on the tenant's clock."""
    client_id, owner = caller()
    consent = get_session().get(Consent, consent_id)
    if consent is None or consent.client_id != client_id or consent.kind != financing.KIND:
        # OBIE Read/Write Data API Profile v4.0: an unknown resource id is 400 U011.
        raise ApiError.one("U011", "No loan application with this id", status=400)
    bank = core()
    now = bank.now(owner)
    status = consents.effective_status(consent, now)
    return jsonify(envelope(_body(consent, status) | offers.section(consent, bank, now)))
