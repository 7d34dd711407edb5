"""Client keys: checking a JSON Web Key Set (RFC 7517) and fetching one from a ``jwks_uri``.

An app authenticates with ``private_key_jwt`` (RFC 7523) by signing assertions with a private key
whose public half it registers here, inline (``jwks``) or by URL (``jwks_uri``). Only public RSA
(at least 2048 bits) and EC P-256 keys are accepted, the key types of the FAPI 2.0 algorithms
PS256 and ES256.

Fetching a ``jwks_uri`` makes the gateway send a request to a URL a partner chose, so it is guarded
against server-side request forgery: https only, every address the host resolves to must be a
public one, the connection goes to the very address that was checked (no second DNS lookup), the
certificate is verified for the host name, redirects are not followed, and the time and the size
of the answer are bounded.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
from collections.abc import Callable, Collection, Sequence
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey, import_key

from partners.errors import PartnerError

MAX_KEYS = 10
MIN_RSA_BITS = 2048
MAX_URI_LENGTH = 512
# Private key members: RFC 7518 §6.2.2 (EC), §6.3.2 (RSA, including oth), §6.4.1 (oct k).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# FAPI 2.0 Security Profile §5.4: PS256 and ES256 (EdDSA is not offered here).
ALGORITHMS = {"RSA": "PS256", "EC": "ES256"}

# getaddrinfo-shaped: (host, port) -> [(family, type, proto, canonname, sockaddr), ...]
Resolver = Callable[[str, int], Sequence[tuple[Any, Any, Any, Any, tuple[Any, ...]]]]

_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))


def _invalid(message: str, field: str = "jwks") -> PartnerError:
    return PartnerError("invalid_jwks", message, field=field)


def _modulus_bits(n: object) -> int:
    if not isinstance(n, str):
        raise _invalid("An RSA key needs its modulus 'n'")
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except ValueError:
        raise _invalid("The RSA modulus 'n' is not base64url") from None
    return int.from_bytes(raw, "big").bit_length()


def check_jwk(key: object) -> dict[str, Any]:
    """Return a copy of one public JWK that an app may register, else raise ``invalid_jwks``."""
    if not isinstance(key, dict):
        raise _invalid("Each key must be a JSON object")
    private = sorted(PRIVATE_MEMBERS & key.keys())
    # OpenID Connect Dynamic Client Registration 1.0 §2: "The JWK Set MUST NOT contain private
    # or symmetric key values."
    if private:
        raise _invalid(f"Register public keys only: remove {', '.join(private)}")
    kid = key.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 128:
        raise _invalid("Each key needs a 'kid' of 1 to 128 characters")
    kty = key.get("kty")
    if kty == "RSA":
        # FAPI 2.0 Security Profile §5.4: RSA keys shall have a minimum length of 2048 bits.
        if _modulus_bits(key.get("n")) < MIN_RSA_BITS:
            raise _invalid(f"Key {kid!r}: RSA keys must have at least {MIN_RSA_BITS} bits")
    elif kty == "EC":
        if key.get("crv") != "P-256":
            raise _invalid(f"Key {kid!r}: EC keys must use the curve P-256")
    else:
        raise _invalid(f"Key {kid!r}: kty must be RSA or EC")
    alg = key.get("alg")
    if alg is not None and alg != ALGORITHMS[kty]:
        raise _invalid(f"Key {kid!r}: a {kty} key must have alg {ALGORITHMS[kty]}")
    try:
        imported = import_key(key, kty)
    except (JoseError, ValueError, TypeError, KeyError):
        raise _invalid(f"Key {kid!r} is not a valid {kty} public key") from None
    if imported.is_private or not isinstance(imported, RSAKey | ECKey):
        raise _invalid(f"Key {kid!r}: register public keys only")
    return dict(key)


def check_jwks(data: object) -> dict[str, Any]:
    """Return ``{"keys": [...]}`` if ``data`` is a JWKS an app may register, else raise
    ``invalid_jwks``.

    A JSON object with 1 to :data:`MAX_KEYS` public RSA (>= 2048 bits) or EC P-256 keys, each with
    a unique ``kid``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise _invalid('A JWKS is a JSON object with a "keys" array')
    keys: list[object] = data["keys"]
    if not keys:
        raise _invalid("The JWKS has no keys")
    if len(keys) > MAX_KEYS:
        raise _invalid(f"A JWKS may hold at most {MAX_KEYS} keys")
    checked = [check_jwk(key) for key in keys]
    kids = [key["kid"] for key in checked]
    if len(set(kids)) != len(kids):
        raise _invalid("Each key needs its own 'kid'")
    try:
        KeySet.import_key_set({"keys": checked})
    except (JoseError, ValueError, TypeError, KeyError):
        raise _invalid("The key set cannot be imported") from None
    return {"keys": checked}


def address_refused(address: IPv4Address | IPv6Address) -> bool:
    """Return whether the gateway must not connect to ``address`` (any non-public address)."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and any(address in net for net in _NAT64):
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and address_refused(embedded):
            return True
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _parse_address(value: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(value.split("%", 1)[0])
    except ValueError:
        return None


def check_jwks_uri(uri: str) -> str:
    """Return ``uri`` if it may be registered as a ``jwks_uri``, else raise ``invalid_jwks_uri``.

    Checks the shape only (https, a host, no user information or fragment); the addresses the
    host resolves to are checked when the keys are fetched.
    """

    def refuse(message: str) -> PartnerError:
        return PartnerError("invalid_jwks_uri", message, field="jwks_uri")

    if not isinstance(uri, str) or not uri:
        raise refuse("jwks_uri must be a URL")
    if len(uri) > MAX_URI_LENGTH or not all("!" <= char <= "~" for char in uri):
        raise refuse(f"jwks_uri must be printable ASCII of at most {MAX_URI_LENGTH} characters")
    parts = urlsplit(uri)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise refuse("jwks_uri has an invalid port") from None
    # OpenID Connect Dynamic Client Registration 1.0 §2: jwks_uri "MUST use the https scheme".
    if parts.scheme != "https":
        raise refuse("jwks_uri must use https")
    if not parts.hostname or "@" in parts.netloc or "#" in uri:
        raise refuse("jwks_uri must name a host, without user information or fragment")
    literal = _parse_address(parts.hostname)
    if literal is not None and address_refused(literal):
        raise refuse("jwks_uri must not point to a private or reserved address")
    return uri


def _resolve(
    host: str, port: int, resolver: Resolver, allow_addresses: Collection[str]
) -> list[str]:
    try:
        answers = resolver(host, port)
    except (OSError, UnicodeError):
        raise PartnerError("invalid_jwks_uri", f"{host} does not resolve", "jwks_uri") from None
    addresses: list[str] = []
    for family, _type, _proto, _name, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        parsed = _parse_address(str(sockaddr[0]))
        if parsed is None:
            continue
        text = str(parsed)
        # Refuse the host if ANY of its addresses is not public: a DNS answer mixing a public
        # and an internal address must not let a retry reach the internal one.
        if text not in allow_addresses and address_refused(parsed):
            raise PartnerError(
                "invalid_jwks_uri", f"{host} resolves to a non-public address", "jwks_uri"
            )
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise PartnerError("invalid_jwks_uri", f"{host} does not resolve", "jwks_uri")
    return addresses


class _DeadlineSSLSocket(ssl.SSLSocket):
    """A TLS socket whose reads all end by one deadline, however slowly the server drips bytes."""

    deadline = float("inf")

    def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
        """Read into ``buffer``, waiting no later than :attr:`deadline`."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        self.settimeout(remaining)
        return super().recv_into(buffer, nbytes, flags)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to ``host`` made to an address resolved and checked beforehand.

    The ``Host`` header, SNI and certificate check use the host name; the TCP connection goes to
    ``address``, so a DNS answer that changes between check and connect (rebinding) has no effect.
    """

    def __init__(
        self, host: str, port: int, *, address: str, tls: ssl.SSLContext, deadline: float
    ) -> None:
        super().__init__(host, port, context=tls)
        self.address = address
        self.tls = tls
        self.deadline = deadline
        self.pinned: ssl.SSLSocket | None = None

    def connect(self) -> None:
        """Connect to the pinned address and verify the certificate for the host name."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        raw = socket.create_connection((self.address, self.port), remaining)
        try:
            self.tls.sslsocket_class = _DeadlineSSLSocket
            self.pinned = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        if isinstance(self.pinned, _DeadlineSSLSocket):
            self.pinned.deadline = self.deadline
        self.sock = self.pinned


def _fetch_failed(uri: str, reason: str) -> PartnerError:
    return PartnerError("invalid_jwks_uri", f"Could not fetch {uri}: {reason}", "jwks_uri")


def _get(
    conn: _PinnedHTTPSConnection, uri: str, target: str, timeout: float, max_bytes: int
) -> bytes:
    """GET ``target`` on ``conn``: the body of a 200 of at most ``max_bytes``, or
    ``invalid_jwks_uri`` naming what went wrong."""
    response: http.client.HTTPResponse | None = None
    try:
        conn.request(
            "GET", target, headers={"Accept": "application/jwk-set+json, application/json"}
        )
        response = conn.getresponse()
        if 300 <= response.status < 400:
            raise _fetch_failed(
                uri, f"it redirected (HTTP {response.status}); redirects are not followed"
            )
        if response.status != 200:
            raise _fetch_failed(uri, f"HTTP {response.status}")
        declared = response.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise _fetch_failed(uri, f"the key set is larger than {max_bytes} bytes")
        body = response.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise _fetch_failed(uri, f"the key set is larger than {max_bytes} bytes")
        return body
    except TimeoutError:
        raise _fetch_failed(uri, f"no complete answer within {timeout} seconds") from None
    except ssl.SSLError as exc:
        reason = f"TLS failed ({exc.reason or exc.__class__.__name__})"
        raise _fetch_failed(uri, reason) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _fetch_failed(uri, exc.__class__.__name__) from None
    finally:
        if response is not None:
            response.close()
        conn.close()
        if conn.pinned is not None:
            conn.pinned.close()


def fetch_jwks(
    uri: str,
    *,
    timeout: float = 3.0,
    max_bytes: int = 64_000,
    resolver: Resolver = socket.getaddrinfo,
    allow_addresses: Collection[str] = (),
    ca_file: str | None = None,
) -> dict[str, Any]:
    """Fetch the JWKS at ``uri`` and return it checked by :func:`check_jwks`.

    Raise ``invalid_jwks_uri`` if the URL is refused or the fetch fails (non-public address, TLS
    failure, a status other than 200 including redirects, a body over ``max_bytes``, more than
    ``timeout`` seconds in all) and ``invalid_jwks`` if the body is not an acceptable JWKS.
    ``allow_addresses`` and ``ca_file`` exist for tests against a local server; production
    callers leave them at their defaults.
    """
    check_jwks_uri(uri)
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = parts.port or 443
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    deadline = time.monotonic() + timeout
    addresses = _resolve(host, port, resolver, allow_addresses)
    tls = ssl.create_default_context(cafile=ca_file)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2

    conn = _PinnedHTTPSConnection(host, port, address=addresses[0], tls=tls, deadline=deadline)
    body = _get(conn, uri, target, timeout, max_bytes)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise _invalid(f"{uri} did not answer JSON", "jwks_uri") from None
    return check_jwks(data)
