"""The published documents: which there are, how they are written, and whether they drifted."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from gateway.apidocs.aisp import build_aisp
from gateway.apidocs.cbpii import build_cbpii
from gateway.apidocs.common import SPECS_DIR
from gateway.apidocs.financing import build_financing
from gateway.apidocs.fx import build_fx
from gateway.apidocs.idempotency import build_idempotency
from gateway.apidocs.oauth import build_oauth
from gateway.apidocs.pisp import build_pisp
from gateway.apidocs.sandbox import build_sandbox
from gateway.apidocs.vrp import build_vrp


@dataclass(frozen=True, slots=True)
class Document:
    """A published document: ``/docs/<api>`` shows ``/specs/<name>.json``."""

    api: str
    name: str
    title: str
    summary: str
    build: Callable[[Flask], dict[str, Any]]

    @property
    def filename(self) -> str:
        """The file under ``specs/openapi/``."""
        return f"{self.name}.json"


DOCUMENTS: tuple[Document, ...] = (
    Document(
        "aisp",
        "aisp-v4.0",
        "Account Information (UK Open Banking v4.0)",
        "Consents, accounts, balances, transactions, beneficiaries, standing orders, statements "
        "and more: a customer's accounts at the sandbox bank, with their consent.",
        build_aisp,
    ),
    Document(
        "cbpii",
        "cbpii-v4.0",
        "Confirmation of Funds (UK Open Banking v4.0)",
        "Funds-confirmation consents and funds confirmations: whether an amount is available in "
        "a customer's account, yes or no, with their consent.",
        build_cbpii,
    ),
    Document(
        "pisp",
        "pisp-v4.0",
        "Payment Initiation (UK Open Banking v4.0)",
        "Domestic payments now or on a later day: consents the customer approves, payments that "
        "repeat them exactly, their status as the bank settles them; signed and idempotent.",
        build_pisp,
    ),
    Document(
        "vrp",
        "vrp-v4.0",
        "Variable Recurring Payments (UK Open Banking v4.0)",
        "Domestic VRP consents with limits per payment and per period, and the payments made "
        "under them on the sandbox's clock; signed and idempotent.",
        build_vrp,
    ),
    Document(
        "financing",
        "financing-v1",
        "Financing API",
        "Loan products and quotes: the instalment schedule, every cash flow, the APR and the "
        "representative example of a loan, before any customer is involved.",
        build_financing,
    ),
    Document(
        "oauth",
        "oauth",
        "Authorization server (FAPI 2.0)",
        "Metadata, keys, PAR, authorization, tokens, revocation, introspection, registration.",
        build_oauth,
    ),
    Document(
        "sandbox",
        "sandbox-v1",
        "Sandbox API",
        "Your organisation's sandbox bank from a script: read its clock, move it forward (running "
        "what falls due), reset it to its seed.",
        build_sandbox,
    ),
    Document(
        "idempotency",
        "idempotency-v1",
        "Idempotency keys",
        "Retrying a payment or funds-confirmation POST safely with x-idempotency-key, and "
        "recovering a response lost to a timeout.",
        build_idempotency,
    ),
    Document(
        "fx",
        "fx-v1",
        "Foreign exchange",
        "Mid rates, the corridors the bank pays through, and quotes that lock a rate for an "
        "international payment to cite; rounding in each currency's own precision.",
        build_fx,
    ),
)
BY_API = {document.api: document for document in DOCUMENTS}
BY_NAME = {document.name: document for document in DOCUMENTS}


def render(document: dict[str, Any]) -> str:
    """The committed form of a document: indented JSON, sorted keys, a trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate(app: Flask) -> dict[str, str]:
    """Every document as the code generates it, by file name."""
    return {document.filename: render(document.build(app)) for document in DOCUMENTS}


def write(app: Flask, folder: Path = SPECS_DIR) -> list[Path]:
    """Write every document into ``folder``; return the files that changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for filename, text in generate(app).items():
        path = folder / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
            changed.append(path)
    return changed


def drift(app: Flask, folder: Path = SPECS_DIR) -> list[str]:
    """The file names whose committed text differs from what the code generates (or is missing)."""
    stale = []
    for filename, text in generate(app).items():
        path = folder / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(filename)
    return stale
