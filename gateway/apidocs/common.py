"""What the document builders share: where the files are, the routes Flask serves, and refs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask

# The repository root: specs/ sits next to the gateway package.
ROOT = Path(__file__).resolve().parents[2]
SPECS_DIR = ROOT / "specs" / "openapi"
REFERENCE_DIR = ROOT / "specs" / "reference" / "obie-v4.0"
GUIDE = ROOT / "docs" / "getting-started.md"
SCENARIOS = ROOT / "docs" / "scenarios.md"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
_REF = re.compile(r"^#/components/([^/]+)/([^/]+)$")


class SpecError(Exception):
    """A document cannot be built: the code and the documented contract disagree."""


def camel(name: str) -> str:
    """The OBIE name of a Flask view argument: ``account_id`` is ``AccountId``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path template: ``/accounts/<account_id>`` is
    ``/accounts/{AccountId}``."""
    return _ARGUMENT.sub(lambda match: "{" + camel(match.group(1)) + "}", rule)


def served(app: Flask, blueprints: Iterable[str], prefix: str = "") -> set[tuple[str, str]]:
    """The ``(path, method)`` pairs the app serves through ``blueprints``, paths as OpenAPI
    templates relative to ``prefix``, methods lower-case (HEAD and OPTIONS left out)."""
    names = set(blueprints)
    operations: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".", 1)[0] not in names:
            continue
        if not rule.rule.startswith(prefix):
            raise SpecError(f"{rule.rule} is served by {rule.endpoint} outside {prefix}")
        path = openapi_path(rule.rule[len(prefix) :]) or "/"
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                operations.add((path, method.lower()))
    return operations


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The ``(path, method)`` pairs of a document's operations."""
    return {
        (path, method)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in METHODS
    }


def refs(node: Any) -> set[tuple[str, str]]:
    """The ``(kind, name)`` components a node refers to with local ``$ref``s."""
    found: set[tuple[str, str]] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            match = _REF.match(str(item.get("$ref", "")))
            if match:
                found.add((match.group(1), match.group(2)))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def prune_components(document: dict[str, Any], keep: Iterable[tuple[str, str]] = ()) -> None:
    """Drop the components nothing in ``document`` refers to (directly or through others)."""
    components: dict[str, dict[str, Any]] = document.get("components", {})
    outside = {key: value for key, value in document.items() if key != "components"}
    wanted = refs(outside) | set(keep)
    todo = list(wanted)
    while todo:
        kind, name = todo.pop()
        if name not in components.get(kind, {}):
            raise SpecError(f"#/components/{kind}/{name} is referred to but not defined")
        for ref in refs(components[kind][name]) - wanted:
            wanted.add(ref)
            todo.append(ref)
    for kind in list(components):
        kept = {name: value for name, value in components[kind].items() if (kind, name) in wanted}
        if kept:
            components[kind] = kept
        else:
            del components[kind]
