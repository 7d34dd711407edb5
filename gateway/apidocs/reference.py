"""An OBIE v4.0 API's document: its reference file, cut to what a blueprint serves.

Paths and operations come from the reference file, kept exactly where Flask serves them under the
family's blueprint; a served route the reference lacks stops the build, and the standard's
operations not served are listed (``x-not-served``). Responses stay the reference schemas (every
response in the tests is validated against them); request bodies are generated with apispec from
the marshmallow schemas that validate the traffic. Each family (:class:`Family`) says which
blueprint, which file, and what its document says besides.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from gateway.apidocs.common import METHODS, SpecError, documented, prune_components, served

try:  # libyaml's parser: the reference files are large
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

REQUEST_CONTENT_TYPE = "application/json"
CUSTOMER_IP_ADDRESS = "x-fapi-customer-ip-address"
# Response media types of the reference that the gateway never produces (it does not encrypt).
UNSERVED_MEDIA_TYPES = frozenset({"application/jose+jwe"})


def _unchanged(document: dict[str, Any]) -> None:
    """No change of the family's own."""


def _every_path(path: str) -> bool:
    """Every path the blueprint serves belongs to the family."""
    return True


@dataclass(frozen=True, slots=True)
class Family:
    """An API family published from its OBIE reference file."""

    blueprint: str
    prefix: str
    reference: Path
    title: str
    description: str
    # The request body of each operation that has one, as the view validates it.
    request_schemas: Mapping[tuple[str, str], type[Schema]]
    # The security schemes' descriptions: the client-credentials and the customer's flow.
    tpp_security: str
    psu_security: str
    # What the family publishes otherwise than its reference has it (after the generic steps).
    customise: Callable[[dict[str, Any]], None] = _unchanged
    # The views validate request bodies against the reference schemas themselves
    # (gateway.api.reference): publish those, not schemas generated from marshmallow.
    reference_bodies: bool = False
    # Which of the blueprint's paths (relative to ``prefix``) the reference file defines: a
    # blueprint may serve the operations of more than one file (the VRP file's under the
    # Payment Initiation prefix).
    includes: Callable[[str], bool] = _every_path


def build(app: Flask, family: Family) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``family`` as ``app`` serves it.

    Raises :class:`SpecError` when the app serves an operation the reference does not define,
    or when a served operation with a request body has no request schema in the family's
    ``request_schemas``.
    """
    reference = copy.deepcopy(reference_document(family.reference))
    ours = {
        (path, method)
        for path, method in served(app, [family.blueprint], family.prefix)
        if family.includes(path)
    }
    theirs = documented(reference)
    unknown = sorted(ours - theirs)
    if unknown:
        listed = ", ".join(f"{method.upper()} {path}" for path, method in unknown)
        raise SpecError(f"served but not in {family.reference.name}: {listed}")

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
        "info": _info(family, reference["info"], not_served),
        "servers": [{"url": family.prefix}],
        "paths": paths,
        "components": reference["components"],
        "x-not-served": not_served,
    }
    if family.reference_bodies:
        _reference_request_bodies(document)
    else:
        _request_bodies(document, family)
    _drop_unserved_media_types(document)
    family.customise(document)
    _drop_authorization_header(document)
    _customer_ip_address_is_an_address(document)
    schemes = _security_schemes(reference, family)
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


def _info(
    family: Family, reference: dict[str, Any], not_served: list[dict[str, str]]
) -> dict[str, Any]:
    description = family.description
    if not_served:
        lines = "\n".join(
            f"- `{op['method'].upper()} {op['path']}` ({op['operationId']})" for op in not_served
        )
        description += (
            "\n## Not served yet\n\nThese operations of the standard are not served by this "
            f"gateway yet (also listed in `x-not-served`):\n\n{lines}\n"
        )
    return {
        "title": family.title,
        "version": reference["version"],
        "description": description,
        "license": reference["license"],
    }


def _request_bodies(document: dict[str, Any], family: Family) -> None:
    """Replace each served request body with the schema generated from its marshmallow class."""
    spec = APISpec(
        title=family.title,
        version=document["info"]["version"],
        openapi_version=document["openapi"],
        plugins=[MarshmallowPlugin()],
    )
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or "requestBody" not in operation:
                continue
            schema = family.request_schemas.get((path, method))
            if schema is None:
                raise SpecError(
                    f"{method.upper()} {path} takes a body: add its request schema to the "
                    f"{family.blueprint} document's request schemas"
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


def _reference_request_bodies(document: dict[str, Any]) -> None:
    """Keep each served request body as the reference has it, under the JSON media types the
    views read (never the encrypted one)."""
    for item in document["paths"].values():
        for method, operation in item.items():
            body = operation.get("requestBody") if method in METHODS else None
            if body is None:
                continue
            content = body.get("content", {})
            for media_type in UNSERVED_MEDIA_TYPES & set(content):
                del content[media_type]


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
    parameter = component(document, "parameters", CUSTOMER_IP_ADDRESS)
    parameter["schema"] = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}


def component(document: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
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


def _security_schemes(reference: dict[str, Any], family: Family) -> dict[str, Any]:
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
            "description": family.tpp_security,
            "flows": {"clientCredentials": {"tokenUrl": "/token", "scopes": tpp_scopes}},
        },
        "PSUOAuth2Security": {
            "type": "oauth2",
            "description": family.psu_security,
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/authorize",
                    "tokenUrl": "/token",
                    "scopes": psu_scopes,
                }
            },
        },
    }
