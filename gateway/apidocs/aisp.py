"""The Account Information API document: the OBIE v4.0 reference, cut to what we serve.

Paths and operations come from the reference file, kept exactly where Flask serves them under
the AIS blueprint; a served route the reference lacks stops the build. Responses stay the
reference schemas (every response in the tests is validated against them); request bodies are
generated with apispec from the marshmallow schemas that validate the traffic.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from gateway.api.aisp import bp as aisp_bp
from gateway.api.aisp.schemas import ConsentRequest
from gateway.api.aisp.statement_file import MEDIA_TYPE as STATEMENT_FILE_MEDIA_TYPE
from gateway.apidocs.common import (
    METHODS,
    REFERENCE_DIR,
    SpecError,
    documented,
    prune_components,
    served,
)

try:  # libyaml's parser: the reference file is large
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

PREFIX = aisp_bp.url_prefix or ""
REFERENCE = REFERENCE_DIR / "account-info-openapi.yaml"
TITLE = "Account Information API (UK Open Banking v4.0) — Sandbox Bank"
GUIDE_URL = "/docs/getting-started"
# The request body of each operation that has one, as the view validates it.
REQUEST_SCHEMAS: dict[tuple[str, str], type[Schema]] = {
    ("/account-access-consents", "post"): ConsentRequest,
}
REQUEST_CONTENT_TYPE = "application/json"
CUSTOMER_IP_ADDRESS = "x-fapi-customer-ip-address"
# The response of the statement file, and what the gateway serves it as.
STATEMENT_FILE_RESPONSE = "200AccountsAccountIdStatementsStatementIdFileRead"
# Response media types of the reference that the gateway never produces (it does not encrypt).
UNSERVED_MEDIA_TYPES = frozenset({"application/jose+jwe"})

DESCRIPTION = f"""\
The UK Open Banking Read/Write API v4.0 for account information, as the Sandbox Bank's gateway
serves it. Response bodies and headers follow the OBIE v4.0 reference schemas; request bodies are
published from the very schemas that validate them.

## Security (FAPI 2.0)

1. Get a client-credentials token from `POST /token` (scope `accounts`) and create an
   account-access consent with it.
2. Push the authorization request to `POST /par` (PAR is required): response type `code`, PKCE
   with `S256`, and the consent id as `openbanking_intent_id`. Send the customer to
   `GET /authorize` with the `client_id` and the `request_uri` you got back.
3. Exchange the code at `POST /token` with its `code_verifier`, then read the accounts the
   customer chose.

Clients authenticate at `/par`, `/token`, `/revoke` and `/introspect` with `private_key_jwt`
(RFC 7523; `client_secret_basic` is accepted too). Tokens are sender-constrained with DPoP
(RFC 9449): a DPoP-bound token is sent as `Authorization: DPoP <token>` with a fresh `DPoP`
proof (carrying `ath`) on every request. Production apps must use DPoP. The authorization
server's metadata is at `/.well-known/oauth-authorization-server` and its endpoints are
described in `/specs/oauth.json`.

Start with the [getting-started guide]({GUIDE_URL}): sign up, register an app and run the
example partner client.

## Trying it from this page

"Try it out" works for the consent endpoints with the client-credentials token of a sandbox app
registered for `client_secret_basic` without DPoP: choose **TPPOAuth2Security**, give its client
id and secret, and the token goes in the `Authorization` header for you. The customer's part
(PAR, the customer's sign-in, DPoP proofs on every call) cannot be done from this page: the
example partner client and the portal's **Try the flow** page do it step by step.
"""

TPP_SECURITY = (
    "Client credentials grant at the gateway's token endpoint, for the consent endpoints. The "
    "client authenticates with private_key_jwt (or client_secret_basic). A DPoP-bound token is "
    "presented as `Authorization: DPoP <token>` with a DPoP proof (RFC 9449) on every request."
)
PSU_SECURITY = (
    "Authorization code grant (FAPI 2.0: PAR and PKCE S256 required) for the customer's account "
    "data. The authorization request is pushed to /par first; /authorize takes only client_id "
    "and request_uri. A DPoP-bound token is presented as `Authorization: DPoP <token>` with a "
    "DPoP proof (RFC 9449) on every request."
)


def build_aisp(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the Account Information API as ``app`` serves it.

    Raises :class:`SpecError` when the app serves an operation the reference does not define,
    or when a served operation with a request body has no request schema in
    :data:`REQUEST_SCHEMAS`.
    """
    reference = copy.deepcopy(reference_document(REFERENCE))
    ours = served(app, [aisp_bp.name], PREFIX)
    theirs = documented(reference)
    unknown = sorted(ours - theirs)
    if unknown:
        listed = ", ".join(f"{method.upper()} {path}" for path, method in unknown)
        raise SpecError(f"served but not in {REFERENCE.name}: {listed}")

    paths: dict[str, Any] = {}
    for path, item in reference["paths"].items():
        kept = {key: value for key, value in item.items() if (path, key) in ours}
        if kept:
            paths[path] = {k: v for k, v in item.items() if k not in METHODS} | kept
    not_served = [
        {
            "method": method,
            "operationId": reference["paths"][path][method].get("operationId", ""),
            "path": path,
        }
        for path, method in sorted(theirs - ours)
    ]

    document: dict[str, Any] = {
        "openapi": reference["openapi"],
        "info": _info(reference["info"], not_served),
        "servers": [{"url": PREFIX}],
        "paths": paths,
        "components": reference["components"],
        "x-not-served": not_served,
    }
    _request_bodies(document)
    _drop_unserved_media_types(document)
    _statement_file_is_a_pdf(document)
    _drop_authorization_header(document)
    _customer_ip_address_is_an_address(document)
    schemes = _security_schemes(reference)
    document["components"]["securitySchemes"] = schemes
    prune_components(document, keep=[("securitySchemes", name) for name in schemes])
    return document


@functools.cache
def reference_document(path: Path) -> dict[str, Any]:
    """The reference document as plain JSON values (timestamps stay strings, keys strings)."""
    with path.open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_JsonLoader)  # noqa: S506 - a safe loader, see below
    plain: dict[str, Any] = _plain(loaded)
    return plain


class _JsonLoader(_SafeLoader):
    """A safe loader that reads YAML timestamps as strings, as JSON would have them."""


_JsonLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if node is None or isinstance(node, str | int | float | bool):
        return node
    raise SpecError(f"the reference holds a value JSON cannot: {node!r}")


def _info(reference: dict[str, Any], not_served: list[dict[str, str]]) -> dict[str, Any]:
    description = DESCRIPTION
    if not_served:
        lines = "\n".join(
            f"- `{op['method'].upper()} {op['path']}` ({op['operationId']})" for op in not_served
        )
        description += (
            "\n## Not served yet\n\nThese operations of the standard are not served by this "
            f"gateway yet (also listed in `x-not-served`):\n\n{lines}\n"
        )
    return {
        "title": TITLE,
        "version": reference["version"],
        "description": description,
        "license": reference["license"],
    }


def _request_bodies(document: dict[str, Any]) -> None:
    """Replace each served request body with the schema generated from its marshmallow class."""
    spec = APISpec(
        title=TITLE,
        version=document["info"]["version"],
        openapi_version=document["openapi"],
        plugins=[MarshmallowPlugin()],
    )
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or "requestBody" not in operation:
                continue
            schema = REQUEST_SCHEMAS.get((path, method))
            if schema is None:
                raise SpecError(
                    f"{method.upper()} {path} takes a body: add its request schema to "
                    "gateway.apidocs.aisp.REQUEST_SCHEMAS"
                )
            name = schema.__name__
            if name not in spec.components.schemas:
                spec.components.schema(name, schema=schema)
            operation["requestBody"] = {
                "description": operation["requestBody"].get("description", "Default"),
                "required": True,
                "content": {
                    REQUEST_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{name}"}}
                },
            }
    generated: dict[str, Any] = spec.to_dict().get("components", {}).get("schemas", {})
    schemas = document["components"]["schemas"]
    for name, schema_object in generated.items():
        if name in schemas:
            raise SpecError(f"request schema {name} clashes with the reference's {name}")
        schemas[name] = schema_object


def _drop_unserved_media_types(document: dict[str, Any]) -> None:
    """Keep the response schemas, but only under the media types the gateway answers with."""
    responses = list(document["components"].get("responses", {}).values())
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in METHODS:
                responses.extend(operation.get("responses", {}).values())
    for response in responses:
        for media_type in UNSERVED_MEDIA_TYPES & set(response.get("content", {})):
            del response["content"][media_type]


def _statement_file_is_a_pdf(document: dict[str, Any]) -> None:
    """The statement file as it is served: a PDF. The reference lists only JSON media types
    (an empty ``File`` object) for it, a known gap of the OBIE documents; a client generated
    from them would ask for JSON and get 406."""
    response = _component(document, "responses", STATEMENT_FILE_RESPONSE)
    response["description"] = (
        "The statement as a PDF (`application/pdf`; the reference lists JSON media types, which "
        "the gateway does not serve for a file: any other `Accept` gets 406)."
    )
    response["content"] = {
        STATEMENT_FILE_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}
    }


def _drop_authorization_header(document: dict[str, Any]) -> None:
    """Leave the ``Authorization`` header to the security schemes: OpenAPI 3.0 (Parameter
    Object) says such a parameter "SHALL be ignored", and the reference's required one made the
    interactive docs ask for a value the security scheme fills in."""
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in METHODS and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if not _is_authorization(p)
                ]


def _customer_ip_address_is_an_address(document: dict[str, Any]) -> None:
    """Publish ``x-fapi-customer-ip-address`` as the gateway checks it: an IPv4 or IPv6 address
    (the reference says only ``string``; anything else is a 400 U006)."""
    parameter = _component(document, "parameters", CUSTOMER_IP_ADDRESS)
    parameter["schema"] = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}


def _component(document: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """The reference's component ``name`` of ``kind``, to be published as served; stop the build
    when a new reference no longer has it."""
    found: dict[str, Any] | None = document["components"].get(kind, {}).get(name)
    if found is None:
        raise SpecError(f"the reference has no {kind} {name}")
    return found


def _is_authorization(parameter: dict[str, Any]) -> bool:
    if "$ref" in parameter:
        return bool(parameter["$ref"] == "#/components/parameters/Authorization")
    return bool(parameter.get("in") == "header" and parameter.get("name") == "Authorization")


def _security_schemes(reference: dict[str, Any]) -> dict[str, Any]:
    """Our OAuth 2.0 flows under the reference's scheme names and scopes."""
    old = reference["components"]["securitySchemes"]
    used = {
        name
        for item in reference["paths"].values()
        for method, operation in item.items()
        if method in METHODS
        for requirement in operation.get("security", [])
        for name in requirement
    }
    ours = {"TPPOAuth2Security", "PSUOAuth2Security"}
    if used - ours:
        raise SpecError(f"the reference uses unknown security schemes: {sorted(used - ours)}")
    tpp_scopes = old["TPPOAuth2Security"]["flows"]["clientCredentials"]["scopes"]
    psu_scopes = old["PSUOAuth2Security"]["flows"]["authorizationCode"]["scopes"]
    return {
        "TPPOAuth2Security": {
            "type": "oauth2",
            "description": TPP_SECURITY,
            "flows": {"clientCredentials": {"tokenUrl": "/token", "scopes": tpp_scopes}},
        },
        "PSUOAuth2Security": {
            "type": "oauth2",
            "description": PSU_SECURITY,
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/authorize",
                    "tokenUrl": "/token",
                    "scopes": psu_scopes,
                }
            },
        },
    }
