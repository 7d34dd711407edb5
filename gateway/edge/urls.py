"""The public base URL of the gateway: the authorization server's issuer identifier, and the
base of every absolute link an API writes."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, request

# RFC 3986 §3.3: what a path holds unencoded besides unreserved characters.
_PATH_SAFE = "/:@!$&'()*+,;="


def issuer() -> str:
    """The issuer identifier: ``GATEWAY_ISSUER``, or the URL this request reached."""
    configured: str = current_app.config.get("ISSUER") or ""
    return configured.rstrip("/") or request.url_root.rstrip("/")


def trust_anchor() -> str:
    """The trust anchor of message signatures (the OBIE ``http://openbanking.org.uk/tan``
    claim): ``GATEWAY_JWS_TRUST_ANCHOR``, or the issuer's host name."""
    configured: str = current_app.config.get("JWS_TRUST_ANCHOR") or ""
    return configured or (urlsplit(issuer()).hostname or "")


def endpoint_url() -> str:
    """The URL of this request as a DPoP ``htu`` names it (RFC 9449 §4.3 (9)): the issuer and
    the path as the client sent it, still percent-encoded, without its query."""
    return issuer() + _target_path()


def _target_path() -> str:
    """The path of the request target as sent (gunicorn's ``RAW_URI``, werkzeug's and
    mod_wsgi's ``REQUEST_URI``), below the application's root. Without one, the decoded path
    encoded again, which cannot tell ``%2F`` from ``/``."""
    environ = request.environ
    target: str = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if not target.startswith("/") and "://" in target:
        # RFC 9112 §3.2.2: the absolute form, as sent to a proxy.
        target = "/" + target.partition("://")[2].partition("/")[2]
    path = target.partition("?")[0].partition("#")[0]
    script: str = environ.get("SCRIPT_NAME") or ""
    if not path.startswith("/") or not path.startswith(script):
        return quote(request.path, safe=_PATH_SAFE)
    return path[len(script) :]
