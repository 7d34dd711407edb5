"""What the payment initiation views share: the bank, request bodies checked against the
reference, the created-resource response, the partner's own consents and orders, and the steps
every family takes to stage a consent, read it and make its order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.api import reference
from gateway.api.common import check_fapi_headers, envelope, public_url
from gateway.api.pisp import REFERENCE_FILE, bp
from gateway.api.pisp.bodies import consent_data
from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.core.payments import PaymentsCore
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader, get_session
from gateway.oauth.protector import current_token
from gateway.payments import domestic, orders
from gateway.payments.models import PaymentOrder
from partners.models import App

CLIENT_TOKEN = ("client_credentials",)


def bank() -> BankCore:
    bank: BankCore = current_app.extensions["bank_core"](get_session(), get_reader())
    return bank


def body(component: str, reference_file: str = REFERENCE_FILE) -> dict[str, Any]:
    """The request's JSON body, valid against ``component`` of the reference ``reference_file``
    (the Payment Initiation file unless named; the VRP operations name theirs)."""
    if not request.is_json:
        raise ApiError.one("U006", "The body must be application/json", path="Content-Type",
                           status=415)  # fmt: skip
    sent = request.get_json(silent=True)
    if sent is None:
        raise ApiError.one("U010", "The body is not valid JSON")
    return reference.check(sent, reference_file, component)


def created(
    data: dict[str, Any], location: str, risk: dict[str, Any] | None = None
) -> ResponseReturnValue:
    body = envelope(data, self_url=public_url(f"{bp.url_prefix}{location}"))
    response = jsonify(body if risk is None else body | {"Risk": risk})
    response.status_code = 201
    return response


def own_consent(consent_id: str, client_id: str, family: str) -> Consent:
    """The partner's payment consent of ``family``; 400 U011 otherwise."""
    consent = get_session().get(Consent, consent_id)
    if (
        consent is None
        or consent.client_id != client_id
        or (consent.data or {}).get("family") != family
    ):
        # OBIE profile v4.0: an unknown resource id is a 400 (U011), not a 404.
        raise ApiError.one("U011", f"No {family[:-1]} with this id", status=400)
    return consent


class Stage(Protocol):
    """A family's consent creation (``gateway.payments.domestic.create_consent`` and kin)."""

    def __call__(
        self, session: Session, *, client_id: str, tenant_id: str, body: dict[str, Any],
        now: dt.datetime,
    ) -> Consent: ...  # fmt: skip


Submit = Callable[[Session, PaymentsCore, Consent, dict[str, Any], dt.datetime], PaymentOrder]


def stage_consent(schema: str, stage: Stage, collection: str) -> ResponseReturnValue:
    """Create a consent of a family from a body valid against ``schema`` (client-credentials
    token): 201 with the consent awaiting the customer."""
    token = current_token(scope="payments", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    sent = body(schema)
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = bank().now(tenant)
    consent = stage(session, client_id=token.client_id, tenant_id=tenant, body=sent, now=now)
    return created(consent_data(consent, now), f"{collection}/{consent.id}", sent["Risk"])


def read_consent(consent_id: str, family: str) -> ResponseReturnValue:
    """A consent of ``family`` of this client (client-credentials token), its status now."""
    token = current_token(scope="payments", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    consent = own_consent(consent_id, token.client_id, family)
    now = bank().now(consent.tenant_id)
    return jsonify(envelope(consent_data(consent, now)) | {"Risk": consent.data["Risk"]})


def submit_order(schema: str, family: str, submit: Submit) -> tuple[PaymentOrder, dt.datetime]:
    """Make the order the customer approved under the consent of the customer's token."""
    token = current_token(scope="payments")
    check_fapi_headers()
    sent = body(schema)
    consent_id = sent["Data"]["ConsentId"]
    if token.consent_id != consent_id:
        raise ApiError.one("U008", "The token was issued for another consent",
                           path="Data.ConsentId")  # fmt: skip
    session, core = get_session(), bank()
    now = core.now(token.consent.tenant_id if token.consent else "")
    consent = domestic.usable_consent(session, consent_id, token.client_id, now, family)
    return submit(session, core, consent, sent, now), now


def own_order(payment_id: str, family: str) -> PaymentOrder:
    """A payment order of ``family`` of this client (client-credentials token)."""
    token = current_token(scope="payments", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    return orders.own(get_session(), payment_id, token.client_id, family)
