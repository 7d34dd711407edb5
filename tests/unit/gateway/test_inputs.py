"""What the edge refuses, carrier by carrier (:mod:`gateway.edge.inputs`): the characters of
each class, where a refusal points (the OBIE ErrorCode and Path), and what passes."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from flask import Flask, request

from gateway.edge import inputs
from gateway.edge.errors import InputRefused

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
ALL_CONTROLS = [*C0, "\x7f", *C1]
LINE = ["\t", "\n", "\r"]


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/consents/<consent_id>", "consent", lambda consent_id: "")
    return app


def refusal(app: Flask, path: str = "/", **request: Any) -> InputRefused | None:
    """What :func:`inputs.check` says of this request: its refusal, or ``None``."""
    with app.test_request_context(path, **request):
        try:
            inputs.check()
        except InputRefused as exc:
            return exc
    return None


def refused(app: Flask, path: str = "/", **request: Any) -> InputRefused:
    found = refusal(app, path, **request)
    assert found is not None, f"not refused: {path} {request}"
    return found


def basic(user: str, password: str = "s") -> dict[str, str]:  # noqa: S107 - a test's
    raw = f"{user}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


# -- identifiers: the path, the query, the Basic credentials --------------------------------------


@pytest.mark.parametrize("char", ALL_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_an_identifier_refuses_every_control_character(app: Flask, char: str) -> None:
    escaped = f"%{ord(char):02X}" if ord(char) < 0x80 else f"%C2%{ord(char):02X}"
    by_path = refused(app, f"/consents/a{escaped}b")
    assert (by_path.detail.code, by_path.detail.path) == ("U002", "ConsentId")
    assert f"U+{ord(char):04X}" in by_path.message
    by_query = refused(app, "/", query_string=f"client_id=a{escaped}b")
    assert (by_query.detail.code, by_query.detail.path) == ("U002", "client_id")
    by_name = refused(app, "/", query_string=f"a{escaped}=1")
    assert by_name.detail.path == f"a\\u{ord(char):04x}"  # shown escaped, never raw
    by_basic = refused(app, "/", headers=basic(f"a{escaped}b"))
    assert (by_basic.detail.code, by_basic.detail.path) == ("U006", "Authorization")


def test_a_path_outside_any_route_is_refused_without_a_parameter_name(app: Flask) -> None:
    found = refused(app, "/nowhere/a%00")
    assert found.detail.path is None and "the URL path" in found.message


def test_basic_credentials_are_read_as_the_authorization_server_reads_them(app: Flask) -> None:
    # a%00b:s, the example of the issue: form-urlencoded before the Basic encoding.
    found = refused(app, "/", headers={"Authorization": "Basic YSUwMGI6cw=="})
    assert found.detail.path == "Authorization"
    assert refused(app, "/", headers=basic("client", "se\x00cret"))
    # Credentials that do not decode are the endpoint's to refuse (invalid_client).
    assert refusal(app, "/", headers={"Authorization": "Basic !!!"}) is None
    assert refusal(app, "/", headers=basic("client+id", "s%20cret")) is None


def test_printable_identifiers_pass(app: Flask) -> None:
    assert refusal(app, "/consents/aac-%C3%A9t%C3%A9", query_string="q=caf%C3%A9&x=a+b%2Fc") is None
    assert refusal(app, "/consents/raw-\u00e9", query_string="page=MHwx%3D%3D") is None


# -- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "char", [c for c in C0 if c != "\t"] + ["\x7f"], ids=lambda c: f"U+{ord(c):04X}"
)
def test_a_header_refuses_c0_but_tab_and_del(app: Flask, char: str) -> None:
    # Set in the WSGI environ: the test client itself refuses CR and LF in a header.
    found = refused(app, "/", environ_overrides={"HTTP_X_FAPI_AUTH_DATE": f"Sun{char}, 10"})
    assert (found.detail.code, found.detail.path) == ("U006", "x-fapi-auth-date")


def test_a_header_may_hold_tab_and_obs_text(app: Flask) -> None:
    # RFC 9110 §5.5: HTAB inside a value, and bytes %x80-FF (UTF-8 text, read as Latin-1).
    utf8_as_latin1 = "caf\u00e9 \u20ac".encode().decode("latin-1")  # holds U+0082, U+00AC
    assert refusal(app, "/", environ_overrides={"HTTP_USER_AGENT": utf8_as_latin1}) is None
    assert refusal(app, "/", environ_overrides={"HTTP_X_NOTE": "a\tb"}) is None


def test_a_header_name_and_content_type_are_headers_too(app: Flask) -> None:
    found = refused(app, "/", environ_overrides={"HTTP_X_\x01": "1"})
    assert found.detail.code == "U006"
    typed = refused(app, "/", data=b"{}", content_type="application/json\x00")
    assert (typed.detail.code, typed.detail.path) == ("U006", "Content-Type")


# -- free text: forms and JSON ----------------------------------------------------------------

TEXT_REFUSED = [c for c in C0 if c not in LINE] + ["\x7f", *C1]


@pytest.mark.parametrize("char", TEXT_REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_free_text_refuses_controls_but_tab_and_line_breaks(app: Flask, char: str) -> None:
    form = refused(app, "/", method="POST", data={"name": f"Ada{char}"})
    assert (form.detail.code, form.detail.path) == ("U002", "name")
    document = {"Data": {"Permissions": ["ReadAccountsBasic", f"Read{char}"]}}
    body = refused(app, "/", method="POST", json=document)
    assert (body.detail.code, body.detail.path) == ("U002", "Data.Permissions[1]")


def test_free_text_keeps_tabs_and_line_breaks(app: Flask) -> None:
    uris = "https://tpp.example/cb\r\nhttps://tpp.example/cb2\n\tend"
    assert refusal(app, "/", method="POST", data={"redirect_uris": uris}) is None
    claims = '{\n\t"id_token": {"openbanking_intent_id": {"value": "aac-1"}}\r\n}'
    assert refusal(app, "/", method="POST", json={"claims": claims, "name": "Caf\u00e9"}) is None
    # Pretty-printed JSON: raw TAB, LF and CR between tokens.
    pretty = json.dumps({"Data": {"Permissions": ["ReadAccountsBasic"]}}, indent="\t")
    assert refusal(app, "/", method="POST", data=pretty, content_type="application/json") is None


def test_a_name_in_a_body_is_an_identifier(app: Flask) -> None:
    key = refused(app, "/", method="POST", json={"Data": {"Per\nmissions": []}})
    assert key.detail.path == "Data.Per\\u000amissions"
    field = refused(app, "/", method="POST", data={"na\tme": "Ada"})
    assert field.detail.path == "na\\u0009me"


def test_a_json_escape_is_told_from_an_escaped_backslash(app: Flask) -> None:
    literal = b'{"Note": "C:\\\\u0000 is a path, not a NUL"}'
    assert refusal(app, "/", method="POST", data=literal, content_type="application/json") is None
    escape = b'{"Note": "a\\u0000b"}'
    found = refused(app, "/", method="POST", data=escape, content_type="application/json")
    assert found.detail.path == "Note"
    upper = b'{"Note": "a\\u001Bb"}'
    assert refused(app, "/", method="POST", data=upper, content_type="application/jose+json")


def test_a_raw_control_byte_in_json_is_no_json(app: Flask) -> None:
    raw = refused(app, "/", method="POST", data=b'{"a": "b\x01"}', content_type="application/json")
    assert (raw.detail.code, raw.detail.path) == ("U010", None)
    utf16 = '{"a": "b"}'.encode("utf-16")
    found = refused(app, "/", method="POST", data=utf16, content_type="application/json")
    assert found.detail.code == "U010"


def test_an_invalid_json_body_is_left_to_its_view(app: Flask) -> None:
    broken = b'{"a": "\\u0000'
    assert refusal(app, "/", method="POST", data=broken, content_type="application/json") is None


def test_multipart_fields_and_file_names(app: Flask) -> None:
    def upload(name: str, filename: str) -> dict[str, Any]:
        # A file's content is the file's: any bytes.
        return {"file": (io.BytesIO(b"\x00\x01 any bytes"), filename), "name": name}

    assert refusal(app, "/", method="POST", data=upload("Ada", "keys.json")) is None
    field = refused(app, "/", method="POST", data=upload("Ada\x00", "keys.json"))
    assert field.detail.path == "name"
    file_name = refused(app, "/", method="POST", data=upload("Ada", "ke\x1bys.json"))
    assert file_name.detail.path == "file"


def test_a_get_without_a_body_reads_no_body(app: Flask) -> None:
    with app.test_request_context("/consents/aac-1", headers={"Authorization": "DPoP at_x"}):
        inputs.check()
        assert "form" not in request.__dict__ and request.__dict__.get("_cached_data") is None
