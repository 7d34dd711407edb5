"""``/domestic-vrp-consents`` and ``/domestic-vrps``: variable recurring payments (OBIE VRP
v4.0, ``vrp-openapi.yaml``, served under the Payment Initiation prefix as its ``servers`` has it).

The partner stages a consent with its control parameters (client-credentials token, ``AWAU``),
the customer authorises it on the consent page and picks the account to pay from (``AUTH``), and
the partner then makes any number of payments with the token of that authorisation, each within
the limits (:mod:`gateway.payments.vrp`). Reading, updating and revoking the consent and reading
payments take a client-credentials token; the consent's funds confirmation and the payments take
the authorised token (VRP profile v4.0, "Grant types"). Every request body is checked against the
VRP reference file, every POST carries an ``x-idempotency-key``, every body is signed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api import reference
from gateway.api.common import check_fapi_headers, envelope, iso, public_url
from gateway.api.idempotency import idempotent
from gateway.api.pisp import VRP_REFERENCE_FILE, bp
from gateway.api.pisp import common as views
from gateway.api.pisp.vrp_bodies import consent_data, details_data, payment_data
from gateway.consents.models import Consent
from gateway.core.accounts import Account
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session
from gateway.oauth import tokens
from gateway.oauth.protector import current_token
from gateway.payments import domestic, vrp
from gateway.payments import vrp_consents as vrp_consent
from gateway.payments.models import VrpPayment
from partners.models import App

REFERENCE_FILE = VRP_REFERENCE_FILE
CONSENTS = "/domestic-vrp-consents"
PAYMENTS = "/domestic-vrps"
CONSENT_REQUEST = "OBDomesticVRPConsentRequest"


def _debtor(consent: Consent) -> Account | None:
    if not consent.account_ids:
        return None
    return views.bank().account(consent.tenant_id, consent.account_ids[0])


def _consent_response(consent: Consent, now: dt.datetime, status: int = 200) -> Response:
    data = consent_data(consent, now, _debtor(consent))
    self_url = public_url(f"{bp.url_prefix}{CONSENTS}/{consent.id}")
    response = jsonify(envelope(data, self_url=self_url) | {"Risk": consent.data["Risk"]})
    response.status_code = status
    return response


def _client_consent(consent_id: str) -> tuple[Consent, dt.datetime]:
    """The partner's VRP consent (client-credentials token) and the time on its tenant's clock."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    consent = views.own_consent(consent_id, token.client_id, vrp_consent.CONSENT_FAMILY)
    return consent, views.bank().now(consent.tenant_id)


@bp.post(CONSENTS)
@idempotent("domestic-vrp-consents")
def create_vrp_consent() -> ResponseReturnValue:
    """domesticVrpConsentsPost: the consent with its control parameters, awaiting the customer
    (201, ``AWAU``)."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    sent = views.body(CONSENT_REQUEST, REFERENCE_FILE)
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = views.bank().now(tenant)
    consent = vrp_consent.create_consent(
        session, client_id=token.client_id, tenant_id=tenant, body=sent, now=now
    )
    return _consent_response(consent, now, 201)


@bp.get(f"{CONSENTS}/<consent_id>")
def get_vrp_consent(consent_id: str) -> ResponseReturnValue:
    """domesticVrpConsentsGet: the consent, its status on the tenant's clock, and the debtor
    account once authorised."""
    consent, now = _client_consent(consent_id)
    return _consent_response(consent, now)


@bp.put(f"{CONSENTS}/<consent_id>")
@idempotent("domestic-vrp-consents")
def put_vrp_consent(consent_id: str) -> ResponseReturnValue:
    """domesticVrpConsentsPut: a version migration with a full consent body (see
    :mod:`gateway.payments.vrp_consents` for what may change)."""
    consent, now = _client_consent(consent_id)
    sent = views.body(CONSENT_REQUEST, REFERENCE_FILE)
    vrp_consent.update_consent(get_session(), consent, sent, now)
    return _consent_response(consent, now)


@bp.patch(f"{CONSENTS}/<consent_id>")
@idempotent("domestic-vrp-consents")
def patch_vrp_consent(consent_id: str) -> ResponseReturnValue:
    """domesticVrpConsentsPatch: a version migration as a JSON Patch (RFC 6902,
    ``application/json-patch+json``) of the consent's request body."""
    consent, now = _client_consent(consent_id)
    if request.mimetype != "application/json-patch+json":
        raise ApiError.one("U006", "A patch is application/json-patch+json", path="Content-Type",
                           status=415)  # fmt: skip
    operations = request.get_json(silent=True)
    if operations is None:
        raise ApiError.one("U010", "The body is not valid JSON")
    changed = vrp_consent.patched(vrp_consent.request_of(consent), operations)
    sent = reference.check(changed, REFERENCE_FILE, CONSENT_REQUEST)
    vrp_consent.update_consent(get_session(), consent, sent, now)
    return _consent_response(consent, now)


@bp.delete(f"{CONSENTS}/<consent_id>")
def delete_vrp_consent(consent_id: str) -> ResponseReturnValue:
    """domesticVrpConsentsDelete: the consent revoked (``CANC``) and its tokens with it; 204
    with no body."""
    consent, now = _client_consent(consent_id)
    session = get_session()
    vrp_consent.revoke(session, consent, now)
    tokens.revoke_consent(session, consent.client_id, consent.id)
    return Response(status=204)


def _authorised_consent(consent_id: str) -> tuple[Consent, dt.datetime]:
    """The consent of the customer's token, locked and authorised (``U009`` otherwise)."""
    token = current_token(scope="payments")
    check_fapi_headers()
    if token.consent_id != consent_id:
        raise ApiError.one("U008", "The token was issued for another consent",
                           path="Data.ConsentId")  # fmt: skip
    now = views.bank().now(token.consent.tenant_id if token.consent else "")
    consent = domestic.usable_consent(
        get_session(), consent_id, token.client_id, now, vrp_consent.CONSENT_FAMILY
    )
    return consent, now


@bp.post(f"{CONSENTS}/<consent_id>/funds-confirmation")
@idempotent("domestic-vrp-consents/funds-confirmation")
def vrp_funds_confirmation(consent_id: str) -> ResponseReturnValue:
    """domesticVrpConsentsFundsConfirmation: whether the account the customer picked covers an
    amount now (201; nothing is reserved, and the answer is not a payment)."""
    sent = views.body("OBVRPFundsConfirmationRequest", REFERENCE_FILE)["Data"]
    if sent["ConsentId"] != consent_id:
        raise ApiError.one("U008", "Data.ConsentId is not the consent of the path",
                           path="Data.ConsentId")  # fmt: skip
    consent, now = _authorised_consent(consent_id)
    amount = domestic.check_amount(sent["InstructedAmount"], "Data.InstructedAmount")
    kept = (consent.data["Initiation"].get("RemittanceInformation") or {}).get("Reference")
    # OBVRPFundsConfirmationRequest.Data.Reference: "This must be the same value as the
    # Reference field in the consent."
    if "Reference" in sent and kept is not None and sent["Reference"] != kept:
        raise ApiError.one("U008", "Data.Reference is not the consent's reference",
                           path="Data.Reference")  # fmt: skip
    available = views.bank().funds_available(consent.tenant_id, consent.account_ids[0], amount)
    data: dict[str, Any] = {
        "FundsConfirmationId": "vfc-" + secrets.token_hex(16),
        "ConsentId": consent.id,
        "CreationDateTime": iso(now),
        "FundsAvailableResult": {
            "FundsAvailableDateTime": iso(now),
            "FundsAvailable": "Available" if available else "NotAvailable",
        },
        "InstructedAmount": sent["InstructedAmount"],
    }
    if "Reference" in sent:
        data["Reference"] = sent["Reference"]
    response = jsonify({"Data": data})
    response.status_code = 201
    return response


@bp.post(PAYMENTS)
@idempotent("domestic-vrps")
def create_vrp() -> ResponseReturnValue:
    """domesticVrpPost: a payment under the authorised consent, within its control parameters
    (201; ``RJCT`` with ``AM04`` when the account cannot pay it)."""
    current_token(scope="payments")  # the customer's token, before the body is read
    sent = views.body("OBDomesticVRPRequest", REFERENCE_FILE)
    consent, now = _authorised_consent(sent["Data"]["ConsentId"])
    payment = vrp.submit(get_session(), views.bank(), consent, sent, now)
    return _payment_response(payment, consent, now, 201)


def _payment_response(
    payment: VrpPayment, consent: Consent, now: dt.datetime, status: int = 200
) -> Response:
    debtor = views.bank().account(payment.tenant_id, payment.debtor_account_id)
    refund = (consent.data or {}).get("ReadRefundAccount") == "Yes"
    data = payment_data(payment, vrp.status(payment, now), debtor, refund)
    self_url = public_url(f"{bp.url_prefix}{PAYMENTS}/{payment.id}")
    response = jsonify(envelope(data, self_url=self_url) | {"Risk": payment.request["Risk"]})
    response.status_code = status
    return response


def _payment(payment_id: str) -> tuple[VrpPayment, dt.datetime]:
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    payment = vrp.own(get_session(), payment_id, token.client_id)
    return payment, views.bank().now(payment.tenant_id)


@bp.get(f"{PAYMENTS}/<domestic_VRP_id>")
def get_vrp(domestic_VRP_id: str) -> ResponseReturnValue:
    """domesticVrpGet: the payment and its status now."""
    payment, now = _payment(domestic_VRP_id)
    consent = get_session().get_one(Consent, payment.consent_id)
    return _payment_response(payment, consent, now)


@bp.get(f"{PAYMENTS}/<domestic_VRP_id>/payment-details")
def get_vrp_details(domestic_VRP_id: str) -> ResponseReturnValue:
    """domesticVrpPaymentDetailsGet: each status the payment has had."""
    payment, now = _payment(domestic_VRP_id)
    return jsonify(envelope(details_data(payment, vrp.status(payment, now))))
