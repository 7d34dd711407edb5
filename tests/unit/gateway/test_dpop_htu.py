"""The URI a DPoP proof's htu is compared with (RFC 9449 §4.3 (9)): the request target as the
client sent it, normalised as §4.2 says (RFC 3986 §6.2.2, §6.2.3), and nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from gateway.edge.urls import endpoint_url
from gateway.oauth.dpop import as_uri, normalise_htu


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTPS://Bank.Example/a", "https://bank.example/a"),
        ("https://bank.example:443/a", "https://bank.example/a"),
        ("http://bank.example:80/a", "http://bank.example/a"),
        ("https://bank.example:8443/a", "https://bank.example:8443/a"),
        ("https://bank.example:/a", "https://bank.example/a"),
        ("https://bank.example", "https://bank.example/"),
        ("https://bank.example?x", "https://bank.example/"),
        ("https://bank.example/a?b=1#c", "https://bank.example/a"),
        ("https://bank.example/A", "https://bank.example/A"),
        # Unreserved characters decoded, other encodings in upper case and kept.
        ("https://h/%7e%41%2d%5F%2E%31", "https://h/~A-_.1"),
        ("https://h/a%2fb%3fc%23d%25e", "https://h/a%2Fb%3Fc%23d%25e"),
        ("https://h/%09%0a%20%c3%a9", "https://h/%09%0A%20%C3%A9"),
        # Not decoded twice; dot segments left as the server routes them.
        ("https://h/a%252Fb", "https://h/a%252Fb"),
        ("https://h/a/../b/./c", "https://h/a/../b/./c"),
    ],
)
def test_normalisation(url: str, normalised: str) -> None:
    assert normalise_htu(url) == normalised


@pytest.mark.parametrize(
    "url",
    [
        "/a",  # not absolute
        "https:/a",
        "bank.example/a",
        "https://h/a b",
        "https://h/a\tb",
        "https://h/a\nb",
        "https://h/a\x00b",
        "https://h/café",
        "https://h/a%zzb",
        "https://h/a%2",
        "",
    ],
)
def test_what_is_not_an_absolute_uri_normalises_to_nothing(url: str) -> None:
    assert normalise_htu(url) is None


@pytest.mark.parametrize(
    ("target", "uri"),
    [
        ("https://h/a%3Fb", "https://h/a%3Fb"),
        ("https://h/a b", "https://h/a%20b"),
        ("https://h/a%zz", "https://h/a%25zz"),
        ("https://h/a{b}", "https://h/a%7Bb%7D"),
        # WSGI hands a target's raw octets over as Latin-1 characters.
        ("https://h/caf\xc3\xa9", "https://h/caf%C3%A9"),
    ],
)
def test_a_target_is_made_a_uri_by_percent_encoding(target: str, uri: str) -> None:
    assert as_uri(target) == uri
    assert normalise_htu(as_uri(target)) is not None


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask("urls")
    app.config["ISSUER"] = "https://bank.example"
    yield app


def _endpoint(app: Flask, path: str, **environ: Any) -> str:
    with app.test_request_context(path, environ_overrides=environ):
        return endpoint_url()


@pytest.mark.parametrize(
    ("path", "environ", "url"),
    [
        # werkzeug's test client, like its server and gunicorn, gives the target as sent.
        ("/a%3Fb%2Fc?q=1", {}, "https://bank.example/a%3Fb%2Fc"),
        ("/a%23b", {"RAW_URI": "/a%23b"}, "https://bank.example/a%23b"),
        ("/a%23b", {"RAW_URI": "", "REQUEST_URI": "/a%23b"}, "https://bank.example/a%23b"),
        # RFC 9112 §3.2.2: the absolute form a proxy is sent.
        ("/a", {"RAW_URI": "http://internal:8000/a%3Fb?q"}, "https://bank.example/a%3Fb"),
        ("/a", {"RAW_URI": "http://internal:8000"}, "https://bank.example/"),
        # Served below a root: the root is the issuer's.
        ("/t", {"RAW_URI": "/gw/t%3F", "SCRIPT_NAME": "/gw"}, "https://bank.example/t%3F"),
        # No target as sent: the decoded path encoded again (a %2F is lost).
        ("/a%3Fb%2Fc", {"RAW_URI": "", "REQUEST_URI": ""}, "https://bank.example/a%3Fb/c"),
    ],
)
def test_endpoint_url_is_the_issuer_and_the_target_as_sent(
    app: Flask, path: str, environ: dict[str, str], url: str
) -> None:
    assert _endpoint(app, path, **environ) == url


@pytest.mark.parametrize("octet", ["%09", "%0A", "%3F", "%23", "%2F"])
def test_an_encoded_octet_stays_encoded_and_names_another_uri(octet: str) -> None:
    sent = normalise_htu(f"https://h/a{octet}b")
    assert sent == f"https://h/a{octet}b"
    decoded = normalise_htu(f"https://h/a{bytes.fromhex(octet[1:]).decode()}b")
    assert decoded != sent
    assert normalise_htu("https://h/ab") != sent
