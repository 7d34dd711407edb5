"""The sandbox trust directory: software statements (SSAs) for registered organisations.

In production the UK Open Banking Directory vouches for a partner's software; in the sandbox the
bank plays that part. A software statement is a JWT signed by the directory's key (published in
the gateway's JWKS) naming the organisation, its roles and the software's redirect URIs and
keys. A partner puts it in a dynamic client registration request (``POST /register``).
"""

from __future__ import annotations

import secrets
import string
import time
import uuid
from collections.abc import Sequence
from typing import Any

from joserfc import jwt
from joserfc.jwk import Key

from partners.errors import PartnerError
from partners.jwks import check_jwks, check_jwks_uri
from partners.models import Organisation
from partners.redirects import check_redirect_uris

DIRECTORY_ISSUER = "OpenBanking Sandbox Directory"
# The bank's identifier in the directory: the audience of registration requests (OBIE DCR:
# ^[0-9a-zA-Z]{1,18}$).
ASPSP_ID = "obsandboxbank"
_BASE62 = string.ascii_letters + string.digits


def new_software_id() -> str:
    """Return a software id as OBIE formats them: 22 base62 characters."""
    return "".join(secrets.choice(_BASE62) for _ in range(22))


def issue_software_statement(
    organisation: Organisation,
    *,
    signing_key: Key,
    kid: str,
    alg: str,
    client_name: str,
    redirect_uris: Sequence[str],
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    software_id: str | None = None,
) -> tuple[str, str]:
    """Sign a software statement for ``organisation``; return (software_id, SSA JWT)."""
    if organisation.status == "suspended":
        raise PartnerError("organisation_suspended", "A suspended organisation gets no statements")
    if (jwks is None) == (jwks_uri is None):
        raise PartnerError("invalid_jwks", "Give the software's keys as a JWKS or a jwks_uri")
    software_id = software_id or new_software_id()
    claims: dict[str, Any] = {
        "iss": DIRECTORY_ISSUER,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "software_environment": "sandbox",
        "software_mode": "Test",
        "software_id": software_id,
        "software_client_id": software_id,
        "software_client_name": client_name[:140],
        "software_redirect_uris": check_redirect_uris(redirect_uris, "sandbox"),
        "software_roles": list(organisation.roles),
        "org_id": organisation.id,
        "org_name": organisation.legal_name,
        "org_status": "Active" if organisation.status == "approved" else "Pending",
    }
    if jwks is not None:
        claims["software_jwks"] = check_jwks(jwks)
    else:
        claims["software_jwks_endpoint"] = check_jwks_uri(str(jwks_uri))
    token = jwt.encode(
        {"alg": alg, "kid": kid, "typ": "JWT"}, claims, signing_key, algorithms=[alg]
    )
    return software_id, token
