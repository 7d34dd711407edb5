"""gateway.payments.file_formats: both OBIE file types read into transactions, without a
request; XML parsed with no entity ever expanded."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.edge.errors import ApiError
from gateway.payments import file_formats
from gateway.payments.file_formats import JSON_TYPE, PAIN_TYPE
from gateway.payments.files import file_hash
from tests.common.pisp_files import initiation, json_file, pain_file


def _no_schema(initiation: Any) -> object:
    return initiation


def _codes(caught: pytest.ExceptionInfo[ApiError]) -> list[tuple[str, str | None]]:
    return [(d.code, d.path) for d in caught.value.details]


def test_a_json_file_is_read_in_order() -> None:
    found = file_formats.read(JSON_TYPE, json_file("1.10", "2.20"), _no_schema)
    assert [(t.end_to_end_id, t.amount, t.reference) for t in found] == [
        ("E2E-0", "1.10", "INV-0"), ("E2E-1", "2.20", "INV-1")
    ]  # fmt: skip
    assert file_formats.control_sum(found) == Decimal("3.30")


def test_a_bare_list_of_initiations_is_read_the_same() -> None:
    content = json.dumps([initiation(0, "5.00")]).encode()
    assert file_formats.read(JSON_TYPE, content, _no_schema)[0].amount == "5.00"


def test_a_pain_file_is_read_in_order() -> None:
    found = file_formats.read(PAIN_TYPE, pain_file("0.10", "0.20"), _no_schema)
    assert [(t.creditor_scheme, t.amount, t.currency) for t in found] == [
        ("UK.OBIE.SortCodeAccountNumber", "0.10", "GBP"),
        ("UK.OBIE.SortCodeAccountNumber", "0.20", "GBP"),
    ]
    assert file_formats.control_sum(found) == Decimal("0.30")


def test_an_entity_is_never_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.08">&b;</Document>'
    )
    with pytest.raises(ApiError) as caught:
        file_formats.read(PAIN_TYPE, bomb, _no_schema)
    assert _codes(caught) == [("U010", None)]
    assert "DTD" in caught.value.details[0].message


def test_a_file_in_two_currencies_is_refused() -> None:
    payments = [initiation(0, "1.00"), initiation(1, "1.00")]
    payments[1]["InstructedAmount"]["Currency"] = "EUR"
    content = json.dumps({"Data": {"DomesticPayments": payments}}).encode()
    with pytest.raises(ApiError) as caught:
        file_formats.read(JSON_TYPE, content, _no_schema)
    assert _codes(caught) == [("U002", None)]


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ApiError) as caught:
        file_formats.read(JSON_TYPE, b'{"Data": {"DomesticPayments": []}}', _no_schema)
    assert _codes(caught) == [("U010", None)]


def test_too_many_transactions_are_refused() -> None:
    content = json.dumps([initiation(0, "1.00")] * (file_formats.MAX_TRANSACTIONS + 1)).encode()
    with pytest.raises(ApiError) as caught:
        file_formats.read(JSON_TYPE, content, _no_schema)
    assert _codes(caught) == [("U002", None)]


def test_a_domestic_rule_names_the_transaction() -> None:
    payments = [initiation(0, "1.00")]
    payments[0]["CreditorAccount"]["SchemeName"] = "UK.OBIE.PAN"
    content = json.dumps({"Data": {"DomesticPayments": payments}}).encode()
    with pytest.raises(ApiError) as caught:
        file_formats.read(JSON_TYPE, content, _no_schema)
    assert _codes(caught) == [("U027", "Data.DomesticPayments[0].CreditorAccount.SchemeName")]


def test_an_iban_creditor_in_xml_is_read_and_a_bad_one_named() -> None:
    good = pain_file("1.00").replace(
        b"<Othr><Id>08080021325698</Id></Othr>", b"<IBAN>GB29NWBK60161331926819</IBAN>"
    )
    assert file_formats.read(PAIN_TYPE, good, _no_schema)[0].creditor_scheme == "UK.OBIE.IBAN"
    bad = pain_file("1.00").replace(b"<Othr><Id>08080021325698</Id></Othr>", b"<IBAN>GB</IBAN>")
    with pytest.raises(ApiError) as caught:
        file_formats.read(PAIN_TYPE, bad, _no_schema)
    path = "Document.CstmrCdtTrfInitn.PmtInf[0].CdtTrfTxInf[0].CdtrAcct.Id.IBAN"
    assert _codes(caught) == [("U021", path)]


def test_the_hash_is_the_base64_of_the_sha256() -> None:
    assert file_hash(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


@pytest.mark.parametrize(
    ("old", "new", "code", "path"),
    [
        (b">1.00<", b">NaN<", "U002", "Amt.InstdAmt"),
        (b">1.00<", b">1e2<", "U002", "Amt.InstdAmt"),
        (b"<EndToEndId>E2E-0</EndToEndId>", b"<EndToEndId>" + b"E" * 36 + b"</EndToEndId>",
         "U002", "PmtId.EndToEndId"),
        (b"<EndToEndId>E2E-0</EndToEndId>", b"", "U004", "PmtId.EndToEndId"),
        (b"<Cdtr><Nm>ACME Inc</Nm></Cdtr>", b"", "U004", "Cdtr"),
    ],
)  # fmt: skip
def test_a_pain_transaction_that_breaks_a_rule_is_named(
    old: bytes, new: bytes, code: str, path: str
) -> None:
    content = pain_file("1.00").replace(old, new)
    assert content != pain_file("1.00")
    with pytest.raises(ApiError) as caught:
        file_formats.read(PAIN_TYPE, content, _no_schema)
    where = f"Document.CstmrCdtTrfInitn.PmtInf[0].CdtTrfTxInf[0].{path}"
    assert _codes(caught) == [(code, where)]


def test_json_nested_past_the_parsers_depth_is_unreadable() -> None:
    with pytest.raises(ApiError) as caught:
        file_formats.read(JSON_TYPE, b"[" * 100_000 + b"]" * 100_000, _no_schema)
    assert _codes(caught) == [("U010", None)]
