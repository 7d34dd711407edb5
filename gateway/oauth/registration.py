"""Dynamic client registration: RFC 7591/7592 as the OBIE DCR v3.4 profile shapes it.

A registration request is a JWT signed with one of the software's keys; it carries the
client metadata and the software statement the directory signed. The statement vouches for the
organisation, its roles, the software's redirect URIs and keys; the request may ask for no more
than the statement allows. Errors use the DCR ``RegistrationError`` codes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.oauth.errors import OAuthError
from gateway.oauth.keys import SIGNING_ALG
from gateway.oauth.replay import Outcome, ReplayGuard
from partners import directory
from partners import services as partner_services
from partners.errors import PartnerError
from partners.models import App, Organisation

ALGORITHMS = ("PS256", "ES256")
GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")
MAX_SKEW = 60
# OBIE DCR: jti is a UUID v4.
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
JwksFetcher = Callable[[str], dict[str, Any]]


def metadata_error(description: str) -> OAuthError:
    """RFC 7591 §3.2.2 ``invalid_client_metadata``."""
    return OAuthError("invalid_client_metadata", description)


def statement_error(description: str) -> OAuthError:
    """RFC 7591 §3.2.2 ``invalid_software_statement``."""
    return OAuthError("invalid_software_statement", description)


def _decode(token: str, keys: KeySet, algorithms: tuple[str, ...], what: str) -> dict[str, Any]:
    try:
        header = extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise statement_error(f"the {what} is not a well-formed JWT") from None
    if header.get("alg") not in algorithms or "crit" in header:
        raise statement_error(f"the {what} must be signed with {' or '.join(algorithms)}")
    try:
        claims: dict[str, Any] = jwt.decode(token, keys, algorithms=[header["alg"]]).claims
    except JoseError:
        raise statement_error(f"the {what} signature does not verify") from None
    return claims


def verify_request(
    session: Session,
    body: str,
    *,
    directory_keys: KeySet,
    audiences: tuple[str, ...],
    replay: ReplayGuard,
    fetch_jwks: JwksFetcher,
) -> tuple[dict[str, Any], dict[str, Any], Organisation]:
    """Verify a registration request JWT and its software statement.

    Returns (request claims, statement claims, organisation).
    """
    try:
        unverified = json.loads(extract_compact(body.strip().encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError):
        raise metadata_error("the body must be a signed registration request JWT") from None
    if not isinstance(unverified, dict) or not isinstance(
        unverified.get("software_statement"), str
    ):
        raise statement_error("software_statement is required")
    ssa = _decode(
        unverified["software_statement"], directory_keys, ("ES256",), "software statement"
    )
    if ssa.get("iss") != directory.DIRECTORY_ISSUER:
        raise statement_error("the software statement was not issued by this directory")
    organisation = session.get(Organisation, ssa.get("org_id", ""))
    if organisation is None:
        raise statement_error("the organisation of the software statement is unknown")
    if organisation.status == "suspended":
        raise OAuthError("unapproved_software_statement", "the organisation is suspended")
    keyset = _software_keys(ssa, fetch_jwks)
    claims = _decode(body.strip(), keyset, ALGORITHMS, "registration request")
    now = time.time()
    # OBIE DCR: iss is the software id; aud identifies this bank; iat, exp and jti are required.
    if claims.get("iss") != ssa.get("software_id"):
        raise metadata_error("iss must be the software_id of the software statement")
    if claims.get("aud") not in audiences:
        raise metadata_error(f"aud must be one of {', '.join(audiences)}")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or not isinstance(iat, int):
        raise metadata_error("iat and exp are required integers")
    if exp <= now or iat > now + MAX_SKEW:
        raise metadata_error("the registration request is expired or not yet valid")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not _UUID4.match(jti):
        raise metadata_error("jti must be a UUID v4")
    outcome = replay(f"dcr:{claims['iss']}:{jti}", int(exp - now) + MAX_SKEW, iat)
    if outcome is Outcome.SEEN:
        raise metadata_error("this registration request has been used before")
    if outcome is Outcome.EARLIER:
        raise metadata_error(
            "this registration request was made before the replay store started (it "
            "restarted): make a new one"
        )
    return claims, ssa, organisation


def _software_keys(ssa: Mapping[str, Any], fetch_jwks: JwksFetcher) -> KeySet:
    """The keys the software statement names, inline or at its JWKS endpoint."""
    try:
        software_keys = ssa.get("software_jwks") or (
            fetch_jwks(ssa["software_jwks_endpoint"]) if ssa.get("software_jwks_endpoint") else None
        )
    except PartnerError as exc:
        raise statement_error(f"the software's keys cannot be fetched: {exc.message}") from None
    if not software_keys:
        raise statement_error("the software statement names no keys")
    try:
        return KeySet.import_key_set(software_keys)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError):
        raise statement_error("the software statement's keys are unusable") from None


def _metadata(claims: Mapping[str, Any], ssa: Mapping[str, Any]) -> dict[str, Any]:
    """Check the client metadata against the statement; return what the client will get."""
    uris = claims.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise OAuthError("invalid_redirect_uri", "redirect_uris must be a non-empty list")
    allowed = ssa.get("software_redirect_uris") or []
    if any(u not in allowed for u in uris):
        raise OAuthError("invalid_redirect_uri", "every redirect_uri must be in the statement")
    method = claims.get("token_endpoint_auth_method")
    # Dynamically registered clients are held to the FAPI 2.0 rule: private_key_jwt only.
    if method != "private_key_jwt":
        raise metadata_error("token_endpoint_auth_method must be private_key_jwt")
    grant_types = claims.get("grant_types") or ["authorization_code", "client_credentials"]
    if not isinstance(grant_types, list) or any(g not in GRANT_TYPES for g in grant_types):
        raise metadata_error(f"grant_types must be among {', '.join(GRANT_TYPES)}")
    if claims.get("response_types", ["code"]) != ["code"]:
        raise metadata_error("response_types must be [code]")
    for name in (
        "token_endpoint_auth_signing_alg",
        "id_token_signed_response_alg",
        "request_object_signing_alg",
    ):
        if name in claims and claims[name] not in ALGORITHMS:
            raise metadata_error(f"{name} must be PS256 or ES256")
    if claims.get("id_token_signed_response_alg", SIGNING_ALG) != SIGNING_ALG:
        # OIDC Dynamic Client Registration §2: the alg "REQUIRED for signing the ID Token issued
        # to this Client"; this server's signing key is an ES256 one.
        raise metadata_error(f"id_token_signed_response_alg must be {SIGNING_ALG}")
    if claims.get("application_type", "web") not in ("web", "native"):
        raise metadata_error("application_type must be web or native")
    return {
        "redirect_uris": uris,
        "token_endpoint_auth_method": method,
        "grant_types": grant_types,
        "response_types": ["code"],
        "scope": claims.get("scope"),
        "application_type": claims.get("application_type", "web"),
        **{name: claims.get(name, "ES256") for name in SIGNING_FIELDS},
    }


# Signing algorithms a client registers; ES256 unless it asks for PS256.
SIGNING_FIELDS = (
    "token_endpoint_auth_signing_alg",
    "id_token_signed_response_alg",
    "request_object_signing_alg",
)
STORED = ("grant_types", "application_type", *SIGNING_FIELDS)


def register(session: Session, claims: Mapping[str, Any], ssa: Mapping[str, Any],
             organisation: Organisation, statement: str) -> tuple[App, dict[str, Any]]:  # fmt: skip
    """Create the client a verified request asks for; return it and its metadata."""
    software_id = str(ssa["software_id"])
    if session.scalar(select(App.client_id).where(App.software_id == software_id)):
        raise statement_error("this software is registered already: update it with PUT")
    meta = _metadata(claims, ssa)
    try:
        app, _secret = partner_services.create_app(
            session,
            organisation,
            name=str(ssa.get("software_client_name") or software_id),
            redirect_uris=meta["redirect_uris"],
            token_endpoint_auth_method=meta["token_endpoint_auth_method"],
            jwks=ssa.get("software_jwks"),
            jwks_uri=ssa.get("software_jwks_endpoint"),
            scope=meta["scope"],
        )
    except PartnerError as exc:
        raise metadata_error(exc.message) from None
    app.software_id = software_id
    app.software_statement = statement
    app.client_metadata = {name: meta[name] for name in STORED}
    session.flush()
    return app, meta


def update(
    session: Session, app: App, claims: Mapping[str, Any], ssa: Mapping[str, Any], statement: str
) -> dict[str, Any]:
    """RFC 7592 §2.2: replace a client's metadata with what a verified request asks for."""
    if ssa.get("software_id") != app.software_id:
        raise statement_error("the software statement is for another client")
    meta = _metadata(claims, ssa)
    if meta["token_endpoint_auth_method"] != app.token_endpoint_auth_method:
        raise metadata_error("token_endpoint_auth_method cannot change; register anew")
    try:
        partner_services.set_redirect_uris(session, app, meta["redirect_uris"])
        if ssa.get("software_jwks"):
            partner_services.set_keys(session, app, jwks=ssa["software_jwks"])
        elif ssa.get("software_jwks_endpoint"):
            partner_services.set_keys(session, app, jwks_uri=ssa["software_jwks_endpoint"])
    except PartnerError as exc:
        raise metadata_error(exc.message) from None
    if meta["scope"]:
        organisation = session.get_one(Organisation, app.organisation_id)
        allowed = {partner_services.ROLE_SCOPES[r] for r in organisation.roles}
        if any(s not in allowed for s in str(meta["scope"]).split()):
            raise metadata_error("scope exceeds the organisation's roles")
        app.scope = str(meta["scope"])
    app.software_statement = statement
    app.client_metadata = {name: meta[name] for name in STORED}
    session.flush()
    return meta


def describe(app: App) -> dict[str, Any]:
    """The ``OBClientRegistration1`` response body of a client, as it was registered."""
    stored = app.client_metadata or {}
    body: dict[str, Any] = {
        "client_id": app.client_id,
        "client_id_issued_at": int(app.created_at.timestamp()),
        "redirect_uris": list(app.redirect_uris),
        "token_endpoint_auth_method": app.token_endpoint_auth_method,
        "grant_types": list(stored.get("grant_types", GRANT_TYPES)),
        "response_types": ["code"],
        "scope": app.scope,
        "application_type": stored.get("application_type", "web"),
        **{name: stored.get(name, "ES256") for name in SIGNING_FIELDS},
    }
    if app.software_id:
        body["software_id"] = app.software_id
    if app.software_statement:
        body["software_statement"] = app.software_statement
    return body
