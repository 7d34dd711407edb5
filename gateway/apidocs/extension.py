"""The documents of the gateway's own APIs in OBIE's conventions (the sandbox API, idempotency
keys, FX, financing): one shape for all of them.

Each borrows OBIE's error and envelope components from the account-information reference file,
adds its own schemas, paths and error responses, is secured by a client-credentials token of
one or more scopes, and must document exactly the routes its blueprint serves.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from gateway.apidocs.aisp import REFERENCE, reference_document
from gateway.apidocs.common import SpecError, documented, prune_components, served


@dataclass(frozen=True)
class Extension:
    """What one extension document holds.

    ``what`` names the API in the error of a document that drifted from its routes (``"FX"``);
    ``scheme`` is the security scheme's name, ``scopes`` its scopes and their descriptions (one
    security requirement a scope); ``from_reference`` the OBIE components it borrows, by kind;
    ``keep`` the components kept though nothing refers to them."""

    title: str
    version: str
    description: str
    prefix: str
    blueprint: str
    what: str
    scheme: str
    scheme_description: str
    scopes: Mapping[str, str]
    paths: Mapping[str, Any]
    schemas: Mapping[str, Any]
    errors: Mapping[str, Any]
    from_reference: Mapping[str, Iterable[str]]
    keep: tuple[tuple[str, str], ...] = field(default=())


def build_extension(app: Flask, extension: Extension) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``extension``; raises :class:`SpecError` when it and the
    routes ``app`` serves disagree."""
    reference = reference_document(REFERENCE)["components"]
    components: dict[str, Any] = {
        kind: {name: copy.deepcopy(reference[kind][name]) for name in names}
        for kind, names in extension.from_reference.items()
    }
    components["schemas"] |= copy.deepcopy(dict(extension.schemas))
    components["responses"] = copy.deepcopy(dict(extension.errors))
    components["securitySchemes"] = {
        extension.scheme: {
            "type": "oauth2",
            "description": extension.scheme_description,
            "flows": {
                "clientCredentials": {"tokenUrl": "/token", "scopes": dict(extension.scopes)}
            },
        }
    }
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": extension.title,
            "version": extension.version,
            "description": extension.description,
        },
        "servers": [{"url": extension.prefix}],
        "security": [{extension.scheme: [scope]} for scope in extension.scopes],
        "paths": copy.deepcopy(dict(extension.paths)),
        "components": components,
    }
    prune_components(document, keep=[("securitySchemes", extension.scheme), *extension.keep])
    ours, theirs = documented(document), served(app, [extension.blueprint], extension.prefix)
    if ours != theirs:
        raise SpecError(
            f"the {extension.what} document and its routes differ: documented only "
            f"{sorted(ours - theirs)}, served only {sorted(theirs - ours)}"
        )
    return document
