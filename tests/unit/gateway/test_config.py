"""Configuration (:mod:`gateway.config`): defaults, ``GATEWAY_*`` overrides, and a
:class:`ConfigError` naming the variable, without its secrets, for every invalid setting."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

import gateway.app
from gateway.app import create_app
from gateway.config import (
    DEFAULTS,
    ConfigError,
    instance_secret_key,
    normalise_database_url,
    redact,
    validate,
)
from gateway.store.database import Database
from gateway.store.kv import is_fake

PASSWORD = "s3cret"

MakeApp = Callable[..., Flask]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``GATEWAY_*`` variable of the caller's environment (CI sets some) reaches the app."""
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give apps built by the test an instance folder in ``tmp_path``, not the repository's."""
    folder = tmp_path / "instance"

    application = gateway.app.Gateway

    def flask(import_name: str, **kwargs: Any) -> Flask:
        return application(import_name, instance_path=str(folder), **kwargs)

    monkeypatch.setattr(gateway.app, "Gateway", flask)
    return folder


@pytest.fixture
def make_app(clean_env: pytest.MonkeyPatch, instance: Path) -> Iterator[MakeApp]:
    """Build apps in a clean environment; their engines are disposed and the log level kept."""
    built: list[Flask] = []
    logger = logging.getLogger("gateway")
    level = logger.level

    def make(test_config: dict[str, Any] | None = None) -> Flask:
        app = create_app(test_config)
        built.append(app)
        return app

    yield make
    logger.setLevel(level)
    for app in built:
        database: Database = app.extensions["database"]
        database.dispose()


def config(**overrides: Any) -> dict[str, Any]:
    """A complete configuration as create_app passes it to validate()."""
    return {**DEFAULTS, "SECRET_KEY": "fixed", **overrides}


# Defaults and overrides ----------------------------------------------------------------------


def test_defaults_are_an_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    settings = {**DEFAULTS}
    validate(settings, str(tmp_path / "inst"))
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'gateway.sqlite3'}"
    assert (tmp_path / "inst").is_dir()
    assert settings["REDIS_URL"] == ""
    assert settings["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert settings["BANK_CORE"] == "sandbox"
    assert settings["SECRET_KEY"]


def test_create_app_without_settings_uses_the_embedded_defaults(
    make_app: MakeApp, instance: Path
) -> None:
    app = make_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'gateway.sqlite3'}"
    assert (instance / "gateway.sqlite3").is_file()
    assert is_fake(app.extensions["redis"])
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"]
    assert app.config["SECRET_KEY"] == (instance / "secret_key").read_text().strip()


def test_gateway_environment_variables_override_the_defaults(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, database_url: str
) -> None:
    clean_env.setenv("GATEWAY_DATABASE_URL", database_url)
    clean_env.setenv("GATEWAY_MAX_CONTENT_LENGTH", "2048")
    clean_env.setenv("GATEWAY_SANDBOX_SEED", "7")
    clean_env.setenv("GATEWAY_LOG_LEVEL", "WARNING")
    clean_env.setenv("GATEWAY_SECRET_KEY", "from-the-environment")

    app = make_app()
    assert app.config["DATABASE_URL"] == normalise_database_url(database_url)
    assert app.config["MAX_CONTENT_LENGTH"] == 2048  # parsed as JSON: an int
    assert app.config["SANDBOX_SEED"] == 7
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert logging.getLogger("gateway").level == logging.WARNING


def test_test_config_overrides_the_environment(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, database_url: str
) -> None:
    clean_env.setenv("GATEWAY_MAX_CONTENT_LENGTH", "2048")
    app = make_app({"DATABASE_URL": database_url, "MAX_CONTENT_LENGTH": 4096})
    assert app.config["MAX_CONTENT_LENGTH"] == 4096


# The database URL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://app:s3cret@db.internal:5432/gateway",
        "postgresql://app:s3cret@db.internal:5432/gateway",
        "postgresql+psycopg2://app:s3cret@db.internal:5432/gateway",
        "postgresql+psycopg://app:s3cret@db.internal:5432/gateway",
    ],
)
def test_postgres_urls_are_pinned_to_psycopg_3(raw: str) -> None:
    url = normalise_database_url(raw)
    # The password is kept: the engine needs it.
    assert url == "postgresql+psycopg://app:s3cret@db.internal:5432/gateway"


def test_query_options_survive_normalisation() -> None:
    url = normalise_database_url("postgres://app@db/gateway?options=-csearch_path%3Dtest_1")
    assert make_url(url).query == {"options": "-csearch_path=test_1"}


@pytest.mark.parametrize("raw", ["sqlite:///relative.db", "sqlite:////abs/path.db", "sqlite://"])
def test_sqlite_urls_are_kept(raw: str) -> None:
    assert normalise_database_url(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        f"postgresql://user:{PASSWORD}@/",
        f"postgresql://user:{PASSWORD}@host:notaport/db",
        f"postgresql://user:{PASSWORD}@host",
        "not a url at all",
        "://",
    ],
)
def test_a_malformed_database_url_names_the_variable_without_the_password(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, raw: str
) -> None:
    clean_env.setenv("GATEWAY_DATABASE_URL", raw)
    with pytest.raises(ConfigError, match=r"^GATEWAY_DATABASE_URL") as caught:
        make_app()
    assert PASSWORD not in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "raw", ["mysql://root:s3cret@localhost/gateway", "oracle://u@h/db", "mssql+pyodbc://u@dsn"]
)
def test_an_unsupported_database_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEWAY_DATABASE_URL .*unsupported") as caught:
        validate(config(DATABASE_URL=raw), "/nonexistent")
    assert PASSWORD not in str(caught.value)


def test_an_unreachable_database_names_the_variable(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv(
        "GATEWAY_DATABASE_URL", f"postgresql+psycopg://nobody:{PASSWORD}@127.0.0.1:1/x"
    )
    with pytest.raises(ConfigError) as caught:
        make_app()
    message = str(caught.value)
    assert message.startswith("GATEWAY_DATABASE_URL: cannot connect to ")
    assert "127.0.0.1" in message
    assert PASSWORD not in message
    assert "\n" not in message


def test_redact_hides_passwords_and_survives_garbage() -> None:
    assert PASSWORD not in redact(f"postgresql://u:{PASSWORD}@h/d")
    assert redact(f"postgresql://u:{PASSWORD}@h:port/d") == "<unparseable URL>"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"


# Other settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redis_url",
    [
        "http://localhost:6379/0",
        "localhost:6379",
        "redis://",
        f"ftp://:{PASSWORD}@cache/0",
        f"redis://:{PASSWORD}@cache:notaport/0",
        "redis://cache:99999/0",
    ],
)
def test_a_bad_redis_url_is_refused(redis_url: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEWAY_REDIS_URL ") as caught:
        validate(config(REDIS_URL=redis_url), "/nonexistent")
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "redis_url", ["redis://localhost:6379/0", "rediss://:pw@cache.example:6380/1", "unix:///r.sock"]
)
def test_a_redis_url_is_accepted(redis_url: str) -> None:
    settings = config(REDIS_URL=redis_url)
    validate(settings, "/nonexistent")
    assert settings["REDIS_URL"] == redis_url


def test_a_bad_redis_url_from_the_environment_stops_create_app(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, database_url: str
) -> None:
    clean_env.setenv("GATEWAY_REDIS_URL", "memcached://localhost:11211")
    with pytest.raises(ConfigError, match="GATEWAY_REDIS_URL"):
        make_app({"DATABASE_URL": database_url})


@pytest.mark.parametrize("key", ["MAX_CONTENT_LENGTH", "SANDBOX_SEED", "DATABASE_POOL_SIZE"])
@pytest.mark.parametrize("value", [0, -1, "1024", 1.5, True, None])
def test_counts_must_be_positive_integers(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=f"^GATEWAY_{key} must be a positive integer"):
        validate(config(**{key: value}), "/nonexistent")


def test_a_non_positive_max_content_length_from_the_environment_stops_create_app(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, database_url: str
) -> None:
    clean_env.setenv("GATEWAY_MAX_CONTENT_LENGTH", "0")
    with pytest.raises(ConfigError, match="GATEWAY_MAX_CONTENT_LENGTH"):
        make_app({"DATABASE_URL": database_url})


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        ("", None),
        ("2026-03-04T10:00:00Z", dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)),
        ("2026-03-04T18:00:00+08:00", dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)),
    ],
)
def test_the_sandbox_start_is_an_instant_in_utc(raw: str, start: dt.datetime | None) -> None:
    settings = config(SANDBOX_START=raw)
    validate(settings, "/nonexistent")
    assert settings["SANDBOX_START"] == start


@pytest.mark.parametrize("raw", ["2026-03-04T10:00:00", "yesterday", "2026-13-01T00:00:00Z"])
def test_a_sandbox_start_without_an_offset_or_unreadable_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEWAY_SANDBOX_START must be an ISO 8601 instant"):
        validate(config(SANDBOX_START=raw), "/nonexistent")


def test_only_the_sandbox_bank_core_is_shipped() -> None:
    with pytest.raises(ConfigError, match=r"^GATEWAY_BANK_CORE"):
        validate(config(BANK_CORE="mainframe"), "/nonexistent")


@pytest.mark.parametrize(
    ("raw", "kept"), [("", ""), ("Bank.Example", "bank.example"), ("ob.org.uk", "ob.org.uk")]
)
def test_the_jws_trust_anchor_is_a_domain_name_or_empty(raw: str, kept: str) -> None:
    settings = config(JWS_TRUST_ANCHOR=raw)
    validate(settings, "/nonexistent")
    assert settings["JWS_TRUST_ANCHOR"] == kept


@pytest.mark.parametrize("raw", ["https://bank.example", "bank.example/", "-bank.example", "a b"])
def test_a_jws_trust_anchor_that_is_no_domain_name_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEWAY_JWS_TRUST_ANCHOR must be a domain name"):
        validate(config(JWS_TRUST_ANCHOR=raw), "/nonexistent")


# The secret key ------------------------------------------------------------------------------


def test_the_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "instance"
    key = instance_secret_key(str(folder))
    path = folder / "secret_key"
    assert len(key) >= 32
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_secret_key(str(folder)) == key
    assert instance_secret_key(str(tmp_path / "other")) != key


def test_validate_reuses_the_instance_secret_key(tmp_path: Path) -> None:
    first = {**DEFAULTS}
    validate(first, str(tmp_path))
    second = {**DEFAULTS}
    validate(second, str(tmp_path))
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").read_text().strip() == first["SECRET_KEY"]


def test_a_configured_secret_key_writes_no_file(tmp_path: Path) -> None:
    settings = config(SECRET_KEY="from-production")
    validate(settings, str(tmp_path))
    assert settings["SECRET_KEY"] == "from-production"
    assert not (tmp_path / "secret_key").exists()


def test_create_app_reuses_the_secret_key_across_starts(make_app: MakeApp, instance: Path) -> None:
    first = make_app().config["SECRET_KEY"]
    second = make_app().config["SECRET_KEY"]
    assert first == second
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", ["offered", "required"])
def test_dpop_nonces_are_offered_or_required(mode: str) -> None:
    validate(settings := config(DPOP_NONCE=mode), "/nonexistent")
    assert settings["DPOP_NONCE"] == mode


@pytest.mark.parametrize("mode", ["off", "", "Required", None])
def test_another_dpop_nonce_mode_is_refused(mode: Any) -> None:
    with pytest.raises(ConfigError, match=r"^GATEWAY_DPOP_NONCE must be 'offered' or 'required'"):
        validate(config(DPOP_NONCE=mode), "/nonexistent")
