"""Schemas, parameters, responses and security schemes of the authorization server document."""

from __future__ import annotations

from typing import Any

from gateway.oauth import client_auth, dpop, keys, oidc, request_object, scopes

NO_STORE = {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def components() -> dict[str, Any]:
    algs = {"type": "array", "items": {"type": "string", "enum": list(client_auth.ALGORITHMS)}}
    strings = {"type": "array", "items": {"type": "string"}}
    metadata = {
        "issuer": {"type": "string"},
        "authorization_endpoint": {"type": "string"},
        "token_endpoint": {"type": "string"},
        "pushed_authorization_request_endpoint": {"type": "string"},
        "require_pushed_authorization_requests": {"type": "boolean", "enum": [True]},
        "revocation_endpoint": {"type": "string"},
        "introspection_endpoint": {"type": "string"},
        "registration_endpoint": {"type": "string"},
        "jwks_uri": {"type": "string"},
        "scopes_supported": {
            "type": "array",
            "items": {"type": "string", "enum": scopes.supported()},
        },
        "response_types_supported": strings,
        "response_modes_supported": strings,
        "grant_types_supported": strings,
        "token_endpoint_auth_methods_supported": strings,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "revocation_endpoint_auth_methods_supported": strings,
        "introspection_endpoint_auth_methods_supported": strings,
        "code_challenge_methods_supported": strings,
        "dpop_signing_alg_values_supported": {
            "type": "array",
            "items": {"type": "string", "enum": list(dpop.ALGORITHMS)},
        },
        "authorization_response_iss_parameter_supported": {"type": "boolean"},
        "claims_parameter_supported": {"type": "boolean", "enum": [True]},
        "claims_supported": strings,
        "request_parameter_supported": {"type": "boolean", "enum": [True]},
        "request_object_signing_alg_values_supported": {
            "type": "array",
            "items": {"type": "string", "enum": list(request_object.ALGORITHMS)},
        },
        "id_token_signing_alg_values_supported": {
            "type": "array",
            "items": {"type": "string", "enum": [keys.SIGNING_ALG]},
        },
        "subject_types_supported": strings,
        "acr_values_supported": {
            "type": "array",
            "items": {"type": "string", "enum": [oidc.ACR]},
        },
    }
    integer = {"type": "integer"}
    text = {"type": "string"}
    schemas = {
        "OAuthError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": string(
                    "RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 9101 §6.2 or RFC 9449 error code",
                    example="invalid_request",
                ),
                "error_description": text,
            },
        },
        "Metadata": {"type": "object", "properties": metadata},
        "JWKS": {
            "type": "object",
            "required": ["keys"],
            "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
        },
        "PushedAuthorizationResponse": {
            "type": "object",
            "required": ["request_uri", "expires_in"],
            "properties": {"request_uri": text, "expires_in": integer},
        },
        "TokenResponse": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "scope"],
            "properties": {
                "access_token": text,
                "token_type": {"type": "string", "enum": ["Bearer", "DPoP"]},
                "expires_in": integer,
                "scope": text,
                "refresh_token": text,
                "consent_id": string("The consent an authorization code token is for"),
                "id_token": string(
                    "With the openid scope: the ID token (OIDC Core §2), signed with a key of "
                    "/jwks, naming the consent in sub and openbanking_intent_id"
                ),
            },
        },
        "Introspection": {
            "type": "object",
            "required": ["active"],
            "properties": {
                "active": {"type": "boolean"},
                "scope": text,
                "client_id": text,
                "token_type": {"type": "string", "enum": ["Bearer", "DPoP"]},
                "exp": integer,
                "iat": integer,
                "iss": text,
                "sub": text,
                "consent_id": text,
                "cnf": {"type": "object", "properties": {"jkt": text}},
            },
        },
        "ClientRegistration": {
            "type": "object",
            "required": ["client_id"],
            "properties": {
                "client_id": text,
                "client_id_issued_at": integer,
                "redirect_uris": {"type": "array", "items": text},
                "token_endpoint_auth_method": text,
                "grant_types": {"type": "array", "items": text},
                "response_types": {"type": "array", "items": text},
                "scope": text,
                "application_type": text,
                "software_id": text,
                "software_statement": text,
                "id_token_signed_response_alg": text,
                "request_object_signing_alg": text,
                "token_endpoint_auth_signing_alg": text,
            },
        },
    }
    error = {
        "content": {"application/json": {"schema": ref("schemas", "OAuthError")}},
        "headers": NO_STORE,
    }
    return {
        "schemas": schemas,
        "parameters": {
            "DPoP": {
                "name": "DPoP",
                "in": "header",
                "required": False,
                "description": "A DPoP proof (RFC 9449) to bind the tokens to its key",
                "schema": {"type": "string"},
            },
            "ClientId": {
                "name": "ClientId",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            },
        },
        "responses": {
            "Error400": {"description": "Invalid request, grant, scope or client metadata"} | error,
            "Error401": {"description": "Client or token authentication failed"} | error,
            "Error403": {"description": "The token belongs to another client"} | error,
        },
        "securitySchemes": {
            "clientSecretBasic": {
                "type": "http",
                "scheme": "basic",
                "description": "client_secret_basic; or send private_key_jwt's client_assertion "
                "and client_assertion_type in the form instead",
            },
            "clientAccessToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "A client-credentials access token of this client; a DPoP-bound "
                "one as `Authorization: DPoP <token>` with a DPoP proof",
            },
        },
    }
