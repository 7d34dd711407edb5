"""``/account-access-consents``: create, read and delete account-access consents."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access, bp
from gateway.api.aisp.schemas import ConsentRequest, consent_body
from gateway.api.common import check_fapi_headers, envelope, iso, parse_json, public_url
from gateway.consents import services as consents
from gateway.consents.account_access import check_request
from gateway.edge.transaction import get_session
from gateway.oauth import tokens
from gateway.oauth.protector import current_token
from partners.models import App

CLIENT_TOKEN = ("client_credentials",)


@bp.post("/account-access-consents")
def create_consent() -> ResponseReturnValue:
    """CreateAccountAccessConsents: a consent awaiting the customer (201, status AWAU)."""
    token = current_token(scope="accounts", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    data = parse_json(ConsentRequest())["Data"]
    session = get_session()
    tenant = session.get_one(App, token.client_id).organisation_id
    now = access.core().now(tenant)
    check_request(data, now)
    window = {
        name: iso(data[name])
        for name in ("TransactionFromDateTime", "TransactionToDateTime")
        if name in data
    }
    consent = consents.create(
        session,
        client_id=token.client_id,
        tenant_id=tenant,
        kind="accounts",
        permissions=data["Permissions"],
        data=window,
        expires_at=data.get("ExpirationDateTime"),
        now=now,
    )
    # Links.Self names the consent created (what GET reads), not the collection posted to.
    created = public_url(f"{request.path}/{consent.id}")
    response = jsonify(
        envelope(consent_body(consent, consent.status), self_url=created) | {"Risk": {}}
    )
    response.status_code = 201
    return response


@bp.get("/account-access-consents/<consent_id>")
def get_consent(consent_id: str) -> ResponseReturnValue:
    """GetAccountAccessConsentsConsentId: the consent, its status read on the tenant's clock."""
    token = current_token(scope="accounts", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    consent = access.own_consent(consent_id, token.client_id)
    status = consents.effective_status(consent, access.core().now(consent.tenant_id))
    return jsonify(envelope(consent_body(consent, status)) | {"Risk": {}})


@bp.delete("/account-access-consents/<consent_id>")
def delete_consent(consent_id: str) -> ResponseReturnValue:
    """DeleteAccountAccessConsentsConsentId: the consent is cancelled and its tokens revoked."""
    token = current_token(scope="accounts", grant_types=CLIENT_TOKEN)
    check_fapi_headers()
    consent = access.own_consent(consent_id, token.client_id)
    session = get_session()
    now = access.core().now(consent.tenant_id)
    if consents.effective_status(consent, now) in (consents.AWAITING, consents.AUTHORISED):
        consents.cancel(session, consent, now=now)
    tokens.revoke_consent(session, token.client_id, consent.id)
    return Response(status=204)
