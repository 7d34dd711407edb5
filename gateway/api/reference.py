"""Request bodies checked against the OBIE v4.0 reference schemas themselves.

The payment families' request bodies are deep (initiation, creditor and postal addresses,
remittance, regulatory reporting, risk), and a partner's code written for any OBIE bank must be
accepted here unchanged: so they are validated against the vendored, unmodified reference files
under ``specs/reference/obie-v4.0/`` (OpenAPI 3.0 schemas, with their formats), not against a copy
of them by hand. Each violation becomes an OBIE error detail with the JSON path of the field
(OBIE Read/Write Data API Profile v4.0, "Error Response Structure"):

* a required member missing: ``U004`` (``UK.OBIE.Field.Missing``);
* a member the schema does not allow (``additionalProperties: false``): ``U005``
  (``UK.OBIE.Field.Unexpected``);
* a body that is not an object at all: ``U010`` (``UK.OBIE.Resource.InvalidFormat``);
* any other broken constraint (length, pattern, enum, type, date-time format): ``U002``
  (``UK.OBIE.Field.Invalid``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

from gateway.edge.errors import ApiError, ErrorDetail

REFERENCE = Path(__file__).resolve().parents[2] / "specs" / "reference" / "obie-v4.0"
# OBIE's error response carries at most this many details before it stops being useful.
MAX_DETAILS = 20


@functools.cache
def _registry(filename: str) -> Registry[Any]:
    """The reference document ``filename`` as a resolvable resource (loaded once a process)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (REFERENCE / filename).open("rb") as handle:
        document = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    registry: Registry[Any] = Registry().with_resource(filename, DRAFT4.create_resource(document))
    return registry


def preload(filename: str) -> None:
    """Read the reference document ``filename`` now (a third of a second or so), so that the
    first request that needs it does not wait for it."""
    _registry(filename)


@functools.cache
def validator(filename: str, component: str) -> OAS30Validator:
    """A validator of ``#/components/schemas/<component>`` of the reference ``filename``."""
    schema = {"$ref": f"{filename}#/components/schemas/{component}"}
    return OAS30Validator(schema, registry=_registry(filename), format_checker=oas30_format_checker)


def _path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _details(error: ValidationError) -> Iterator[ErrorDetail]:
    path = _path(error.absolute_path)
    rule: Any = error.validator_value
    schema: Any = error.schema
    if error.validator == "required" and isinstance(error.instance, dict):
        for member in rule:
            if member not in error.instance:
                yield ErrorDetail("U004", f"{member} is required", _join(path, member))
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        for member in sorted(set(error.instance) - allowed):
            yield ErrorDetail("U005", f"{member} is not a member here", _join(path, member))
    elif error.context:
        # oneOf/anyOf: the closest branch explains it best (jsonschema's relevance order).
        best = min(error.context, key=lambda e: -len(e.absolute_path))
        yield from _details(best)
    else:
        yield ErrorDetail("U002", _message(error), path or None)


def _message(error: ValidationError) -> str:
    value = repr(error.instance)
    shown = value if len(value) <= 60 else value[:57] + "..."
    if error.validator == "format":
        return f"{shown} is not a valid {error.validator_value}"
    if error.validator == "enum":
        listed: Any = error.validator_value
        return f"{shown} is not one of {', '.join(map(str, listed))}"
    if error.validator in ("maxLength", "minLength", "maxItems", "minItems"):
        return f"{shown} breaks {error.validator} {error.validator_value}"
    if error.validator == "pattern":
        return f"{shown} does not match {error.validator_value}"
    return str(error.message)[:500]


def check(body: Any, filename: str, component: str) -> dict[str, Any]:
    """Return ``body`` when it is valid against the reference schema; a 400 OBIE error listing
    what is wrong (with JSON paths) otherwise."""
    if not isinstance(body, dict):
        raise ApiError.one("U010", "The body must be a JSON object")
    found = validator(filename, component).iter_errors(body)
    errors = sorted(found, key=lambda e: _path(e.absolute_path))
    if errors:
        details = [detail for error in errors for detail in _details(error)]
        raise ApiError(*(details or [ErrorDetail("U010", "The body does not match")])[:MAX_DETAILS])
    return body
