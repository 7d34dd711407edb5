"""The authorization server's document, kept by hand next to the endpoints it describes.

The values that live in code (scopes, grant types, algorithms) are read from it, and the build
checks the document against the routes: every documented endpoint must be served, and every
endpoint of the ``oauth`` and ``registration`` blueprints must be documented.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask

from gateway.apidocs.common import SpecError, documented, served
from gateway.apidocs.oauth_schemas import NO_STORE, components, ref, string
from gateway.oauth import grants
from gateway.oauth.client_auth import ASSERTION_TYPE
from gateway.oauth.secrets import REQUEST_URI_PREFIX

TITLE = "Authorization server (FAPI 2.0) — Sandbox Bank"
VERSION = "1.0.0"
# Blueprints whose every route this document must describe; /authorize is the browser entry of
# the consent pages (their inner pages are not an API).
COMPLETE = ("oauth", "registration")
PARTIAL = ("authorize",)

DESCRIPTION = """\
The OAuth 2.0 authorization server of the Sandbox Bank's gateway, following the FAPI 2.0 Security
Profile: pushed authorization requests (RFC 9126) are required, PKCE uses `S256`, clients
authenticate with `private_key_jwt` (RFC 7523; `client_secret_basic` is accepted too), tokens are
sender-constrained with DPoP (RFC 9449), and authorization responses carry `iss` (RFC 9207).
Clients register through the portal or OBIE dynamic client registration (`/register`).

The consent being authorised is named the UK Open Banking way: scope `openid` with the API's
(`openid accounts`), and the consent id as the essential `openbanking_intent_id` claim of the
OpenID Connect `claims` parameter,
`{"id_token": {"openbanking_intent_id": {"value": "aac-...", "essential": true}}}`, pushed as a
form parameter or inside a signed request object (`request`, RFC 9101: PS256 or ES256 with a key
of the client's JWKS; `aud` the issuer, `iss` and `client_id` the client, `nbf` at most 60
minutes old and `exp` at most 60 minutes after it). Inside a request object only the object's
parameters count; without one, `response_type`, `redirect_uri`, `scope`, `code_challenge`,
`code_challenge_method` and the consent are required in the form. An `openbanking_intent_id`
form parameter is accepted as a shortcut for the claims request. Unknown
parameters are ignored (RFC 6749 §3.1). With `openid`, the token response carries an `id_token`
signed with a key of `/jwks`, whose `sub` and `openbanking_intent_id` are the consent id and
whose `acr` is `urn:openbanking:psd2:sca`.

Errors are JSON `{"error": ..., "error_description": ...}` (RFC 6749 §5.2), never cached;
a 401 from client authentication with HTTP Basic carries a `WWW-Authenticate` challenge.
"""


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": ref("schemas", schema)}},
    }


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties | CLIENT_AUTH}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: ref("responses", f"Error{status}") for status in statuses}


CLIENT_AUTH: dict[str, Any] = {
    "client_id": string("The client; optional with client authentication."),
    "client_assertion": string("private_key_jwt: a JWT signed with a registered client key."),
    "client_assertion_type": string("private_key_jwt", enum=[ASSERTION_TYPE]),
}
CLIENT_SECURITY: list[dict[str, list[str]]] = [{"clientSecretBasic": []}, {}]
PAR_FIELDS: dict[str, Any] = {
    "response_type": string("Only the authorization code flow.", enum=["code"]),
    "redirect_uri": string("One of the client's registered redirect URIs, exactly."),
    "scope": string("Space-separated scopes the client is registered for.", example="accounts"),
    "state": string("Opaque value returned to the redirect URI."),
    "code_challenge": string("BASE64URL(SHA-256(code_verifier)).", pattern="^[A-Za-z0-9_-]{43}$"),
    "code_challenge_method": string("PKCE method.", enum=["S256"]),
    "dpop_jkt": string(
        "JWK SHA-256 thumbprint of the DPoP key to bind the code to.", pattern="^[A-Za-z0-9_-]{43}$"
    ),
    "claims": string(
        "OpenID Connect claims request (JSON) naming the consent as the essential "
        "openbanking_intent_id claim of id_token (and userinfo).",
        example='{"id_token":{"openbanking_intent_id":{"value":"aac-...","essential":true}}}',
    ),
    "request": string(
        "A signed request object (RFC 9101, PS256 or ES256) carrying the parameters; the "
        "parameters outside it are not used."
    ),
    "openbanking_intent_id": string(
        "Shortcut: the id of the consent being authorised, instead of the claims request."
    ),
    "nonce": string("Echoed in the ID token."),
    "prompt": string("Accepted and kept with the request."),
    "response_mode": string("Only query.", enum=["query"]),
}
TOKEN_FIELDS: dict[str, Any] = {
    "grant_type": string("Grant type.", enum=sorted(grants.GRANTS)),
    "code": string("authorization_code: the code from the redirect."),
    "redirect_uri": string("authorization_code: the redirect_uri of the pushed request."),
    "code_verifier": string("authorization_code: the PKCE verifier."),
    "refresh_token": string("refresh_token: the refresh token (rotated on use)."),
    "scope": string(
        "client_credentials: the scopes wanted (the app's API families, and `sandbox` for the "
        "sandbox API, sandbox apps only); refresh_token: scopes to narrow the token to."
    ),
}
FORM_ENDPOINTS: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "/par": (
        "Push an authorization request (RFC 9126); required before /authorize.",
        PAR_FIELDS,
        # Every parameter may travel inside a request object instead (RFC 9101 §6.3).
        [],
    ),
    "/token": ("Issue tokens (RFC 6749 §3.2).", TOKEN_FIELDS, ["grant_type"]),
    "/revoke": (
        "Revoke an access or refresh token of the client (RFC 7009).",
        {"token": string("The token."), "token_type_hint": string("Ignored.")},
        ["token"],
    ),
    "/introspect": (
        "Describe a token (RFC 7662): the client's own, or any for resource servers.",
        {"token": string("The access token.")},
        ["token"],
    ),
}
OPERATION_IDS = {
    "/par": "PushAuthorizationRequest",
    "/token": "Token",
    "/revoke": "Revoke",
    "/introspect": "Introspect",
}
TAGS = {
    "/.well-known/oauth-authorization-server": "Discovery",
    "/.well-known/openid-configuration": "Discovery",
    "/jwks": "Discovery",
    "/par": "Authorization",
    "/authorize": "Authorization",
    "/token": "Tokens",
    "/revoke": "Tokens",
    "/introspect": "Tokens",
    "/register": "Registration",
    "/register/{ClientId}": "Registration",
}
FORM_RESPONSES: dict[str, dict[str, Any]] = {
    "/par": {"201": _json("PushedAuthorizationResponse", "The request_uri to send to /authorize")},
    "/token": {"200": _json("TokenResponse", "The tokens")},
    "/revoke": {"200": {"description": "Revoked (or unknown: answered the same, RFC 7009 §2.2)"}},
    "/introspect": {"200": _json("Introspection", "The token's state")},
}


def build_oauth(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the authorization server; raises :class:`SpecError` when it
    and the routes ``app`` serves disagree."""
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": components(),
    }
    ours = documented(document)
    missing = sorted(ours - served(app, COMPLETE + PARTIAL))
    if missing:
        raise SpecError(f"documented but not served: {missing}")
    undocumented = sorted(served(app, COMPLETE) - ours)
    if undocumented:
        raise SpecError(f"served but not in the authorization server document: {undocumented}")
    return copy.deepcopy(document)


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/.well-known/oauth-authorization-server": {
            "get": {
                "operationId": "GetMetadata",
                "summary": "Authorization server metadata (RFC 8414)",
                "responses": {"200": _json("Metadata", "The metadata")},
            }
        },
        "/.well-known/openid-configuration": {
            "get": {
                "operationId": "GetOpenIdConfiguration",
                "summary": "OpenID Connect Discovery: the same metadata",
                "responses": {"200": _json("Metadata", "The metadata")},
            }
        },
        "/jwks": {
            "get": {
                "operationId": "GetJwks",
                "summary": "The server's public signing keys",
                "responses": {"200": _json("JWKS", "A JWK Set (RFC 7517)")},
            }
        },
        "/authorize": {
            "get": {
                "operationId": "Authorize",
                "summary": "Start the customer's login and consent from a pushed request",
                "description": "Browser only. The answer goes to the redirect URI with a 303 and "
                "`code`, `state` and `iss`, or `error`, `error_description`, `state` "
                "and `iss`.",
                "parameters": [
                    {
                        "name": "client_id",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "request_uri",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "pattern": f"^{REQUEST_URI_PREFIX}"},
                    },
                ],
                "responses": {
                    "200": {"description": "The login page", "content": {"text/html": {}}},
                    "303": {
                        "description": "The authorization response, to the redirect URI",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    "400": {
                        "description": "An error page: the request cannot go back to the client",
                        "content": {"text/html": {}},
                    },
                },
            }
        },
    }
    for path, (summary, fields, required) in FORM_ENDPOINTS.items():
        responses = {
            status: response | {"headers": NO_STORE}
            for status, response in FORM_RESPONSES[path].items()
        }
        paths[path] = {
            "post": {
                "operationId": OPERATION_IDS[path],
                "summary": summary,
                "security": CLIENT_SECURITY,
                "parameters": [ref("parameters", "DPoP")],
                "requestBody": _form(fields, required),
                "responses": responses | _errors("400", "401"),
            }
        }
    jwt_body = {
        "required": True,
        "content": {
            "application/jwt": {
                "schema": string("The signed registration request, carrying software_statement.")
            }
        },
    }
    client: list[dict[str, list[str]]] = [{"clientAccessToken": []}]
    path_id = [ref("parameters", "ClientId")]
    registration = _json("ClientRegistration", "The registration")
    paths["/register"] = {
        "post": {
            "operationId": "Register",
            "summary": "Register a client (OBIE DCR, RFC 7591)",
            "requestBody": jwt_body,
            "responses": {
                "201": registration | {"headers": {"Location": {"schema": {"type": "string"}}}}
            }
            | _errors("400"),
        }
    }
    paths["/register/{ClientId}"] = {
        "parameters": path_id,
        "get": {
            "operationId": "GetRegistration",
            "summary": "Read a registration (RFC 7592)",
            "security": client,
            "responses": {"200": registration} | _errors("401", "403"),
        },
        "put": {
            "operationId": "UpdateRegistration",
            "summary": "Replace a registration",
            "security": client,
            "requestBody": jwt_body,
            "responses": {"200": registration} | _errors("400", "401", "403"),
        },
        "delete": {
            "operationId": "DeleteRegistration",
            "summary": "Delete a client; its tokens stop working",
            "security": client,
            "responses": {"204": {"description": "Deleted"}} | _errors("401", "403"),
        },
    }
    for path, item in paths.items():
        for method, operation in item.items():
            if method != "parameters":
                operation["tags"] = [TAGS[path]]
    return paths
