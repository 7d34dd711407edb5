"""Configuration: defaults in code, overrides from ``GATEWAY_*`` environment variables.

Every setting can be given as ``GATEWAY_<NAME>`` in the environment (values that parse as JSON are
read as JSON, so ``GATEWAY_MAX_CONTENT_LENGTH=2097152`` is an integer). Invalid settings raise
:class:`ConfigError`, whose message names the variable, so that a misconfigured process stops at
start with one clear line instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "GATEWAY"

DEFAULTS: dict[str, Any] = {
    # SQLAlchemy URL of the database; empty means an SQLite file in the instance folder.
    "DATABASE_URL": "",
    # Redis URL (redis:// or rediss://); empty means the in-process fallback.
    "REDIS_URL": "",
    # Largest request body accepted, in bytes (413 above it).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Which bank core serves the APIs: only "sandbox" ships with the gateway.
    "BANK_CORE": "sandbox",
    # Seed of sandbox tenants created on first use (each tenant mixes in its own id).
    "SANDBOX_SEED": 20240425,
    # Real time behind every sandbox tenant's clock: empty for the system clock, or an ISO 8601
    # instant (e.g. "2026-03-04T10:00:00Z") from which it runs on when the process starts, so that
    # tests and demos see the same sandbox whatever the day and hour.
    "SANDBOX_START": "",
    # Database connection pool size per process (ignored by SQLite).
    "DATABASE_POOL_SIZE": 10,
    # Log level of the gateway's loggers.
    "LOG_LEVEL": "INFO",
    # Issuer identifier of the authorization server (its public base URL, no trailing slash);
    # empty means the URL each request reached, which suits a laptop but not a deployment.
    "ISSUER": "",
    # The trust anchor of OBIE message signatures (the http://openbanking.org.uk/tan claim of
    # x-jws-signature): a domain name. Empty means the host name of the issuer, where the bank
    # publishes its keys and partners register theirs (gateway.api.message_signing).
    "JWS_TRUST_ANCHOR": "",
    # Limits per app tier, e.g. {"sandbox": "20/second;1000/minute"}; merged over the defaults
    # of gateway.edge.ratelimit.
    "RATE_LIMIT_TIERS": {},
    # How long, at most, a worker keeps a token it read, beside the authorisation epoch that drops
    # it at once when a commit changes it (gateway.oauth.token_cache); 0 turns the cache off.
    # Unset: 30 with Redis, off with the in-process store (which other workers cannot see).
    "TOKEN_CACHE_SECONDS": None,
    # DPoP nonces (RFC 9449 §8, §9; gateway.oauth.nonces): "offered" in every response to a
    # request with a proof and checked when a proof carries one, or "required" in every proof.
    "DPOP_NONCE": "offered",
    # Client ids of resource servers allowed to introspect any token (RFC 7662).
    "INTROSPECTION_CLIENTS": [],
    # Session cookies: HttpOnly always; Secure everywhere but plain-http loopback development
    # ("auto"), or forced with true/false (see gateway.sessions).
    "SESSION_COOKIE_SECURE": "auto",
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "gateway_session",
    # Browser sessions live server-side in the shared store and end after this many seconds
    # without a request (signing out ends them at once).
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
}

SUPPORTED_DATABASES = ("sqlite", "postgresql")
# A domain name: dot-separated labels of letters, digits and inner hyphens (RFC 1123 §2.1).
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*", re.ASCII)


def _parses_as_limits(text: str) -> bool:
    """Whether ``text`` is a list of limits in the notation of the ``limits`` library."""
    try:
        return bool(parse_many(text))
    except ValueError:
        return False


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the environment variable."""


def env_name(key: str) -> str:
    """Return the environment variable that sets ``key``."""
    return f"{ENV_PREFIX}_{key}"


def instance_secret_key(instance_path: str) -> str:
    """Return the development secret kept in the instance folder, creating it on first start.

    The file is created with mode 0600 and never committed; production sets
    ``GATEWAY_SECRET_KEY`` instead.
    """
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def default_database_url(instance_path: str) -> str:
    """Return the embedded default: an SQLite file in the instance folder."""
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'gateway.sqlite3'}"


def _sandbox_start(value: object) -> dt.datetime | None:
    """The instant of ``SANDBOX_START`` (aware, UTC), or ``None`` for the system clock."""
    if value is None or value == "":
        return None
    try:
        start = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise ConfigError(
            f"{env_name('SANDBOX_START')} must be an ISO 8601 instant with its offset, such as "
            f"2026-03-04T10:00:00Z, got {value!r}"
        )
    return start.astimezone(dt.UTC)


def validate(config: dict[str, Any], instance_path: str) -> None:
    """Fill derived defaults and check every setting, raising :class:`ConfigError` on the first
    invalid one."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = default_database_url(instance_path)
    config["DATABASE_URL"] = normalise_database_url(str(config["DATABASE_URL"]))
    config["REDIS_URL"] = _redis_url(config.get("REDIS_URL") or "")
    for key in ("MAX_CONTENT_LENGTH", "SANDBOX_SEED", "DATABASE_POOL_SIZE"):
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{env_name(key)} must be a positive integer, got {value!r}")
    config["SANDBOX_START"] = _sandbox_start(config.get("SANDBOX_START"))
    cache_seconds = config.get("TOKEN_CACHE_SECONDS")
    if cache_seconds is not None and (
        not isinstance(cache_seconds, int | float)
        or isinstance(cache_seconds, bool)
        or not 0 <= cache_seconds <= 3600
    ):
        raise ConfigError(
            f"{env_name('TOKEN_CACHE_SECONDS')} must be a number of seconds from 0 to 3600, "
            f"got {cache_seconds!r}"
        )
    config["ISSUER"] = _issuer(str(config.get("ISSUER") or ""))
    config["JWS_TRUST_ANCHOR"] = _trust_anchor(config.get("JWS_TRUST_ANCHOR") or "")
    _check_tiers(config.get("RATE_LIMIT_TIERS"))
    if config.get("DPOP_NONCE") not in ("offered", "required"):
        raise ConfigError(
            f"{env_name('DPOP_NONCE')} must be 'offered' or 'required', "
            f"got {config.get('DPOP_NONCE')!r}"
        )
    if not isinstance(config.get("INTROSPECTION_CLIENTS"), list):
        raise ConfigError(f"{env_name('INTROSPECTION_CLIENTS')} must be a JSON list of client ids")
    if config.get("BANK_CORE") != "sandbox":
        raise ConfigError(
            f"{env_name('BANK_CORE')} must be 'sandbox' (the only bank core shipped), "
            f"got {config.get('BANK_CORE')!r}"
        )
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = instance_secret_key(instance_path)


def _redis_url(redis_url: str) -> str:
    """A ``redis://``, ``rediss://`` or ``unix://`` URL, or empty (the in-process store)."""
    if redis_url:
        parts = urlsplit(str(redis_url))
        try:
            _ = parts.port  # raises ValueError for a port that is not a number in range
            valid = parts.scheme in ("redis", "rediss", "unix") and bool(parts.netloc or parts.path)
        except ValueError:
            valid = False
        if not valid:
            raise ConfigError(
                f"{env_name('REDIS_URL')} must be a redis://, rediss:// or unix:// URL, "
                f"got {redact(str(redis_url))!r}"
            )
    return redis_url


def _issuer(issuer: str) -> str:
    """A base URL without a trailing slash, or empty (the URL each request reached)."""
    if issuer:
        parts = urlsplit(issuer)
        if (
            parts.scheme not in ("https", "http")
            or not parts.netloc
            or parts.query
            or parts.fragment
        ):
            raise ConfigError(f"{env_name('ISSUER')} must be a base URL such as https://host")
    return issuer.rstrip("/")


def _trust_anchor(value: object) -> str:
    """A domain name (letters, digits and hyphens, in dot-separated labels), or empty."""
    text = str(value).strip().lower()
    if text and not _DOMAIN.fullmatch(text):
        raise ConfigError(
            f"{env_name('JWS_TRUST_ANCHOR')} must be a domain name such as bank.example, "
            f"got {value!r}"
        )
    return text


def _check_tiers(tiers: object) -> None:
    """A JSON object of tier name to limits in the ``limits`` notation."""
    if not isinstance(tiers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tiers.items()
    ):
        raise ConfigError(f"{env_name('RATE_LIMIT_TIERS')} must be a JSON object of tier: limits")
    for tier, text in tiers.items():
        if not _parses_as_limits(text):
            raise ConfigError(
                f"{env_name('RATE_LIMIT_TIERS')}: tier {tier!r}: {text!r} is not a limit such as "
                "'20/second;1000/minute'"
            )


def normalise_database_url(raw: str) -> str:
    """Check a database URL and pin PostgreSQL to the psycopg 3 driver.

    ``postgres://`` and ``postgresql://`` (the forms platforms hand out) become
    ``postgresql+psycopg://``.
    """
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(
            f"{env_name('DATABASE_URL')} is not a valid database URL: {redact(raw)!r}"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql") and url.drivername != "postgresql+psycopg":
        # Pinned explicitly: the driver a bare postgresql:// implies depends on the SQLAlchemy
        # version (psycopg2 in 2.0, psycopg in 2.1).
        url = url.set(drivername="postgresql+psycopg")
    elif backend not in SUPPORTED_DATABASES:
        raise ConfigError(
            f"{env_name('DATABASE_URL')} names an unsupported database {backend!r}; "
            "use sqlite:///path or postgresql://user@host/dbname"
        )
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ConfigError(f"{env_name('DATABASE_URL')} must name a database: {redact(raw)!r}")
    return url.render_as_string(hide_password=False)


def redact(url: str) -> str:
    """Hide the password of a URL for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"
