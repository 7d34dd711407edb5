"""JSON response bodies written by orjson: byte for byte what Flask's own provider writes (with
UTF-8 text), keys in the order the views put them; what orjson refuses, written as before."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from gateway.edge.json_provider import FastJSONProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


PAYLOAD: dict[str, Any] = {
    "Data": {"Amount": "12.30", "Name": "Café Zoë 💷", "Nested": [1, None, True, {"b": 2, "a": 1}]},
    "Decimal": Decimal("1.10"),
    "When": dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC),
    "Day": dt.date(2026, 3, 29),
    "Id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "Point": Point(1, "p"),
    7: "an integer key",
}


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    return app


def standard_library(obj: Any) -> bytes:
    """What Flask's provider writes with the same settings (insertion order, UTF-8 text)."""
    text = json.dumps(
        obj,
        default=DefaultJSONProvider.default,
        ensure_ascii=False,
        sort_keys=False,
        separators=(",", ":"),
    )
    return f"{text}\n".encode()


def test_the_body_is_the_standard_librarys_byte_for_byte(app: Flask) -> None:
    with app.app_context():
        response = jsonify(PAYLOAD)
    assert response.mimetype == "application/json"
    assert response.get_data() == standard_library(PAYLOAD)
    written = json.loads(response.get_data())
    # Flask's fallbacks: Decimal and UUID as strings, dates as HTTP-dates, dataclasses as objects.
    assert written["Decimal"] == "1.10"
    assert written["When"] == "Sun, 29 Mar 2026 01:30:00 GMT"
    assert written["Point"] == {"x": 1, "label": "p"}
    assert written["7"] == "an integer key"


def test_keys_keep_the_order_the_view_gave_them(app: Flask) -> None:
    with app.app_context():
        body = jsonify({"Data": {}, "Links": {}, "Meta": {}}).get_data()
    assert body == b'{"Data":{},"Links":{},"Meta":{}}\n'


def test_text_is_utf8_not_escaped(app: Flask) -> None:
    with app.app_context():
        body = jsonify({"Name": "Zoë"}).get_data()
    assert "Zoë".encode() in body and b"\\u" not in body


def test_debug_mode_indents_with_the_standard_library(app: Flask) -> None:
    app.debug = True
    with app.app_context():
        body = jsonify({"a": [1]}).get_data(as_text=True)
    assert body == '{\n  "a": [\n    1\n  ]\n}\n'


@pytest.mark.parametrize(
    "payload",
    [
        {"Errors": [{"Path": "Data.\ud800", "ErrorCode": "U005"}]},  # a lone surrogate
        {"Count": 2**70},  # beyond orjson's 64 bits
    ],
)
def test_what_orjson_refuses_is_written_by_the_standard_library(
    app: Flask, payload: dict[str, Any]
) -> None:
    with app.app_context():
        body = jsonify(payload).get_data()
    # ASCII with escapes, as Flask's own provider writes it: a lone surrogate has no UTF-8.
    expected = json.dumps(payload, ensure_ascii=True, sort_keys=False, separators=(",", ":"))
    assert body == f"{expected}\n".encode()
    assert json.loads(body) == payload


def test_a_value_json_cannot_hold_is_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(TypeError):
        jsonify({"set": {1, 2}})
