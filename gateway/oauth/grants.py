"""Grants of the token endpoint: authorization code with PKCE, client credentials, refresh token.

Authorization codes are single-use, live at most :data:`CODE_TTL` (FAPI 2.0 §5.3.2.1 (4): at
most 60 seconds) and are bound to the client, the redirect URI, the PKCE challenge and, when the
authorization request named one, the DPoP key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
from collections.abc import Mapping

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import current_app, g
from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core.bank import BankCore
from gateway.oauth import oidc, scopes, secrets, tokens
from gateway.oauth.dpop import Proof, require_binding
from gateway.oauth.errors import OAuthError, invalid_grant, invalid_request
from gateway.oauth.models import AuthorizationCode, PushedRequest
from partners.models import App

CODE_TTL = dt.timedelta(seconds=60)
# RFC 7636 §4.1: code_verifier = 43*128unreserved
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def consent_time(session: Session, consent: Consent) -> dt.datetime:
    """The time a consent lives by: its bank's clock (a sandbox tenant's clock may run ahead of
    the wall clock), as the account APIs read it. Codes and tokens keep the wall clock."""
    bank: BankCore = current_app.extensions["bank_core"](session)
    return bank.now(consent.tenant_id)


def _authorised_consent(session: Session, consent_id: str | None) -> Consent:
    """The consent a code or refresh token carries, while it is authorised; invalid_grant
    otherwise."""
    consent = session.get(Consent, consent_id) if consent_id else None
    if consent is None or (
        consents.effective_status(consent, consent_time(session, consent)) != consents.AUTHORISED
    ):
        raise invalid_grant("the consent is no longer authorised")
    return consent


def create_code(
    session: Session,
    pushed: PushedRequest,
    *,
    customer_id: str,
    consent_id: str,
    now: dt.datetime,
) -> str:
    """Issue an authorization code for an approved pushed request."""
    code = secrets.new(secrets.CODE_PREFIX)
    params = pushed.parameters
    session.add(
        AuthorizationCode(
            code_hash=secrets.digest(code),
            client_id=pushed.client_id,
            redirect_uri=params["redirect_uri"],
            scope=params["scope"],
            code_challenge=params["code_challenge"],
            consent_id=consent_id,
            customer_id=customer_id,
            dpop_jkt=pushed.dpop_jkt,
            nonce=params.get("nonce"),
            auth_time=now,
            expires_at=now + CODE_TTL,
        )
    )
    session.flush()
    return code


def _authenticated(
    issued: tokens.Issued,
    consent_id: str | None,
    auth_time: dt.datetime | None,
    nonce: str | None = None,
) -> tokens.Issued:
    """The tokens with what their ID token says, when their scope is an OpenID one."""
    if not scopes.wants_id_token(issued.scope) or not consent_id or auth_time is None:
        return issued
    authentication = oidc.Authentication(issued.row.client_id, consent_id, auth_time, nonce)
    return dataclasses.replace(issued, authentication=authentication)


def _bind(app: App, proof: Proof | None) -> str | None:
    """The key a new token is bound to: the proof's, which production apps must present."""
    if app.dpop_bound and proof is None:
        raise invalid_request("this client must present a DPoP proof")
    return proof.jkt if proof else None


def authorization_code(
    session: Session, app: App, form: Mapping[str, str], proof: Proof | None, now: dt.datetime
) -> tokens.Issued:
    """Exchange a code (RFC 6749 §4.1.3) with its PKCE verifier (RFC 7636 §4.5)."""
    value = form.get("code", "")
    row = session.get(AuthorizationCode, secrets.digest(value), with_for_update=True)
    if row is None or row.client_id != app.client_id:
        # RFC 6749 §4.1.3: ensure the code was issued to the authenticated client.
        raise invalid_grant("unknown authorization code for this client")
    if row.used_at is not None:
        # RFC 6749 §4.1.2: a code used twice MUST be denied, and tokens issued from it SHOULD
        # be revoked. The revocation is committed although the response is an error.
        if row.consent_id:
            tokens.revoke_consent(session, app.client_id, row.consent_id)
        g.commit_on_error = True
        raise invalid_grant("the authorization code has been used already")
    if row.expires_at <= now:
        raise invalid_grant("the authorization code has expired")
    # RFC 6749 §4.1.3: redirect_uri must be identical to the one of the authorization request.
    if form.get("redirect_uri") != row.redirect_uri:
        raise invalid_grant("redirect_uri does not match the authorization request")
    verifier = form.get("code_verifier")
    if not verifier:
        raise invalid_grant("code_verifier is required (PKCE)")
    if not _VERIFIER.match(verifier):
        raise invalid_grant("code_verifier is malformed")
    # RFC 7636 §4.6: the server compares BASE64URL(SHA256(code_verifier)) with code_challenge.
    if not hmac.compare_digest(create_s256_code_challenge(verifier), row.code_challenge):
        raise invalid_grant("code_verifier does not match the code_challenge")
    # RFC 9449 §10: a code bound to a DPoP key (dpop_jkt) is redeemed with proofs of that key.
    require_binding(proof, row.dpop_jkt)
    row.used_at = now
    consent = _authorised_consent(session, row.consent_id)
    issued = tokens.issue(
        session,
        app,
        grant_type="authorization_code",
        scope=row.scope,
        consent_id=row.consent_id,
        customer_id=row.customer_id,
        cnf_jkt=_bind(app, proof),
        auth_time=row.auth_time,
        with_refresh=True,
        refresh_until=consent.expires_at,
    )
    return _authenticated(issued, row.consent_id, row.auth_time, row.nonce)


def client_credentials(
    session: Session, app: App, form: Mapping[str, str], proof: Proof | None, now: dt.datetime
) -> tokens.Issued:
    """Issue a token for the client itself (RFC 6749 §4.4), e.g. to create consents."""
    requested = scopes.split(form.get("scope")) or scopes.split(app.scope)
    allowed = scopes.client_credentials(app.scope, app.environment)
    if scopes.SANDBOX in requested and scopes.SANDBOX not in allowed:
        raise OAuthError("invalid_scope", "the sandbox scope is for sandbox apps only")
    if any(s not in allowed for s in requested):
        raise OAuthError("invalid_scope", "the client may not request this scope")
    return tokens.issue(
        session,
        app,
        grant_type="client_credentials",
        scope=" ".join(requested),
        cnf_jkt=_bind(app, proof),
    )


def refresh_token(
    session: Session, app: App, form: Mapping[str, str], proof: Proof | None, now: dt.datetime
) -> tokens.Issued:
    """Rotate a refresh token (RFC 6749 §6) and issue a new access token for the same consent."""
    row = tokens.find_refresh(session, form.get("refresh_token", ""))
    if row is None or row.client_id != app.client_id:
        raise invalid_grant("unknown refresh token for this client")
    if not tokens.refresh_usable(row):
        if row.revoked_at is not None and row.consent_id:
            # A retired refresh token presented again: someone holds a copy. Revoke the lot.
            tokens.revoke_consent(session, app.client_id, row.consent_id)
            g.commit_on_error = True
        raise invalid_grant("the refresh token is expired or revoked")
    requested = scopes.split(form.get("scope")) or scopes.split(row.scope)
    if any(s not in scopes.split(row.scope) for s in requested):
        raise OAuthError("invalid_scope", "a refresh cannot widen the scope")
    _authorised_consent(session, row.consent_id)
    tokens.revoke(session, row)
    issued = tokens.issue(
        session,
        app,
        grant_type="refresh_token",
        scope=" ".join(requested),
        consent_id=row.consent_id,
        customer_id=row.customer_id,
        cnf_jkt=_bind(app, proof),
        auth_time=row.auth_time,
        with_refresh=True,
        refresh_until=row.refresh_expires_at,
    )
    # OIDC Core §12.2: the ID token of a refresh keeps iss, sub, aud and auth_time of the first
    # one, with a new iat, and no nonce (that belonged to the authorization request).
    return _authenticated(issued, row.consent_id, row.auth_time)


GRANTS = {
    "authorization_code": authorization_code,
    "client_credentials": client_credentials,
    "refresh_token": refresh_token,
}
