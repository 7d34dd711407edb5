"""File payments: every rule of the standard and of the bank, refused with its OBIE code, and
nothing half-written (the consent keeps awaiting its file, no file is kept)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.consents.models import Consent
from gateway.payments.models import PaymentFile
from gateway.store.database import Database
from partners.example_client import GatewayError
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP
from tests.common.pisp_files import (
    CONSENTS,
    JSON_TYPE,
    PAIN_TYPE,
    authorise,
    consent_body,
    errors,
    initiation,
    json_file,
    pain_file,
    payment_body,
    ready,
    send,
    stage,
    upload,
)

INITIATION = "Data.Initiation"
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.08">&lol2;</Document>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.08">&xxe;</Document>'
)


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    """A partner registered for payments."""
    return register_partner(oauth_app, http, roles=("PISP",))


def refused_upload(
    app: Flask, partner: Partner, content: bytes, file_type: str, count: int, total: float,
    media_type: str | None = None, declared: bytes | None = None,
) -> tuple[int, list[tuple[str, str | None]]]:  # fmt: skip
    """Upload ``content`` to a consent declaring ``declared`` (by default the same file), and
    check the consent is left as it was: awaiting its file, no file kept."""
    consent_id = stage(partner, consent_body(declared or content, file_type, count, total))
    media = media_type or ("application/json" if file_type == JSON_TYPE else "application/xml")
    status, _headers, raw = upload(partner, consent_id, content, media)
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        assert session.get_one(Consent, consent_id).status == "AWUP"
        assert session.get(PaymentFile, consent_id) is None
    return status, errors(raw)


def test_a_file_whose_hash_is_not_the_consents_is_refused(oauth_app: Flask, pisp: Partner) -> None:
    content = json_file("1.00")
    status, found = refused_upload(
        oauth_app, pisp, content, JSON_TYPE, 1, 1.0, declared=json_file("1.01")
    )
    assert (status, found) == (400, [("U002", f"{INITIATION}.FileHash")])


@pytest.mark.parametrize("file_type", [JSON_TYPE, PAIN_TYPE])
def test_a_file_of_another_count_is_refused(
    oauth_app: Flask, pisp: Partner, file_type: str
) -> None:
    content = (json_file if file_type == JSON_TYPE else pain_file)("1.00", "2.00")
    status, found = refused_upload(oauth_app, pisp, content, file_type, 3, 3.0)
    assert (status, found) == (400, [("U002", f"{INITIATION}.NumberOfTransactions")])


@pytest.mark.parametrize("file_type", [JSON_TYPE, PAIN_TYPE])
def test_a_file_of_another_control_sum_is_refused(
    oauth_app: Flask, pisp: Partner, file_type: str
) -> None:
    content = (json_file if file_type == JSON_TYPE else pain_file)("1.00", "2.01")
    status, found = refused_upload(oauth_app, pisp, content, file_type, 2, 3.0)
    assert (status, found) == (400, [("U002", f"{INITIATION}.ControlSum")])


def test_the_control_sum_is_compared_exactly(oauth_app: Flask, pisp: Partner) -> None:
    content = json_file("0.10", "0.20")
    consent_id = stage(pisp, consent_body(content, JSON_TYPE, 2, 0.3))
    assert upload(pisp, consent_id, content, "application/json")[0] == 200


def test_a_file_in_the_media_type_of_the_other_file_type_is_refused(
    oauth_app: Flask, pisp: Partner
) -> None:
    status, found = refused_upload(
        oauth_app, pisp, json_file("1.00"), JSON_TYPE, 1, 1.0, media_type="application/xml"
    )
    assert (status, found) == (415, [("U006", "Content-Type")])
    status, found = refused_upload(
        oauth_app, pisp, pain_file("1.00"), PAIN_TYPE, 1, 1.0, media_type="application/json"
    )
    assert (status, found) == (415, [("U006", "Content-Type")])


@pytest.mark.parametrize(
    ("content", "file_type"),
    [
        (b"<Document><unclosed></Document>", PAIN_TYPE),
        (b'{"Data": {"DomesticPayments": [', JSON_TYPE),
        (b'{"Data": {"Payments": []}}', JSON_TYPE),
        (b"<Document/>", PAIN_TYPE),
        (BILLION_LAUGHS, PAIN_TYPE),
        (EXTERNAL_ENTITY, PAIN_TYPE),
    ],
    ids=["xml", "json", "json-shape", "namespace", "billion-laughs", "external-entity"],
)
def test_a_file_that_cannot_be_read_is_refused(
    oauth_app: Flask, pisp: Partner, content: bytes, file_type: str
) -> None:
    status, found = refused_upload(oauth_app, pisp, content, file_type, 1, 1.0)
    assert (status, [code for code, _path in found]) == (400, ["U010"])


def test_a_transaction_that_breaks_the_schema_is_named_by_its_place(
    oauth_app: Flask, pisp: Partner
) -> None:
    broken = initiation(1, "2.00")
    del broken["CreditorAccount"]
    content = f'{{"Data": {{"DomesticPayments": [{_json(initiation(0, "1.00"))}, ' \
        f"{_json(broken)}]}}}}".encode()  # fmt: skip
    status, found = refused_upload(oauth_app, pisp, content, JSON_TYPE, 2, 3.0)
    assert (status, found) == (400, [("U004", "Data.DomesticPayments[1].CreditorAccount")])


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def test_an_amount_of_too_many_decimals_in_xml_is_named_by_its_place(
    oauth_app: Flask, pisp: Partner
) -> None:
    status, found = refused_upload(oauth_app, pisp, pain_file("1.001"), PAIN_TYPE, 1, 1.001)
    path = "Document.CstmrCdtTrfInitn.PmtInf[0].CdtTrfTxInf[0].Amt.InstdAmt"
    assert (status, found) == (400, [("U002", path)])


def test_a_group_header_that_miscounts_its_file_is_refused(oauth_app: Flask, pisp: Partner) -> None:
    content = pain_file("1.00", "2.00", count="3")
    status, found = refused_upload(oauth_app, pisp, content, PAIN_TYPE, 2, 3.0)
    assert (status, found) == (400, [("U002", "Document.CstmrCdtTrfInitn.GrpHdr.NbOfTxs")])
    content = pain_file("1.00", "2.00", total="3.50")
    status, found = refused_upload(oauth_app, pisp, content, PAIN_TYPE, 2, 3.0)
    assert (status, found) == (400, [("U002", "Document.CstmrCdtTrfInitn.GrpHdr.CtrlSum")])


def test_a_file_past_the_size_limit_is_refused(oauth_app: Flask, pisp: Partner) -> None:
    content = b" " * 1_000_001
    status, found = refused_upload(oauth_app, pisp, content, JSON_TYPE, 1, 1.0)
    assert (status, found) == (400, [("U002", None)])


def test_a_file_is_uploaded_once(oauth_app: Flask, pisp: Partner) -> None:
    content = json_file("1.00")
    consent_id = stage(pisp, consent_body(content, JSON_TYPE, 1, 1.0))
    assert upload(pisp, consent_id, content, "application/json")[0] == 200
    status, _headers, raw = upload(pisp, consent_id, content, "application/json", key="again-1")
    assert (status, [code for code, _path in errors(raw)]) == (400, ["U009"])


def test_no_upload_after_the_customer_authorised(oauth_app: Flask, pisp: Partner) -> None:
    content = json_file("1.00")
    consent_id, _token, _body = ready(oauth_app, pisp, content, JSON_TYPE, 1, 1.0)
    status, _headers, raw = upload(pisp, consent_id, content, "application/json", key="late-1")
    assert (status, [code for code, _path in errors(raw)]) == (400, ["U009"])


def test_the_customer_cannot_authorise_before_the_file_is_uploaded(
    oauth_app: Flask, pisp: Partner
) -> None:
    consent_id = stage(pisp, consent_body(json_file("1.00"), JSON_TYPE, 1, 1.0))
    request_uri, _verifier, _ = pisp.client.push_authorization_request(consent_id, "payments")
    answer = oauth_app.test_client().get(pisp.client.authorization_url(request_uri))
    assert answer.status_code == 303
    params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert params["error"] == "invalid_request" and "AWUP" in params["error_description"]
    status, _headers, raw = send(pisp, "GET", f"{CONSENTS}/{consent_id}/file")
    assert (status, errors(raw)) == (400, [("U011", None)])


@pytest.mark.parametrize(
    ("field", "value"),
    [("FileHash", "x" * 44), ("ControlSum", 9.99), ("NumberOfTransactions", "3")],
)
def test_a_payment_that_differs_from_its_consent_is_refused(
    oauth_app: Flask, pisp: Partner, field: str, value: Any
) -> None:
    content = json_file("4.00", "6.00")
    consent_id, token, body = ready(oauth_app, pisp, content, JSON_TYPE, 2, 10.0)
    sent = copy.deepcopy(payment_body(consent_id, body))
    sent["Data"]["Initiation"][field] = value
    with pytest.raises(GatewayError) as caught:
        pisp.client.post_signed(f"{PISP}/file-payments", token, sent)
    assert caught.value.status == 400
    assert caught.value.body["Errors"][0]["ErrorCode"] == "U008"
    assert caught.value.body["Errors"][0]["Path"] == f"{INITIATION}.{field}"


def test_a_file_pays_once(oauth_app: Flask, pisp: Partner) -> None:
    content = pain_file("4.00")
    consent_id, token, body = ready(oauth_app, pisp, content, PAIN_TYPE, 1, 4.0)
    pisp.client.post_signed(f"{PISP}/file-payments", token, payment_body(consent_id, body))
    with pytest.raises(GatewayError) as caught:
        pisp.client.post_signed(f"{PISP}/file-payments", token, payment_body(consent_id, body))
    assert caught.value.body["Errors"][0]["ErrorCode"] == "U009"


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        ({"NumberOfTransactions": None}, "U004", "NumberOfTransactions"),
        ({"ControlSum": None}, "U004", "ControlSum"),
        ({"NumberOfTransactions": "0"}, "U002", "NumberOfTransactions"),
        ({"NumberOfTransactions": "1x"}, "U002", "NumberOfTransactions"),
        ({"NumberOfTransactions": "1001"}, "U002", "NumberOfTransactions"),
        ({"ControlSum": 0}, "U002", "ControlSum"),
        ({"FileHash": "not-a-digest"}, "U002", "FileHash"),
        ({"FileType": "UK.OBIE.Other"}, "U002", "FileType"),
        ({"LocalInstrument": "UK.OBIE.SEPACreditTransfer"}, "U026", "LocalInstrument"),
        ({"RequestedExecutionDateTime": "2030-01-01T10:00:00+00:00"}, "U003",
         "RequestedExecutionDateTime"),
    ],
)  # fmt: skip
def test_a_consent_the_bank_cannot_take_is_refused(
    pisp: Partner, change: dict[str, Any], code: str, path: str
) -> None:
    body = consent_body(json_file("1.00"), JSON_TYPE, 1, 1.0)
    for name, value in change.items():
        if value is None:
            del body["Data"]["Initiation"][name]
        else:
            body["Data"]["Initiation"][name] = value
    token = pisp.client.client_credentials("payments")["access_token"]
    with pytest.raises(GatewayError) as caught:
        pisp.client.post_signed(CONSENTS, token, body)
    assert caught.value.status == 400
    assert [(e["ErrorCode"], e.get("Path")) for e in caught.value.body["Errors"]] == [
        (code, f"{INITIATION}.{path}")
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{CONSENTS}/pc-unknown"),
        ("GET", f"{CONSENTS}/pc-unknown/file"),
        ("POST", f"{CONSENTS}/pc-unknown/file"),
        ("GET", f"{PISP}/file-payments/fp-unknown"),
        ("GET", f"{PISP}/file-payments/fp-unknown/payment-details"),
        ("GET", f"{PISP}/file-payments/fp-unknown/report-file"),
    ],
)
def test_an_unknown_id_is_400_u011(pisp: Partner, method: str, path: str) -> None:
    body = json_file("1.00") if method == "POST" else None
    status, _headers, raw = send(pisp, method, path, body=body)
    assert status == 400 and [code for code, _path in errors(raw)] == ["U011"]


def test_another_partners_file_is_unknown(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    content = json_file("1.00")
    consent_id = stage(pisp, consent_body(content, JSON_TYPE, 1, 1.0))
    other = register_partner(oauth_app, http, roles=("PISP",))
    status, _headers, raw = upload(other, consent_id, content, "application/json")
    assert status == 400 and [code for code, _path in errors(raw)] == ["U011"]


def test_the_file_is_downloaded_in_its_own_media_type_only(oauth_app: Flask, pisp: Partner) -> None:
    content = pain_file("1.00")
    consent_id = stage(pisp, consent_body(content, PAIN_TYPE, 1, 1.0))
    assert upload(pisp, consent_id, content, "application/xml")[0] == 200
    status, _headers, raw = send(
        pisp, "GET", f"{CONSENTS}/{consent_id}/file", accept="application/json"
    )
    assert (status, errors(raw)) == (406, [("U006", "Accept")])
    token = authorise(oauth_app, pisp, consent_id)
    assert token


def test_an_upload_retried_with_its_key_is_answered_again_not_refused(
    oauth_app: Flask, pisp: Partner
) -> None:
    content = json_file("1.00")
    consent_id = stage(pisp, consent_body(content, JSON_TYPE, 1, 1.0))
    first = upload(pisp, consent_id, content, "application/json", key="upload-retry-1")
    again = upload(pisp, consent_id, content, "application/json", key="upload-retry-1")
    assert first[0] == again[0] == 200 and first[2] == again[2] == b""
