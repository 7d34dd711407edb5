"""No control characters past the edge: the path, the query, the headers, the Basic credentials
and the fields of a form or JSON body of every request are checked once, before any layer reads
them, and a request that carries one is refused with a 400 (:class:`InputRefused`, answered in
the format of the endpoint's family).

What is refused depends on what a value can be:

* Identifiers (the URL path, query parameter names and values, the decoded Basic credentials,
  form field names, file names and JSON object keys): every control character, C0
  (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F). None belongs in a URI, decoded or not
  (RFC 3986 §2 builds it from printable characters), nor in a client id or secret (RFC 6749
  Appendix A: VSCHAR, %x20-7E), a date, a cursor or an id the gateway issues.
* Header fields: C0 but HTAB, and DEL. RFC 9110 §5.5 makes a field value of VCHAR, SP, HTAB and
  obs-text (%x80-FF): CR, LF and NUL are "invalid and dangerous" and MUST be rejected (or
  replaced), the other controls are outside the grammar. obs-text stays allowed: Werkzeug reads
  header bytes as Latin-1, so UTF-8 text in a header arrives with characters of U+0080-U+009F.
* Free text (form field values, JSON string values): C0 but TAB, LF and CR, DEL and C1. What a
  person types (the portal's names, redirect URIs one a line, a pasted JWKS) and JSON text in a
  field (the OIDC ``claims`` parameter) may hold tabs and line breaks; the rest of C0 is no text,
  nor are DEL and C1 (U+009B is a terminal's escape introducer: not for our logs). RFC 8259 §7
  makes JSON escape U+0000-U+001F inside strings, so in a JSON body they come as ``\\u0000``
  escapes; unescaped, only TAB, LF and CR may stand between JSON tokens (§2), and a body in
  UTF-16 or UTF-32 (all NUL bytes to this check) is no JSON a partner may send (§8.1: UTF-8).

The edge cannot tell a body field that is an identifier from free text: such a field (a form's
``client_id``) may hold a line break past this check, and is held to its own grammar by the
endpoint that reads it. NUL never passes anywhere: PostgreSQL cannot store it in text (a 500
before this check).

This runs on every request, so each carrier first gets a test done in C that passes what is
clean (a few microseconds for a DPoP-bound GET and its kilobyte of headers, about what assigning
the interaction id costs; ``benchmarks/bench_inputs.py`` measures it). A query string is decoded
only when it holds a ``%`` or an unprintable character; a form is parsed only when the request
has one, and kept for the view; a JSON body is scanned as bytes and parsed here only when the scan
finds a suspect sequence (the parse is kept for the view too, so no body is parsed twice).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import unquote

from flask import Request, request

from gateway.edge.errors import InputRefused

IDENTIFIER = re.compile("[\x00-\x1f\x7f-\x9f]")
HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A JSON body's bytes that may carry a control character in a key or a string: a raw C0 byte
# other than the whitespace JSON allows, a raw DEL, a C1 character in UTF-8, or the escape of
# any control (RFC 8259 §7: \b \f \n \r \t or \u00XX; a key refuses even a line break). An
# escaped backslash before "u0000" is no escape: the parse that follows tells them apart.
_JSON_RAW = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_JSON_SUSPECT = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]"
    rb"|\\(?:[bfnrt]|u00(?:[01][0-9a-fA-F]|7[fF]|[89][0-9a-fA-F]))"
)
# The bytes a header field may hold (RFC 9110 §5.5: HTAB, SP, VCHAR, obs-text).
_HEADER_BYTES = b"\t" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_is_str = str.__instancecheck__
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# The CGI names of the two headers that do not start with HTTP_.
_PLAIN_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


def check() -> None:
    """Refuse this request if it carries a control character where none may be (see the
    module's docstring); raise :class:`InputRefused` naming where."""
    # Each carrier has a fast test, done in C, that any character it refuses fails (every
    # control character is unprintable to str.isprintable()); the regular expressions then say
    # which character, and where. The headers are tested at once, with every other string of the
    # WSGI environ (the server's own: a leftover there is no refusal), as Latin-1 bytes, the
    # bytes they came as (PEP 3333), less those a header may hold: a few hundred nanoseconds for
    # the kilobyte of a DPoP-bound call's token and proof.
    current: Request = request._get_current_object()  # type: ignore[attr-defined]
    environ = current.environ
    path = current.path
    if not path.isprintable():
        _check_path(path)
    query = environ.get("QUERY_STRING")
    if query and ("%" in query or not query.isprintable()):
        _check_query()
    fields = "".join(filter(_is_str, environ.values())) + "".join(environ)
    if fields.encode("latin-1", "replace").translate(None, _HEADER_BYTES):
        _check_headers(environ)
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization and authorization[:6].lower() == "basic ":
        _check_basic(authorization[6:])
    if environ.get("CONTENT_TYPE"):
        _check_body()


def _shown(name: str) -> str:
    """``name`` as a message may show it: its control characters as escapes."""
    return IDENTIFIER.sub(lambda m: f"\\u{ord(m.group()):04x}", name)[:100]


def _refuse(where: str, char: str, *, code: str = "U002", path: str | None = None) -> NoReturn:
    message = f"The control character U+{ord(char):04X} is not accepted in {where}"
    raise InputRefused(message, code=code, path=path)


def _check_path(path: str) -> None:
    found = IDENTIFIER.search(path)
    if not found:
        return
    # The path parameter that holds it, named as the OBIE files name them (ConsentId).
    name = next(
        (
            "".join(part.capitalize() for part in key.split("_"))
            for key, value in (request.view_args or {}).items()
            if isinstance(value, str) and IDENTIFIER.search(value)
        ),
        None,
    )
    _refuse(f"the path parameter {name}" if name else "the URL path", found.group(), path=name)


def _check_query() -> None:
    for name, value in request.args.items(multi=True):
        found = IDENTIFIER.search(name) or IDENTIFIER.search(value)
        if found:
            shown = _shown(name)
            _refuse(f"the query parameter {shown}", found.group(), path=shown)


def _check_headers(environ: Mapping[str, Any]) -> None:
    """The header fields of the WSGI ``environ`` (CGI names: ``HTTP_ACCEPT``), names and values."""
    for key, value in environ.items():
        if key[:5] != "HTTP_" and key not in _PLAIN_HEADERS:
            continue
        found = HEADER.search(key) or HEADER.search(value)
        if found:
            name = _PLAIN_HEADERS.get(key) or _shown(key[5:].replace("_", "-").lower())
            _refuse(f"the {name} header", found.group(), code="U006", path=name)


def _check_basic(credentials: str) -> None:
    """The Basic credentials as the authorization server reads them (RFC 7617, then RFC 6749
    §2.3.1's form-urlencoding); credentials that do not decode are the endpoint's to refuse."""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return
    found = IDENTIFIER.search(unquote(decoded.replace("+", " ")))
    if found:
        _refuse("the Basic credentials", found.group(), code="U006", path="Authorization")


def _check_body() -> None:
    if request.mimetype in _FORMS:
        _check_form()
    elif request.is_json:
        _check_json(request.get_data(cache=True))


def _check_form() -> None:
    for name, value in request.form.items(multi=True):
        found = IDENTIFIER.search(name) or TEXT.search(value)
        if found:
            shown = _shown(name)
            _refuse(f"the form field {shown}", found.group(), path=shown)
    for name, upload in request.files.items(multi=True):
        found = IDENTIFIER.search(name) or IDENTIFIER.search(upload.filename or "")
        if found:
            shown = _shown(name)
            _refuse(f"the file name of the form field {shown}", found.group(), path=shown)


def _check_json(body: bytes) -> None:
    if not _JSON_SUSPECT.search(body):
        return
    raw = _JSON_RAW.search(body)
    if raw:
        # Unescaped, so no JSON a partner may send (or UTF-16, all NUL bytes to this check).
        _refuse("a JSON body unescaped", chr(raw.group()[0]), code="U010")
    document = request.get_json(silent=True)  # kept for the view
    if document is not None:
        _check_json_values(document)


def _check_json_values(document: Any) -> None:
    """Every key (an identifier) and string value (free text) of a parsed JSON document; the
    first found is refused with its path (``Data.Permissions[0]``)."""
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, str):
            found = TEXT.search(node)
            if found:
                _refuse(path or "the JSON body", found.group(), path=path or None)
        elif isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}.{_shown(key)}" if path else _shown(key)
                found = IDENTIFIER.search(key)
                if found:
                    _refuse(f"the key {child}", found.group(), path=child)
                pending.append((child, value))
        elif isinstance(node, list):
            pending.extend((f"{path}[{index}]", value) for index, value in enumerate(node))
