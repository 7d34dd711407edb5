"""The header's rules (OBIE v4.0: maxLength 40, pattern ^(?!\\s)(.*)(\\S)$) and when two requests
are the same request (the same method, path and JSON value of the body)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gateway.api.idempotency import idempotent, keys

REFERENCE = Path(__file__).resolve().parents[3] / "specs" / "reference" / "obie-v4.0"
PATH = "/open-banking/v4.0/pisp/domestic-payment-consents"


def test_the_rules_are_those_of_the_obie_files() -> None:
    for name in ("payment-initiation-openapi.yaml", "vrp-openapi.yaml",
                 "confirmation-funds-openapi.yaml"):  # fmt: skip
        document = yaml.load((REFERENCE / name).read_text("utf-8"), Loader=yaml.CSafeLoader)
        declared = document["components"]["parameters"][keys.HEADER]
        assert declared["required"] is True, name
        assert declared["schema"]["maxLength"] == keys.MAX_LENGTH, name
        assert declared["schema"]["pattern"] == f"^{keys.PATTERN.pattern}$", name
        assert "24 hours" in declared["description"], name


def test_every_post_of_the_payment_initiation_file_is_an_operation() -> None:
    text = (REFERENCE / "payment-initiation-openapi.yaml").read_text("utf-8")
    document = yaml.load(text, Loader=yaml.CSafeLoader)
    posts = {path.strip("/") for path, item in document["paths"].items() if "post" in item}
    named = {name.replace("/file", "/{ConsentId}/file") for name in keys.OPERATIONS}
    assert posts <= named


@pytest.mark.parametrize(
    "key", ["a", "4f8d4c4e-1d7b-4c3c-9a8e-0e8f4e9b1a2c", "x" * 40, "with inner spaces", "é/?#%"]
)
def test_a_valid_key(key: str) -> None:
    assert keys.problem(key) is None


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("x" * 41, "at most 40"),
        ("", "must not be empty"),
        (" leading", "white space"),
        ("trailing ", "white space"),
        ("\ttab", "white space"),
        ("tab\t", "white space"),
        ("\u00a0nbsp", "white space"),
        (" ", "white space"),
    ],
)
def test_an_invalid_key(key: str, why: str) -> None:
    problem = keys.problem(key)
    assert problem is not None and why in problem and keys.HEADER in problem


def fingerprint(body: bytes, *, path: str = PATH, is_json: bool = True) -> str:
    return keys.fingerprint("POST", path, body, is_json=is_json)


BODY: dict[str, Any] = {
    "Data": {"Initiation": {"InstructedAmount": {"Amount": "10.50", "Currency": "GBP"},
                            "CreditorAccount": {"Name": "Café Ltd"}}},
    "Risk": {"PaymentContextCode": "EcommerceGoods"},
}  # fmt: skip


def test_a_reserialised_body_is_the_same_request() -> None:
    compact = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode()
    pretty = json.dumps(BODY, indent=4, ensure_ascii=True).encode()
    reordered = json.dumps(dict(reversed(BODY.items())), indent=1).encode()
    assert compact != pretty != reordered
    assert fingerprint(compact) == fingerprint(pretty) == fingerprint(reordered)


def test_numbers_are_compared_as_numbers() -> None:
    assert fingerprint(b'{"a": 1.0}') == fingerprint(b'{"a": 1}') == fingerprint(b'{"a": 1e0}')
    assert fingerprint(b'{"a": 1.5}') != fingerprint(b'{"a": 1}')


def test_any_other_value_is_another_request() -> None:
    changed = json.loads(json.dumps(BODY))
    changed["Data"]["Initiation"]["InstructedAmount"]["Amount"] = "10.51"
    assert fingerprint(json.dumps(BODY).encode()) != fingerprint(json.dumps(changed).encode())
    # An added member, even an empty one, is another request.
    assert fingerprint(b'{"a": 1}') != fingerprint(b'{"a": 1, "b": {}}')


def test_another_path_is_another_request() -> None:
    body = b'{"Data": {}}'
    assert fingerprint(body) != fingerprint(body, path=PATH + "/pmc-1/file")


@pytest.mark.parametrize(
    "body",
    [b'{"a": NaN}', b'{"a": 9007199254740993}', b"\xff\xfe not json", b'{"a": 1', b"[" * 5000],
)
def test_what_is_not_i_json_is_compared_byte_for_byte(body: bytes) -> None:
    assert fingerprint(body) == fingerprint(body, is_json=False)
    assert fingerprint(body) != fingerprint(body + b" ")


def test_a_body_that_is_not_json_is_compared_byte_for_byte() -> None:
    xml = b"<Document> <a/> </Document>"
    assert fingerprint(xml, is_json=False) != fingerprint(xml.replace(b" ", b""), is_json=False)
    assert fingerprint(b'{"a":1}', is_json=False) != fingerprint(b'{"a": 1}', is_json=False)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(value=JSON_VALUES, indent=st.none() | st.integers(0, 4), ascii_only=st.booleans())
def test_any_serialisation_of_a_value_is_the_same_request(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    sent = json.dumps(value, indent=indent, ensure_ascii=ascii_only, sort_keys=True).encode()
    again = json.dumps(value, ensure_ascii=not ascii_only).encode()
    assert fingerprint(sent) == fingerprint(again)


def test_only_the_operations_of_the_four_families_take_a_key() -> None:
    with pytest.raises(ValueError, match="account-access-consents"):
        idempotent("account-access-consents")
    assert set(keys.OPERATIONS.values()) == {keys.PAYMENTS, keys.FUNDS_CONFIRMATIONS,
                                             keys.FINANCING}  # fmt: skip
    financing = {name for name, scope in keys.OPERATIONS.items() if scope == keys.FINANCING}
    assert financing == {"loan-applications/acceptance", "loans/early-repayment"}
