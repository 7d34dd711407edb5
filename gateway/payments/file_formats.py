"""The two payment file types of OBIE v4.0 (``OBWriteFileConsent3.Data.Initiation.FileType``),
read into plain transactions.

* ``UK.OBIE.PaymentInitiation.4.0``: a JSON file of domestic payment initiations, as the OBIE
  file payment specification lays it out: ``{"Data": {"DomesticPayments": [<Initiation>, ...]}}``
  (a bare JSON array of initiations is read the same). Each initiation is validated against
  the reference's own ``OBWriteDomestic2.Data.Initiation`` schema and the bank's domestic rules.
* ``UK.OBIE.pain.001.001.08``: an ISO 20022 ``CustomerCreditTransferInitiationV08`` XML
  document. It is parsed with defusedxml with DTDs forbidden, so no entity is ever expanded
  (no "billion laughs", no external entity).

A file that cannot be read is ``U010`` (UK.OBIE.Resource.InvalidFormat); a transaction that
breaks a rule is a field error naming its place in the file (``DomesticPayments[2].Amount``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from gateway.edge.errors import ApiError, ErrorDetail
from gateway.payments import domestic

JSON_TYPE = "UK.OBIE.PaymentInitiation.4.0"
PAIN_TYPE = "UK.OBIE.pain.001.001.08"
# The media type each file type is uploaded (and downloaded) as.
MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    JSON_TYPE: ("application/json",),
    PAIN_TYPE: ("application/xml", "text/xml"),
}
# The most transactions one file may carry.
MAX_TRANSACTIONS = 1000
PAIN = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.08"
# An amount as the OBIE reference writes one (OBActiveCurrencyAndAmount_SimpleType).
_AMOUNT = re.compile(r"\d{1,13}(\.\d{1,5})?")
# Max35Text: the identifications of a transaction (PmtId/InstrId, PmtId/EndToEndId).
MAX_ID = 35
# Checks one initiation of a JSON file against the reference schema of a domestic payment's
# ``Initiation`` (the API layer's validator; paths relative to ``Data.Initiation``).
SchemaCheck = Callable[[Any], object]


@dataclass(frozen=True, slots=True)
class Transaction:
    """One credit transfer of a file, as the bank will make it."""

    instruction_id: str
    end_to_end_id: str
    amount: str
    currency: str
    creditor_name: str
    creditor_scheme: str
    creditor_identification: str
    reference: str
    information: str | None = None


def read(file_type: str, content: bytes, schema: SchemaCheck) -> list[Transaction]:
    """The transactions of a file of ``file_type``; a 400 OBIE error when it cannot be read or
    a transaction breaks a rule (``schema`` checks a JSON file's initiations)."""
    found = _read_json(content, schema) if file_type == JSON_TYPE else _read_pain(content)
    if not found:
        raise ApiError.one("U010", "The file holds no transaction")
    if len(found) > MAX_TRANSACTIONS:
        raise ApiError.one("U002", f"A file holds at most {MAX_TRANSACTIONS} transactions")
    currencies = {t.currency for t in found}
    if len(currencies) > 1:
        raise ApiError.one("U002", "The transactions of a file are in one currency, not "
                           f"{', '.join(sorted(currencies))}")  # fmt: skip
    return found


def control_sum(transactions: list[Transaction]) -> Decimal:
    """The total of the amounts, exactly."""
    return sum((Decimal(t.amount) for t in transactions), Decimal(0))


# -- UK.OBIE.PaymentInitiation.4.0 ------------------------------------------------------------


def _read_json(content: bytes, schema: SchemaCheck) -> list[Transaction]:
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError.one("U010", "The file is not valid JSON") from None
    items: Any
    if isinstance(document, list):
        items, base = document, ""
    else:
        payments = (document.get("Data") or {}) if isinstance(document, dict) else None
        items = payments.get("DomesticPayments") if isinstance(payments, dict) else None
        base = "Data.DomesticPayments"
        if not isinstance(items, list):
            raise ApiError.one("U010", "The file must be {\"Data\": {\"DomesticPayments\": "
                               "[...]}}, a list of domestic payment initiations")  # fmt: skip
    if len(items) > MAX_TRANSACTIONS:
        raise ApiError.one("U002", f"A file holds at most {MAX_TRANSACTIONS} transactions")
    return [
        _json_transaction(item, f"{base}[{index}]" if base else f"[{index}]", schema)
        for index, item in enumerate(items)
    ]


def _json_transaction(initiation: Any, path: str, schema: SchemaCheck) -> Transaction:
    """One ``OBWriteDomestic2`` initiation of the file, checked as a domestic payment's is."""
    try:
        schema(initiation)
        domestic.check_initiation(initiation)
    except ApiError as exc:
        raise ApiError(*(_moved(d, path) for d in exc.details)) from None
    creditor = initiation["CreditorAccount"]
    remittance = initiation.get("RemittanceInformation") or {}
    ref = remittance.get("Reference") or initiation["EndToEndIdentification"]
    return Transaction(
        instruction_id=initiation["InstructionIdentification"],
        end_to_end_id=initiation["EndToEndIdentification"],
        amount=initiation["InstructedAmount"]["Amount"],
        currency=initiation["InstructedAmount"]["Currency"],
        creditor_name=creditor["Name"], creditor_scheme=creditor["SchemeName"],
        creditor_identification=creditor["Identification"], reference=ref[:35],
        information=" ".join(remittance.get("Unstructured") or ())[:140] or None,
    )  # fmt: skip


def _moved(detail: ErrorDetail, path: str) -> ErrorDetail:
    """A detail of one initiation, its path made that of the file."""
    inner = (detail.path or "").removeprefix("Data.Initiation").lstrip(".")
    return dataclasses.replace(detail, path=f"{path}.{inner}" if inner else path)


# -- UK.OBIE.pain.001.001.08 ------------------------------------------------------------------


def _read_pain(content: bytes) -> list[Transaction]:
    try:
        root = fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ApiError.one("U010", "The file may not carry a DTD or entity declarations") from None
    except (ParseError, ValueError):
        raise ApiError.one("U010", "The file is not well-formed XML") from None
    if root.tag != f"{{{PAIN}}}Document":
        raise ApiError.one("U010", f"The file must be a Document of the namespace {PAIN}")
    initiation = _child(root, "CstmrCdtTrfInitn", "Document")
    header = _child(initiation, "GrpHdr", "Document.CstmrCdtTrfInitn")
    found = list(_pain_transactions(initiation))
    _check_header(header, found)
    return found


def _pain_transactions(initiation: Element) -> Iterator[Transaction]:
    base = "Document.CstmrCdtTrfInitn"
    for b, block in enumerate(initiation.findall(_q("PmtInf"))):
        for t, element in enumerate(block.findall(_q("CdtTrfTxInf"))):
            yield _pain_transaction(element, f"{base}.PmtInf[{b}].CdtTrfTxInf[{t}]")


def _pain_transaction(element: Element, path: str) -> Transaction:
    ids = _child(element, "PmtId", path)
    end_to_end = _identification(ids, "EndToEndId", f"{path}.PmtId")
    instruction = _identification(ids, "InstrId", f"{path}.PmtId", end_to_end)
    amount_element = _child(_child(element, "Amt", path), "InstdAmt", f"{path}.Amt")
    amount_path = f"{path}.Amt.InstdAmt"
    currency = amount_element.get("Ccy") or ""
    value = (amount_element.text or "").strip()
    if not _AMOUNT.fullmatch(value):
        raise ApiError.one("U002", f"{value[:40]!r} is not an amount", path=amount_path)
    try:
        domestic.check_amount({"Amount": value, "Currency": currency}, amount_path)
    except ApiError as exc:
        raise ApiError(*(dataclasses.replace(d, path=amount_path) for d in exc.details)) from None
    scheme, identification = _account(_child(element, "CdtrAcct", path), f"{path}.CdtrAcct")
    remittance = element.find(_q("RmtInf"))
    unstructured = remittance.findtext(_q("Ustrd")) if remittance is not None else None
    return Transaction(
        instruction_id=instruction, end_to_end_id=end_to_end,
        amount=value, currency=currency,
        creditor_name=_text(_child(element, "Cdtr", path), "Nm", f"{path}.Cdtr")[:350],
        creditor_scheme=scheme, creditor_identification=identification,
        reference=(unstructured or end_to_end)[:35],
        information=unstructured[:140] if unstructured else None,
    )  # fmt: skip


def _account(account: Element, path: str) -> tuple[str, str]:
    """The creditor account: an IBAN, or ``Othr/Id`` of 14 digits (a UK sort code and account
    number), as a domestic payment's ``CreditorAccount`` names it."""
    ident = _child(account, "Id", path)
    iban = ident.findtext(_q("IBAN"))
    if iban:
        found = {"SchemeName": "UK.OBIE.IBAN", "Identification": iban.strip()}
        where = f"{path}.Id.IBAN"
    else:
        other = _text(_child(ident, "Othr", f"{path}.Id"), "Id", f"{path}.Id.Othr")
        found = {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": other}
        where = f"{path}.Id.Othr.Id"
    try:
        domestic.check_initiation({"InstructedAmount": {"Amount": "1", "Currency": "GBP"},
                                   "CreditorAccount": found})  # fmt: skip
    except ApiError as exc:
        raise ApiError(*(dataclasses.replace(d, path=where) for d in exc.details)) from None
    return found["SchemeName"], found["Identification"]


def _check_header(header: Element, found: list[Transaction]) -> None:
    """``GrpHdr/NbOfTxs`` and ``GrpHdr/CtrlSum`` (when given) must be the file's own."""
    path = "Document.CstmrCdtTrfInitn.GrpHdr"
    count = _text(header, "NbOfTxs", path)
    if count != str(len(found)):
        raise ApiError.one("U002", f"NbOfTxs is {count} but the file holds {len(found)} "
                           "transactions", path=f"{path}.NbOfTxs")  # fmt: skip
    total = header.findtext(_q("CtrlSum"))
    if total is None:
        return
    try:
        matches = Decimal(total.strip()) == control_sum(found)
    except InvalidOperation:
        matches = False
    if not matches:
        raise ApiError.one("U002", f"CtrlSum {total} is not the total of the file's amounts "
                           f"({control_sum(found)})", path=f"{path}.CtrlSum")  # fmt: skip


def _identification(ids: Element, name: str, path: str, default: str | None = None) -> str:
    """``PmtId/<name>``: Max35Text, required unless it has a ``default``."""
    found = (ids.findtext(_q(name)) or "").strip()
    if not found and default is not None:
        return default
    if not found:
        raise ApiError.one("U004", f"{name} is required", path=f"{path}.{name}")
    if len(found) > MAX_ID:
        raise ApiError.one("U002", f"{name} is at most {MAX_ID} characters",
                           path=f"{path}.{name}")  # fmt: skip
    return found


def _q(name: str) -> str:
    return f"{{{PAIN}}}{name}"


def _child(element: Element, name: str, path: str) -> Element:
    found = element.find(_q(name))
    if found is None:
        raise ApiError.one("U004", f"{name} is required", path=f"{path}.{name}")
    return found


def _text(element: Element, name: str, path: str) -> str:
    text = (_child(element, name, path).text or "").strip()
    if not text:
        raise ApiError.one("U004", f"{name} is required", path=f"{path}.{name}")
    return text
