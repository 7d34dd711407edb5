"""Redirect URIs of apps: what may be registered, and how a request's URI is matched.

Production apps register ``https`` URIs only. Sandbox apps may also register loopback ``http``
URIs (RFC 8252 §7.3) so that partners can run the OAuth flow against a server on their laptop.
Matching is exact string comparison: no wildcards, no prefix or pattern matching.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address
from urllib.parse import urlsplit

from partners.errors import PartnerError
from partners.models import App

MAX_URIS = 10
MAX_LENGTH = 512
ENVIRONMENTS = ("sandbox", "production")
# RFC 8252 §7.3 (loopback interface redirection); sandbox only.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _refuse(message: str) -> PartnerError:
    return PartnerError("invalid_redirect_uri", message, field="redirect_uris")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str, environment: str) -> str:
    """Return ``uri`` if an app of ``environment`` may register it, else raise
    ``invalid_redirect_uri``."""
    if not isinstance(uri, str) or not uri:
        raise _refuse("Each redirect URI must be a non-empty string")
    if len(uri) > MAX_LENGTH:
        raise _refuse(f"A redirect URI may be at most {MAX_LENGTH} characters")
    # RFC 3986 §2: a URI is printable US-ASCII; a space or control character is never part of one.
    if not all("!" <= char <= "~" for char in uri):
        raise _refuse(f"{uri!r} contains spaces, control or non-ASCII characters")
    if "*" in uri:
        raise _refuse(f"{uri!r}: wildcards are not allowed; register each URI exactly")
    if "#" in uri:
        # RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
        raise _refuse(f"{uri!r}: a redirect URI must not contain a fragment")
    parts = urlsplit(uri)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise _refuse(f"{uri!r} has an invalid port") from None
    # RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI".
    if not parts.scheme or not parts.netloc:
        raise _refuse(f"{uri!r} is not an absolute URI")
    if "@" in parts.netloc:
        raise _refuse(f"{uri!r}: user information is not allowed in a redirect URI")
    host = parts.hostname
    if not host:
        raise _refuse(f"{uri!r} has no host")
    if parts.scheme == "https":
        if environment == "production" and _is_loopback(host):
            raise _refuse(f"{uri!r}: production apps cannot redirect to a loopback address")
        return uri
    if parts.scheme == "http" and environment == "sandbox" and host in LOOPBACK_HOSTS:
        return uri
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        raise _refuse(f"{uri!r}: loopback http redirect URIs are allowed in the sandbox only")
    raise _refuse(f"{uri!r}: redirect URIs must use https")


def check_redirect_uris(uris: Sequence[str], environment: str) -> list[str]:
    """Return the redirect URIs an app of ``environment`` registers, duplicates removed in order.

    Raise ``invalid_redirect_uri`` unless ``uris`` is a non-empty list of at most
    :data:`MAX_URIS` URIs, each acceptable to :func:`check_redirect_uri`.
    """
    if environment not in ENVIRONMENTS:
        raise PartnerError(
            "invalid_environment", f"environment must be one of {ENVIRONMENTS}", "environment"
        )
    if isinstance(uris, str | bytes) or not isinstance(uris, Sequence):
        raise _refuse("redirect_uris must be a list of URIs")
    if not uris:
        raise _refuse("Register at least one redirect URI")
    if len(uris) > MAX_URIS:
        raise _refuse(f"Register at most {MAX_URIS} redirect URIs")
    checked: list[str] = []
    for uri in uris:
        value = check_redirect_uri(uri, environment)
        if value not in checked:
            checked.append(value)
    return checked


def redirect_uri_registered(app: App, uri: str) -> bool:
    """Return whether ``uri`` is one of the app's registered redirect URIs, compared exactly."""
    # RFC 9700 §2.1: authorization servers MUST utilize exact string matching (FAPI 2.0 relies on
    # it); no normalisation, no prefix or pattern matching.
    return isinstance(uri, str) and any(uri == registered for registered in app.redirect_uris)
