"""``/funds-confirmation-consents``: create, read and delete funds-confirmation consents."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.cbpii import access, bp
from gateway.api.cbpii.schemas import FundsConfirmationConsentRequest, consent_body
from gateway.api.common import check_fapi_headers, envelope, parse_json, public_url
from gateway.consents import funds_confirmation as funds
from gateway.consents import services as consents
from gateway.edge.transaction import get_session
from gateway.oauth import tokens
from gateway.oauth.protector import current_token
from partners.models import App

# Confirmation of Funds API Profile, Grants Types: "CBPIIs must use a client credentials grant
# to obtain a token to make POST requests to the funds-confirmation-consent endpoint" and "to
# make GET requests"; DELETE takes the same token.
CLIENT_TOKEN = ("client_credentials",)


@bp.post("/funds-confirmation-consents")
def create_consent() -> ResponseReturnValue:
    """CreateFundsConfirmationConsents: a consent awaiting the customer (201, status AWAU)."""
    token = current_token(scope=funds.KIND, grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    data = parse_json(FundsConfirmationConsentRequest())["Data"]
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = access.core().now(tenant)
    funds.check_consent_request(data, now)
    consent = consents.create(
        session,
        client_id=token.client_id,
        tenant_id=tenant,
        kind=funds.KIND,
        data={"DebtorAccount": data["DebtorAccount"]},
        expires_at=data.get("ExpirationDateTime"),
        now=now,
    )
    # Links.Self names the consent created (what GET reads), not the collection posted to.
    created = public_url(f"{request.path}/{consent.id}")
    response = jsonify(envelope(consent_body(consent, consent.status), self_url=created))
    response.status_code = 201
    return response


@bp.get("/funds-confirmation-consents/<consent_id>")
def get_consent(consent_id: str) -> ResponseReturnValue:
    """GetFundsConfirmationConsentsConsentId: the consent, its status read on the tenant's
    clock."""
    token = current_token(scope=funds.KIND, grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    consent = access.own_consent(consent_id, token.client_id)
    status = consents.effective_status(consent, access.core().now(consent.tenant_id))
    return jsonify(envelope(consent_body(consent, status)))


@bp.delete("/funds-confirmation-consents/<consent_id>")
def delete_consent(consent_id: str) -> ResponseReturnValue:
    """DeleteFundsConfirmationConsentsConsentId: the consent is cancelled and its tokens revoked
    (Profile, Consent Revocation: the CBPII "must call the DELETE operation ... as soon as it
    practically possible" when the customer revokes the consent with it)."""
    token = current_token(scope=funds.KIND, grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    consent = access.own_consent(consent_id, token.client_id)
    session = get_session()
    now = access.core().now(consent.tenant_id)
    if consents.effective_status(consent, now) in (consents.AWAITING, consents.AUTHORISED):
        consents.cancel(session, consent, now=now)
    tokens.revoke_consent(session, token.client_id, consent.id)
    return Response(status=204)
