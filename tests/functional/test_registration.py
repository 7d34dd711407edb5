"""Dynamic client registration (OBIE DCR v3.x, RFC 7591 §3, RFC 7592 §2): a signed request
carrying a software statement of the directory registers a private_key_jwt client; the client
reads, updates and deletes its registration with its own client-credentials token."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from partners import directory, services
from tests.common.fapi import (
    SOFTWARE_REDIRECTS,
    Software,
    assert_dcr_error,
    directory_key,
    issue_software,
    registered_apps,
    registration_request,
    send_registration,
)
from tests.common.jose import assertion_form, attacker_key, sign
from tests.common.oauth import ISSUER, REDIRECT_URI, PartnerClient, flask_transport, public

# The OBIE v4.0 DCR file, vendored unmodified with the other reference files.
SPEC = (
    Path(__file__).resolve().parents[2]
    / "specs/reference/obie-v4.0/client-registration-openapi.yaml"
)


@pytest.fixture
def software(oauth_app: Flask) -> Software:
    return issue_software(oauth_app)


@pytest.fixture(scope="module")
def registration_schema() -> dict[str, Any]:
    """OBRegistrationProperties1 of the OBIE file, with client_id required (the 201 body)."""
    document = yaml.safe_load(SPEC.read_text())
    schema: dict[str, Any] = dict(document["components"]["schemas"]["OBRegistrationProperties1"])
    schema["required"] = [*schema["required"], "client_id"]
    # Keep the document's components so that its internal $refs resolve.
    schema["components"] = document["components"]
    return schema


def register(http: FlaskClient, software: Software, **claims: Any) -> TestResponse:
    return send_registration(http, registration_request(software, **claims))


def client_of(http: FlaskClient, software: Software, client_id: str) -> PartnerClient:
    """The example partner client for a registered client id, with the software's key."""
    return PartnerClient(
        ISSUER, client_id, REDIRECT_URI, software.private_jwk, transport=flask_transport(http)
    )


def management_headers(client: PartnerClient, method: str, client_id: str) -> dict[str, str]:
    """RFC 7592 §2 with a DPoP-bound client-credentials token (RFC 9449 §7.1)."""
    token = client.client_credentials("accounts")["access_token"]
    url = f"{ISSUER}/register/{client_id}"
    return {"Authorization": f"DPoP {token}", "DPoP": client.dpop_proof(method, url, token)}


# -- the lifecycle ---------------------------------------------------------------------------


def test_registration_lifecycle(
    oauth_app: Flask, http: FlaskClient, software: Software, registration_schema: dict[str, Any]
) -> None:
    """RFC 7591 §3.2.1: 201 with client_id and the metadata (OBIE OBClientRegistration1);
    RFC 7592 §2.1 GET 200, §2.2 PUT replaces the metadata, §2.3 DELETE 204, after which the
    client can no longer obtain tokens."""
    created = register(http, software)
    assert created.status_code == 201, created.json
    body = created.json or {}
    jsonschema.validate(body, registration_schema)
    client_id = body["client_id"]
    assert body["software_id"] == software.software_id
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["redirect_uris"] == [REDIRECT_URI]
    assert created.headers["Location"].endswith(f"/register/{client_id}")
    assert created.headers["Cache-Control"] == "no-store"

    client = client_of(http, software, client_id)
    read = http.get(f"/register/{client_id}", headers=management_headers(client, "GET", client_id))
    assert read.status_code == 200 and (read.json or {})["client_id"] == client_id
    jsonschema.validate(read.json, registration_schema)
    assert client.get(
        f"/register/{client_id}", client.client_credentials("accounts")["access_token"]
    )

    second = SOFTWARE_REDIRECTS[1]
    updated = send_registration(
        http,
        registration_request(software, redirect_uris=[second]),
        method="PUT",
        path=f"/register/{client_id}",
        headers=management_headers(client, "PUT", client_id),
    )
    assert updated.status_code == 200, updated.json
    assert (updated.json or {})["redirect_uris"] == [second]

    deleted = http.delete(
        f"/register/{client_id}", headers=management_headers(client, "DELETE", client_id)
    )
    assert deleted.status_code == 204
    assert registered_apps(oauth_app, software.software_id) == []
    form = assertion_form(client_id, client.client_assertion(), grant_type="client_credentials")
    refused = http.post("/token", data=form)
    assert refused.status_code == 401 and (refused.json or {})["error"] == "invalid_client"


def test_registration_accepts_the_issuer_as_audience(
    oauth_app: Flask, http: FlaskClient, software: Software
) -> None:
    """OBIE DCR: aud is the ASPSP's directory id; the issuer URL is accepted too."""
    assert register(http, software, aud=ISSUER).status_code == 201


def test_update_cannot_leave_the_statements_redirect_uris(
    oauth_app: Flask, http: FlaskClient, software: Software
) -> None:
    """RFC 7591 §2.3 / OBIE DCR: a PUT is held to the software statement like a POST."""
    client_id = (register(http, software).json or {})["client_id"]
    client = client_of(http, software, client_id)
    response = send_registration(
        http,
        registration_request(software, redirect_uris=["https://attacker.example/cb"]),
        method="PUT",
        path=f"/register/{client_id}",
        headers=management_headers(client, "PUT", client_id),
    )
    assert_dcr_error(response, "invalid_redirect_uri")
    read = http.get(f"/register/{client_id}", headers=management_headers(client, "GET", client_id))
    assert (read.json or {})["redirect_uris"] == [REDIRECT_URI]


# -- refusals -----------------------------------------------------------------------------------


def ssa_claims(software: Software, **overrides: Any) -> dict[str, Any]:
    return {
        "iss": directory.DIRECTORY_ISSUER,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "software_id": software.software_id,
        "org_id": software.organisation_id,
        "software_redirect_uris": list(SOFTWARE_REDIRECTS),
        "software_roles": ["AISP", "PISP"],
        "software_jwks": {"keys": [public(software.private_jwk)]},
        **overrides,
    }


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("ssa-signed-by-another-key", "invalid_software_statement"),
        ("ssa-of-another-issuer", "invalid_software_statement"),
        ("ssa-of-unknown-organisation", "invalid_software_statement"),
        ("ssa-missing", "invalid_software_statement"),
        ("request-signed-by-key-not-in-ssa", "invalid_software_statement"),
        ("redirect-uri-outside-ssa", "invalid_redirect_uri"),
        ("aud-wrong", "invalid_client_metadata"),
        ("iss-not-software-id", "invalid_client_metadata"),
        ("expired", "invalid_client_metadata"),
        ("jti-not-uuid4", "invalid_client_metadata"),
        ("client-secret-basic", "invalid_client_metadata"),
        ("response-type-token", "invalid_client_metadata"),
        ("grant-type-implicit", "invalid_client_metadata"),
        ("scope-beyond-roles", "invalid_client_metadata"),
        ("id-token-alg-the-server-cannot-sign", "invalid_client_metadata"),
    ],
)
def test_registration_rules(
    oauth_app: Flask, http: FlaskClient, software: Software, case: str, error: str
) -> None:
    """RFC 7591 §3.2.2 / OBIE DCR RegistrationError: the statement must be the directory's,
    of a known organisation; the request signed (PS256/ES256, FAPI 2.0 §5.4.1) by a key of the
    statement, for this bank, fresh, and asking no more than the statement allows (nor an ID
    token algorithm the server cannot sign with, OIDC Dynamic Client Registration §2)."""
    kid, directory_jwk = directory_key(oauth_app)
    ssa_header = {"alg": "ES256", "kid": kid, "typ": "JWT"}
    now = int(time.time())
    bodies = {
        "ssa-signed-by-another-key": lambda: registration_request(
            software, software_statement=sign(ssa_header, ssa_claims(software), attacker_key())
        ),
        "ssa-of-another-issuer": lambda: registration_request(
            software,
            software_statement=sign(
                ssa_header, ssa_claims(software, iss="Some Other Directory"), directory_jwk
            ),
        ),
        "ssa-of-unknown-organisation": lambda: registration_request(
            software,
            software_statement=sign(
                ssa_header, ssa_claims(software, org_id="org_unknown"), directory_jwk
            ),
        ),
        "ssa-missing": lambda: registration_request(software, software_statement=None),
        "request-signed-by-key-not-in-ssa": lambda: registration_request(
            Software(
                software.organisation_id, software.software_id, software.statement, attacker_key()
            ),
        ),
        "redirect-uri-outside-ssa": lambda: registration_request(
            software, redirect_uris=["https://attacker.example/cb"]
        ),
        "aud-wrong": lambda: registration_request(software, aud="otherbank"),
        "iss-not-software-id": lambda: registration_request(software, iss="someoneelse"),
        "expired": lambda: registration_request(software, iat=now - 600, exp=now - 300),
        "jti-not-uuid4": lambda: registration_request(software, jti="not-a-uuid"),
        "client-secret-basic": lambda: registration_request(
            software, token_endpoint_auth_method="client_secret_basic"
        ),
        "response-type-token": lambda: registration_request(software, response_types=["token"]),
        "grant-type-implicit": lambda: registration_request(software, grant_types=["implicit"]),
        "scope-beyond-roles": lambda: registration_request(software, scope="accounts financing"),
        "id-token-alg-the-server-cannot-sign": lambda: registration_request(
            software, id_token_signed_response_alg="PS256"
        ),
    }
    assert_dcr_error(send_registration(http, bodies[case]()), error)
    assert registered_apps(oauth_app, software.software_id) == []


def test_rs256_request_with_a_valid_rsa_statement_is_refused_but_ps256_works(
    oauth_app: Flask, http: FlaskClient
) -> None:
    """FAPI 2.0 §5.4.1: PS256, not RS256, for the same RSA key."""
    software = issue_software(oauth_app, kty="RSA")
    rs256 = registration_request(software, header={"alg": "RS256"})
    assert_dcr_error(send_registration(http, rs256), "invalid_software_statement")
    assert register(http, software).status_code == 201


def test_replayed_registration_request_is_refused(
    oauth_app: Flask, http: FlaskClient, software: Software
) -> None:
    """OBIE DCR: jti is unique; a replayed request registers nothing more."""
    body = registration_request(software)
    assert send_registration(http, body).status_code == 201
    assert_dcr_error(send_registration(http, body), "invalid_client_metadata")
    assert len(registered_apps(oauth_app, software.software_id)) == 1


def test_duplicate_registration_of_the_same_software_is_refused(
    oauth_app: Flask, http: FlaskClient, software: Software
) -> None:
    """RFC 7592 §2.2: an existing registration is updated with PUT, not registered again."""
    assert register(http, software).status_code == 201
    assert_dcr_error(register(http, software), "invalid_software_statement")
    assert len(registered_apps(oauth_app, software.software_id)) == 1


def test_suspended_organisation_gets_unapproved_software_statement(
    oauth_app: Flask, http: FlaskClient, software: Software
) -> None:
    """OBIE DCR unapproved_software_statement: the directory no longer vouches for it."""
    database = oauth_app.extensions["database"]
    with database.sessions.begin() as session:
        services.set_organisation_status(session, software.organisation_id, "suspended")
    assert_dcr_error(register(http, software), "unapproved_software_statement")
    assert registered_apps(oauth_app, software.software_id) == []


def test_management_needs_the_clients_own_token(
    oauth_app: Flask, http: FlaskClient, software: Software
) -> None:
    """RFC 7592 §2: 401 without a valid token (RFC 6750 §3 challenge), 403 with another
    client's token; a DPoP-bound token is refused as a bare Bearer token (RFC 9449 §7.1)."""
    client_id = (register(http, software).json or {})["client_id"]
    other = issue_software(oauth_app)
    other_id = (register(http, other).json or {})["client_id"]
    other_client = client_of(http, other, other_id)

    anonymous = http.get(f"/register/{client_id}")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    foreign = http.get(
        f"/register/{client_id}", headers=management_headers(other_client, "GET", client_id)
    )
    assert foreign.status_code == 403
    for method in ("PUT", "DELETE"):
        response = http.open(
            f"/register/{client_id}",
            method=method,
            data=registration_request(software),
            headers={
                "Content-Type": "application/jwt",
                **management_headers(other_client, method, client_id),
            },
        )
        assert response.status_code == 403
    assert len(registered_apps(oauth_app, software.software_id)) == 1

    own = client_of(http, software, client_id)
    token = own.client_credentials("accounts")["access_token"]
    as_bearer = http.get(f"/register/{client_id}", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401


def test_registration_with_a_non_jwt_body_is_refused(http: FlaskClient) -> None:
    """OBIE DCR: the body is a signed JWT (application/jwt)."""
    assert_dcr_error(send_registration(http, "not a jwt"), "invalid_client_metadata")
    response = http.post("/register", json={"redirect_uris": [REDIRECT_URI]})
    assert_dcr_error(response, "invalid_client_metadata")


def test_registered_metadata_is_kept_and_grant_types_are_enforced(
    http: FlaskClient, software: Software
) -> None:
    """RFC 7591 §2, §3.2.1: the server keeps, returns and applies the registered metadata."""
    created = register(
        http, software, grant_types=["client_credentials"], token_endpoint_auth_signing_alg="PS256"
    )
    assert created.status_code == 201, created.json
    body = created.json or {}
    assert body["grant_types"] == ["client_credentials"]
    assert body["token_endpoint_auth_signing_alg"] == "PS256"
    client_id = body["client_id"]
    client = client_of(http, software, client_id)
    read = http.get(f"/register/{client_id}", headers=management_headers(client, "GET", client_id))
    assert (read.json or {})["grant_types"] == ["client_credentials"]
    form = assertion_form(
        client_id, client.client_assertion(), grant_type="refresh_token", refresh_token="obr_x"
    )
    refused = http.post("/token", data=form)
    assert refused.status_code == 400
    assert (refused.json or {})["error"] == "unauthorized_client"
