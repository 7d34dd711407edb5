"""What every resource API shares: request parsing into OBIE errors, the Data/Links/Meta
envelope, and the FAPI request headers."""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_from_bytes, unquote_plus, urlencode

from flask import request
from marshmallow import Schema, ValidationError

from gateway.core.money import Money
from gateway.edge.context import this_request
from gateway.edge.errors import ApiError, ErrorDetail
from gateway.edge.urls import issuer

# RFC 3986 §3.3 and §3.4: the characters a path and a query carry unescaped ("%" in the query
# keeps the escapes a partner sent).
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = _PATH_SAFE + "?%"
_STRAY_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")
# What a JSON response is (the OBIE files name both; the text is UTF-8, RFC 8259 §8.1).
_JSON_MEDIA_TYPES = ("application/json", "application/json; charset=utf-8")
# The Accept headers nearly every call sends, which admit JSON without being parsed.
_PLAIN_ACCEPTS = frozenset({"application/json", "*/*"})
# The pattern of x-fapi-auth-date in the OBIE v4.0 files.
_HTTP_DATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC)",
    re.ASCII,
)
_MISSING = "Missing data for required field."
_UNKNOWN = "Unknown field."


def _details(messages: Any, path: str = "") -> list[ErrorDetail]:
    """Flatten marshmallow's nested messages into OBIE error details with JSON paths."""
    details: list[ErrorDetail] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            child = f"{path}.{key}" if path and not isinstance(key, int) else path or str(key)
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif key == "_schema":
                child = path  # a rule about the object as a whole is about the object's path
            details.extend(_details(value, child))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            # U004 Field.Missing, U005 Field.Unexpected, U002 Field.Invalid.
            code = "U004" if message == _MISSING else "U005" if message == _UNKNOWN else "U002"
            details.append(ErrorDetail(code, message, path or None))
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            details.extend(_details(value, f"{path}[{index}]"))
    return details


def parse_json(schema: Schema) -> dict[str, Any]:
    """Parse and validate the JSON body with ``schema``; any problem is a 400 OBIE error."""
    if not request.is_json:
        raise ApiError.one(
            "U006", "The body must be application/json", path="Content-Type", status=415
        )
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError.one("U010", "The body is not valid JSON")
    try:
        data: dict[str, Any] = schema.load(body)
    except ValidationError as exc:
        details = _details(exc.messages) or [ErrorDetail("U010", "The body does not match")]
        raise ApiError(*details[:20]) from None
    return data


def accepts_json() -> None:
    """406 unless the ``Accept`` header (if any) admits ``application/json``: the OBIE v4.0 files
    list 406 Not Acceptable for every operation. Operations that answer a file negotiate their
    own media type."""
    sent = request.headers.get("Accept")
    if not sent or sent in _PLAIN_ACCEPTS:
        return
    accept = request.accept_mimetypes
    if accept and accept.best_match(_JSON_MEDIA_TYPES) is None:
        raise ApiError.one("U006", "The response is application/json", path="Accept", status=406)


def check_fapi_headers() -> None:
    """Validate the optional FAPI headers the partner sends on behalf of the customer."""
    headers = request.headers
    auth_date = headers.get("x-fapi-auth-date")
    # x-fapi-auth-date is an RFC 7231 HTTP-date (e.g. Sun, 10 Sep 2017 19:43:31 GMT), of the
    # pattern the OBIE v4.0 files give it, and a real date.
    if auth_date is not None:
        try:
            if not _HTTP_DATE.fullmatch(auth_date):
                raise ValueError(auth_date)
            email.utils.parsedate_to_datetime(auth_date)
        except (TypeError, ValueError, OverflowError):
            raise ApiError.one(
                "U006", "x-fapi-auth-date must be an HTTP-date", path="x-fapi-auth-date"
            ) from None
    address = headers.get("x-fapi-customer-ip-address")
    if address is not None:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ApiError.one(
                "U006",
                "x-fapi-customer-ip-address must be an IP address",
                path="x-fapi-customer-ip-address",
            ) from None


def iso(value: dt.datetime) -> str:
    """An ISO 8601 date-time with its UTC offset, as OBIE requires in responses."""
    if value.tzinfo is not dt.UTC:
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        value = aware.astimezone(dt.UTC)
    return value.isoformat(timespec="seconds")


def public_url(path: str | None = None, query: str | None = None) -> str:
    """An absolute URI of a resource as partners reach it: the issuer (``GATEWAY_ISSUER``, the
    gateway's public base URL, also behind a proxy), then ``path`` and ``query``; by default this
    request's path and query as the partner sent them."""
    req = this_request()
    url = issuer(req) + quote(req.path if path is None else path, safe=_PATH_SAFE)
    if path is None and query is None:
        sent = _query_as_sent(req.query_string)
        return f"{url}?{sent}" if sent else url
    return f"{url}?{quote(query, safe=_QUERY_SAFE)}" if query else url


def this_url_with(name: str, value: str) -> str:
    """This request's public URI with its query as the partner sent it (every parameter, in
    order, repeated ones too), but parameter ``name`` set to ``value`` (at the end)."""
    # Compared as the server reads names (decoded), or "pag%65=" would survive beside "page=".
    kept = b"&".join(
        part
        for part in request.query_string.split(b"&")
        if part and unquote_plus(part.split(b"=")[0].decode("latin-1")) != name
    )
    query = "&".join(q for q in (_query_as_sent(kept), urlencode({name: value})) if q)
    return f"{public_url(request.path)}?{query}"


def _query_as_sent(raw: bytes) -> str:
    sent = quote_from_bytes(raw, safe=_QUERY_SAFE)
    # A "%" that starts no escape is a literal one: escaped, or the URI would not parse.
    return _STRAY_PERCENT.sub("%25", sent)


def envelope(
    data: dict[str, Any],
    *,
    meta: dict[str, Any] | None = None,
    self_url: str | None = None,
    **links: str,
) -> dict[str, Any]:
    """The OBIE response envelope: Data, Links (Self, this request's URI unless ``self_url``
    names the resource, and any others) and Meta (a single page unless ``meta`` says
    otherwise)."""
    return {
        "Data": data,
        "Links": {"Self": self_url or public_url(), **links},
        "Meta": {"TotalPages": 1} if meta is None else meta,
    }


def amount(money: Money) -> dict[str, str]:
    """An OBIE amount object: the absolute value as a decimal string, and the currency."""
    return {"Amount": f"{abs(money.amount):f}", "Currency": money.currency}


def credit_debit(money: Money) -> str:
    """OBIE's indicator of a balance's sign: a zero balance is a credit balance."""
    return "Debit" if money.amount < 0 else "Credit"
