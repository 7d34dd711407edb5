"""The public base URL of the gateway: the authorization server's issuer identifier, and the
base of every absolute link an API writes."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Request, current_app

from gateway.edge.context import this_request

# RFC 3986 §3.3: what a path holds unencoded besides unreserved characters.
_PATH_SAFE = "/:@!$&'()*+,;="


def issuer(req: Request | None = None) -> str:
    """The issuer identifier: ``GATEWAY_ISSUER``, or the URL this request (``req``, by default
    the one being handled) reached."""
    configured: str = (current_app.config.get("ISSUER") or "").rstrip("/")
    return configured or (req or this_request()).url_root.rstrip("/")


def trust_anchor() -> str:
    """The trust anchor of message signatures (the OBIE ``http://openbanking.org.uk/tan``
    claim): ``GATEWAY_JWS_TRUST_ANCHOR``, or the issuer's host name."""
    configured: str = current_app.config.get("JWS_TRUST_ANCHOR") or ""
    return configured or (urlsplit(issuer()).hostname or "")


def endpoint_url(req: Request | None = None) -> str:
    """The URL of this request (``req``, by default the one being handled) as a DPoP ``htu``
    names it (RFC 9449 §4.3 (9)): the issuer and the path as the client sent it, still
    percent-encoded, without its query."""
    req = req or this_request()
    return issuer(req) + _target_path(req)


def _target_path(req: Request) -> str:
    """The path of the request target as sent (gunicorn's ``RAW_URI``, werkzeug's and
    mod_wsgi's ``REQUEST_URI``), below the application's root. Without one, the decoded path
    encoded again, which cannot tell ``%2F`` from ``/``."""
    environ = req.environ
    target: str = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if not target.startswith("/") and "://" in target:
        # RFC 9112 §3.2.2: the absolute form, as sent to a proxy.
        target = "/" + target.partition("://")[2].partition("/")[2]
    path = target.partition("?")[0].partition("#")[0]
    script: str = environ.get("SCRIPT_NAME") or ""
    if not path.startswith("/") or not path.startswith(script):
        return quote(req.path, safe=_PATH_SAFE)
    return path[len(script) :]
