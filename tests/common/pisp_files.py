"""Helpers of the file payment tests: payment files of both OBIE file types, the consent that
declares one, and the raw requests that upload and download a file (a body that is not JSON)."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
from decimal import Decimal
from typing import Any

from flask import Flask

from partners.example_client import detached_jws
from tests.common.oauth import Partner, approve_in_browser
from tests.common.pisp import CREDITOR, PISP

JSON_TYPE = "UK.OBIE.PaymentInitiation.4.0"
PAIN_TYPE = "UK.OBIE.pain.001.001.08"
MEDIA = {JSON_TYPE: "application/json", PAIN_TYPE: "application/xml"}
CONSENTS = f"{PISP}/file-payment-consents"
PAYEES = ("ACME Inc", "Bolt Ltd", "Cobalt plc", "Delta LLP")


def initiation(position: int, amount: str) -> dict[str, Any]:
    """A domestic payment initiation, the ``position``-th of a file."""
    return {
        "InstructionIdentification": f"INSTR-{position}",
        "EndToEndIdentification": f"E2E-{position}",
        "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
        "CreditorAccount": {**CREDITOR, "Name": PAYEES[position % len(PAYEES)]},
        "RemittanceInformation": {"Reference": f"INV-{position}"},
    }


def json_file(*amounts: str) -> bytes:
    """A ``UK.OBIE.PaymentInitiation.4.0`` file paying ``amounts`` (GBP)."""
    payments = [initiation(i, amount) for i, amount in enumerate(amounts)]
    return json.dumps({"Data": {"DomesticPayments": payments}}).encode()


def pain_file(*amounts: str, count: str | None = None, total: str | None = None) -> bytes:
    """A ``pain.001.001.08`` file paying ``amounts`` (GBP), its group header counting them
    (``count`` and ``total`` override what it says)."""
    transactions = "".join(
        f"<CdtTrfTxInf><PmtId><InstrId>INSTR-{i}</InstrId><EndToEndId>E2E-{i}</EndToEndId>"
        f'</PmtId><Amt><InstdAmt Ccy="GBP">{amount}</InstdAmt></Amt>'
        f"<Cdtr><Nm>{PAYEES[i % len(PAYEES)]}</Nm></Cdtr><CdtrAcct><Id><Othr>"
        f"<Id>{CREDITOR['Identification']}</Id></Othr></Id></CdtrAcct>"
        f"<RmtInf><Ustrd>INV-{i}</Ustrd></RmtInf></CdtTrfTxInf>"
        for i, amount in enumerate(amounts)
    )
    summed = total or str(sum((Decimal(a) for a in amounts), Decimal(0)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.08"><CstmrCdtTrfInitn>'
        f"<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-04T10:00:00</CreDtTm>"
        f"<NbOfTxs>{count or len(amounts)}</NbOfTxs><CtrlSum>{summed}</CtrlSum>"
        "<InitgPty><Nm>ACME Payroll</Nm></InitgPty></GrpHdr>"
        "<PmtInf><PmtInfId>PMT-1</PmtInfId><PmtMtd>TRF</PmtMtd>"
        "<ReqdExctnDt><Dt>2026-03-04</Dt></ReqdExctnDt><Dbtr><Nm>ACME</Nm></Dbtr>"
        f"{transactions}</PmtInf></CstmrCdtTrfInitn></Document>"
    ).encode()


def file_hash(content: bytes) -> str:
    """``FileHash``: the base64 of the SHA-256 of the file."""
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def consent_body(
    content: bytes, file_type: str, count: int, total: float, **initiation: Any
) -> dict[str, Any]:
    """An ``OBWriteFileConsent3`` declaring ``content``."""
    return {
        "Data": {
            "Initiation": {
                "FileType": file_type,
                "FileHash": file_hash(content),
                "FileReference": "PAYROLL-MARCH",
                "NumberOfTransactions": str(count),
                "ControlSum": total,
                **initiation,
            }
        }
    }


def stage(partner: Partner, body: dict[str, Any]) -> str:
    """POST the consent; its id."""
    token = partner.client.client_credentials("payments")["access_token"]
    created = partner.client.post_signed(CONSENTS, token, body)
    assert created["Data"]["Status"] == "AWUP", created
    consent_id: str = created["Data"]["ConsentId"]
    return consent_id


def send(
    partner: Partner, method: str, path: str, *, body: bytes | None = None,
    media_type: str | None = None, accept: str | None = None, key: str | None = None,
) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One raw request with a client-credentials token (a signed body and an idempotency key
    when ``body`` is given); its status, headers (lower-case names) and body."""
    client = partner.client
    token = client.client_credentials("payments")["access_token"]
    url = client.issuer + path
    for _attempt in range(2):
        headers = client.resource_headers(method, url, token)
        if accept is not None:
            headers["Accept"] = accept
        if body is not None:
            tan = urllib.parse.urlsplit(client.issuer).hostname or ""
            headers["x-jws-signature"] = detached_jws(
                body, client.private_jwk, iss=client.client_id, tan=tan
            )
            headers["x-idempotency-key"] = key or base64.b32encode(hashlib.sha256(
                body + path.encode() + str(_attempt).encode()).digest()[:20]).decode()  # fmt: skip
            headers["Content-Type"] = media_type or "application/json"
        status, answered, raw = client.transport(method, url, headers, body)
        lowered = {name.lower(): value for name, value in answered.items()}
        if "dpop-nonce" in lowered:
            client.dpop_nonces[client.issuer] = lowered["dpop-nonce"]
        if status != 401 or "dpop-nonce" not in lowered:
            break
    return status, lowered, raw


def upload(
    partner: Partner, consent_id: str, content: bytes, media_type: str, key: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """POST the file of a consent."""
    return send(partner, "POST", f"{CONSENTS}/{consent_id}/file", body=content,
                media_type=media_type, key=key)  # fmt: skip


def errors(raw: bytes) -> list[tuple[str, str | None]]:
    """The (ErrorCode, Path) of an OBIE error body."""
    return [(e["ErrorCode"], e.get("Path")) for e in json.loads(raw)["Errors"]]


def authorise(app: Flask, partner: Partner, consent_id: str) -> str:
    """The customer approves the consent; the token of that authorisation."""
    request_uri, verifier, _ = partner.client.push_authorization_request(consent_id, "payments")
    answer = approve_in_browser(
        app, app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id,
    )  # fmt: skip
    assert "code" in answer, answer
    token: str = partner.client.exchange_code(answer["code"], verifier)["access_token"]
    return token


def ready(
    app: Flask, partner: Partner, content: bytes, file_type: str, count: int, total: float
) -> tuple[str, str, dict[str, Any]]:
    """A consent for ``content``, its file uploaded and the customer's approval given: its id,
    the authorised token and the consent's body."""
    body = consent_body(content, file_type, count, total)
    consent_id = stage(partner, body)
    status, _headers, raw = upload(partner, consent_id, content, MEDIA[file_type])
    assert status == 200, raw
    return consent_id, authorise(app, partner, consent_id), body


def payment_body(consent_id: str, consent: dict[str, Any]) -> dict[str, Any]:
    """The ``OBWriteFile2`` that repeats the consent's initiation."""
    return {"Data": {"ConsentId": consent_id, "Initiation": consent["Data"]["Initiation"]}}
