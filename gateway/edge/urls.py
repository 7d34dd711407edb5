"""The public base URL of the gateway: the authorization server's issuer identifier, and the
base of every absolute link an API writes."""

from __future__ import annotations

from flask import current_app, request


def issuer() -> str:
    """The issuer identifier: ``GATEWAY_ISSUER``, or the URL this request reached."""
    configured: str = current_app.config.get("ISSUER") or ""
    return configured.rstrip("/") or request.url_root.rstrip("/")


def endpoint_url() -> str:
    """The URL of this request as a DPoP ``htu`` must name it."""
    return issuer() + request.path
