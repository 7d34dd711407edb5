"""Client keys (:mod:`partners.jwks`): which JWKS an app may register, and the guards around
fetching a ``jwks_uri`` (https only, public addresses only, pinned address with the certificate
checked for the host name, no redirects, bounded size and time).

The fetch tests run a local HTTPS server on 127.0.0.1 with a certificate issued in the test for
``jwks.test``; the resolver is injected, and loopback is allowed only through the test-only
``allow_addresses`` parameter.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from partners.errors import PartnerError
from partners.jwks import (
    MAX_KEYS,
    address_refused,
    check_jwks,
    check_jwks_uri,
    fetch_jwks,
)

# --- key sets -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


def _public(key: RSAKey | ECKey | OKPKey, **extra: str) -> dict[str, Any]:
    data = dict(key.as_dict(private=False))
    data.update(extra)
    return data


def _ec(kid: str = "ec-1", crv: str = "P-256") -> dict[str, Any]:
    return _public(ECKey.generate_key(crv), kid=kid)  # type: ignore[arg-type]


def _invalid(data: Any) -> PartnerError:
    with pytest.raises(PartnerError) as info:
        check_jwks(data)
    assert info.value.code == "invalid_jwks"
    return info.value


def test_public_rsa_and_ec_keys_are_accepted(rsa_key: RSAKey) -> None:
    keys = [_public(rsa_key, kid="rsa-1", alg="PS256", use="sig"), _ec(), _ec("ec-2")]
    data = {"keys": keys}
    checked = check_jwks(data)
    assert checked == {"keys": keys}
    assert checked["keys"][0] is not keys[0]  # a copy: later edits of the input change nothing


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_any_private_member_is_refused(rsa_key: RSAKey, member: str) -> None:
    key = _public(rsa_key, kid="rsa-1")
    key[member] = "AQAB"
    assert member in _invalid({"keys": [key]}).message


def test_a_full_private_key_is_refused(rsa_key: RSAKey) -> None:
    private = dict(rsa_key.as_dict(private=True), kid="rsa-1")
    assert "public keys only" in _invalid({"keys": [private]}).message


def test_symmetric_and_okp_keys_are_refused() -> None:
    oct_key = dict(OctKey.generate_key(256).as_dict(), kid="oct")
    okp_key = _public(OKPKey.generate_key("Ed25519"), kid="okp")
    assert "k" in _invalid({"keys": [oct_key]}).message
    assert "kty must be RSA or EC" in _invalid({"keys": [okp_key]}).message


def _modulus(bits: int) -> str:
    n = (1 << (bits - 1)) | 1
    return base64.urlsafe_b64encode(n.to_bytes((bits + 7) // 8, "big")).rstrip(b"=").decode()


def test_rsa_keys_below_2048_bits_are_refused(rsa_key: RSAKey) -> None:
    # Built by hand: importing a small key would (rightly) warn, and warnings are errors here.
    small = {"kty": "RSA", "kid": "small", "e": "AQAB", "n": _modulus(2047)}
    assert "2048" in _invalid({"keys": [small]}).message
    assert "2048" in _invalid({"keys": [dict(small, n=_modulus(1024))]}).message
    at_limit = dict(small, n=_modulus(2048))
    assert check_jwks({"keys": [at_limit]}) == {"keys": [at_limit]}


def test_ec_keys_on_other_curves_are_refused() -> None:
    assert "P-256" in _invalid({"keys": [_ec(crv="P-384")]}).message


@pytest.mark.parametrize(
    ("kty", "alg"), [("RSA", "RS256"), ("RSA", "ES256"), ("EC", "ES384"), ("EC", "none")]
)
def test_algorithms_outside_fapi_are_refused(rsa_key: RSAKey, kty: str, alg: str) -> None:
    key = _public(rsa_key, kid="k") if kty == "RSA" else _ec("k")
    key["alg"] = alg
    assert "must have alg" in _invalid({"keys": [key]}).message


def test_every_key_needs_its_own_kid(rsa_key: RSAKey) -> None:
    no_kid = _public(rsa_key)
    no_kid.pop("kid", None)
    assert "kid" in _invalid({"keys": [no_kid]}).message
    assert "kid" in _invalid({"keys": [_ec(kid="")]}).message
    assert "own 'kid'" in _invalid({"keys": [_ec("same"), _ec("same")]}).message


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "keys",
        {},
        {"keys": {}},
        {"keys": []},
        {"keys": ["not a key"]},
        {"keys": [{"kty": "EC", "crv": "P-256", "kid": "bad", "x": "AAAA", "y": "AAAA"}]},
        {"keys": [{"kty": "RSA", "kid": "bad", "e": "AQAB", "n": "!!!" * 200}]},
        {"keys": [{"kty": "EC", "crv": "P-256", "kid": "nox"}]},
    ],
)
def test_malformed_key_sets_are_refused(data: Any) -> None:
    _invalid(data)


def test_at_most_ten_keys() -> None:
    keys = [_ec(f"ec-{i}") for i in range(MAX_KEYS + 1)]
    assert check_jwks({"keys": keys[:MAX_KEYS]})["keys"] == keys[:MAX_KEYS]
    assert "at most" in _invalid({"keys": keys}).message


# --- addresses and URIs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",  # cloud metadata service
        "0.0.0.0",  # noqa: S104 - an address under test, nothing binds to it
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",  # unique local (ULA)
        "ff02::1",
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_refused(ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not address_refused(ip_address(address))


def test_jwks_uri_shape() -> None:
    assert check_jwks_uri("https://keys.example.com/jwks.json") == (
        "https://keys.example.com/jwks.json"
    )
    for uri in [
        "http://keys.example.com/jwks",
        "https://user:pw@keys.example.com/jwks",
        "https://keys.example.com/jwks#frag",
        "https:///jwks",
        "https://keys.example.com:99999/jwks",
        "https://10.0.0.1/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/jwks",
        "file:///etc/passwd",
        "https://keys.example.com/" + "a" * 600,
        "",
    ]:
        with pytest.raises(PartnerError) as info:
            check_jwks_uri(uri)
        assert info.value.code == "invalid_jwks_uri", uri


# --- fetching: guards before any connection -------------------------------------------------


class Resolver:
    """A getaddrinfo stand-in that answers fixed addresses and counts its calls."""

    def __init__(self, *addresses: str, port: int = 443) -> None:
        self.addresses = addresses
        self.port = port
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[tuple[Any, ...]]:
        self.calls.append((host, port))
        answers: list[tuple[Any, ...]] = []
        for address in self.addresses:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers


def _fetch_refused(uri: str, **kwargs: Any) -> PartnerError:
    with pytest.raises(PartnerError) as info:
        fetch_jwks(uri, **kwargs)
    return info.value


def test_fetch_refuses_http_without_resolving() -> None:
    resolver = Resolver("93.184.215.14")
    error = _fetch_refused("http://keys.example.com/jwks", resolver=resolver)
    assert error.code == "invalid_jwks_uri"
    assert "https" in error.message
    assert resolver.calls == []


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.5",),
        ("127.0.0.1",),
        ("169.254.169.254",),
        ("fe80::1%1",),
        ("fd00::1",),
        ("::ffff:192.168.0.1",),
        ("::1",),
        ("93.184.215.14", "10.0.0.5"),  # one internal address among public ones is enough
    ],
)
def test_fetch_refuses_hosts_resolving_to_non_public_addresses(addresses: tuple[str, ...]) -> None:
    resolver = Resolver(*addresses)
    error = _fetch_refused("https://keys.example.com/jwks", resolver=resolver)
    assert error.code == "invalid_jwks_uri"
    assert "non-public" in error.message
    assert resolver.calls == [("keys.example.com", 443)]


def test_fetch_refuses_hosts_that_do_not_resolve() -> None:
    def failing(host: str, port: int) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert "does not resolve" in _fetch_refused("https://nx.example/jwks", resolver=failing).message
    empty = Resolver()
    assert "does not resolve" in _fetch_refused("https://nx.example/", resolver=empty).message


# --- fetching from a local HTTPS server -----------------------------------------------------


def _issue_certificates(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A test CA (written to ``ca.pem``) and a server context with its certificate for
    ``jwks.test``."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwks.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("jwks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return ca_file, context


class _Handler(BaseHTTPRequestHandler):
    server: KeyServer

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        body, status, headers = self.server.routes.get(self.path, (b"", 404, {}))
        if self.path == "/drip":
            self._drip()
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers and self.path != "/unsized":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            for _ in range(100):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``server.requests`` instead."""


class KeyServer(ThreadingHTTPServer):
    """An HTTPS server on 127.0.0.1 that answers fixed routes and records what it was asked."""

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls = tls
        self.requests: list[tuple[str, str]] = []
        self.routes: dict[str, tuple[bytes, int, dict[str, str]]] = {}

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(5)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except OSError:  # the client refused our certificate: nothing to serve
            request.close()
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except OSError:
            pass
        finally:
            conn.close()


@pytest.fixture(scope="module")
def key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KeyServer, str]]:
    ca_file, tls = _issue_certificates(tmp_path_factory.mktemp("tls"))
    server = KeyServer(tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, str(ca_file)
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def served(
    key_server: tuple[KeyServer, str], rsa_key: RSAKey
) -> tuple[KeyServer, str, Resolver, dict[str, Any]]:
    server, ca_file = key_server
    server.requests.clear()
    jwks = {"keys": [_public(rsa_key, kid="rsa-1"), _ec("ec-1")]}
    body = json.dumps(jwks).encode()
    server.routes = {
        "/jwks": (body, 200, {"Content-Type": "application/jwk-set+json"}),
        "/redirect": (b"", 302, {"Location": "/jwks"}),
        "/notjson": (b"<html>hello</html>", 200, {}),
        "/private": (
            json.dumps({"keys": [dict(rsa_key.as_dict(private=True), kid="x")]}).encode(),
            200,
            {},
        ),
        "/big": (b" " * 2000 + body, 200, {}),
        "/unsized": (b" " * 2000 + body, 200, {"Connection": "close"}),
        "/exact": (body + b" " * (1000 - len(body)), 200, {}),
    }
    return server, ca_file, Resolver("127.0.0.1"), jwks


def _local(
    served: tuple[KeyServer, str, Resolver, dict[str, Any]], path: str, **kwargs: Any
) -> dict[str, Any]:
    server, ca_file, resolver, _ = served
    options: dict[str, Any] = {
        "resolver": resolver,
        "allow_addresses": {"127.0.0.1"},
        "ca_file": ca_file,
        "timeout": 5.0,
    }
    options.update(kwargs)
    host = options.pop("host", "jwks.test")
    return fetch_jwks(f"https://{host}:{server.server_address[1]}{path}", **options)


def _local_refused(served: Any, path: str, **kwargs: Any) -> PartnerError:
    with pytest.raises(PartnerError) as info:
        _local(served, path, **kwargs)
    return info.value


def test_fetch_returns_the_checked_key_set_from_the_pinned_address(served: Any) -> None:
    server, _, resolver, jwks = served
    assert _local(served, "/jwks") == jwks
    port = server.server_address[1]
    # One DNS lookup, and the request carried the host name while going to the checked address.
    assert resolver.calls == [("jwks.test", port)]
    assert server.requests == [("/jwks", f"jwks.test:{port}")]


def test_loopback_is_refused_unless_the_test_allows_it(served: Any) -> None:
    error = _local_refused(served, "/jwks", allow_addresses=())
    assert "non-public" in error.message
    assert served[0].requests == []


def test_the_certificate_must_be_trusted_and_name_the_host(served: Any) -> None:
    untrusted = _local_refused(served, "/jwks", ca_file=None)
    assert untrusted.code == "invalid_jwks_uri"
    assert "TLS" in untrusted.message
    # The connection goes to 127.0.0.1, yet the certificate is checked for the URL's host.
    wrong_host = _local_refused(served, "/jwks", host="other.test")
    assert "TLS" in wrong_host.message
    assert served[0].requests == []


def test_redirects_are_not_followed(served: Any) -> None:
    error = _local_refused(served, "/redirect")
    assert error.code == "invalid_jwks_uri"
    assert "redirect" in error.message
    assert [path for path, _ in served[0].requests] == ["/redirect"]


def test_a_status_other_than_200_is_refused(served: Any) -> None:
    assert "HTTP 404" in _local_refused(served, "/missing").message


def test_bodies_over_the_limit_are_refused(served: Any) -> None:
    assert "larger than 1000" in _local_refused(served, "/big", max_bytes=1000).message
    # Without a Content-Length the limit holds while reading.
    assert "larger than 1000" in _local_refused(served, "/unsized", max_bytes=1000).message
    assert _local(served, "/exact", max_bytes=1000) == served[3]


def test_the_body_must_be_an_acceptable_jwks(served: Any) -> None:
    not_json = _local_refused(served, "/notjson")
    assert not_json.code == "invalid_jwks"
    assert "JSON" in not_json.message
    private = _local_refused(served, "/private")
    assert private.code == "invalid_jwks"
    assert "public keys only" in private.message


def test_a_slow_body_is_cut_at_the_deadline(served: Any) -> None:
    started = time.monotonic()
    error = _local_refused(served, "/drip", timeout=0.5)
    elapsed = time.monotonic() - started
    assert error.code == "invalid_jwks_uri"
    assert "within 0.5 seconds" in error.message
    assert elapsed < 2.0  # the server would drip for 5 seconds


def test_a_server_that_never_answers_times_out(served: Any) -> None:
    _, ca_file, _, _ = served
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never accepts
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(PartnerError) as info:
            fetch_jwks(
                f"https://jwks.test:{port}/jwks",
                timeout=0.3,
                resolver=Resolver("127.0.0.1"),
                allow_addresses={"127.0.0.1"},
                ca_file=ca_file,
            )
        elapsed = time.monotonic() - started
    assert info.value.code == "invalid_jwks_uri"
    assert "within 0.3 seconds" in info.value.message
    assert elapsed < 2.0
