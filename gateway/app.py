"""The application factory: configuration, stores, edge handlers, blueprints, the bank core.

This is the one module that imports the sandbox: it picks the bank core the gateway serves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from flask import Flask, Request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.routing import MapAdapter

from gateway import config as settings
from gateway import health, portal
from gateway.api import aisp, cbpii, financing, fx, idempotency, pisp
from gateway.api import sandbox as sandbox_api
from gateway.apidocs import views as apidocs
from gateway.cli import register_commands
from gateway.core.administration import SandboxBank
from gateway.edge import errors, hooks, interaction, ratelimit, sessions, transaction
from gateway.edge.json_provider import FastJSONProvider
from gateway.oauth import (
    approvals,
    consent_ui,
    nonces,
    protector,
    registration_views,
    replay,
    token_cache,
)
from gateway.oauth import errors as oauth_errors
from gateway.oauth import views as oauth_views
from gateway.store.database import Database, StoreUnreachable, check_connection, make_engine
from gateway.store.kv import is_fake, make_redis
from gateway.store.reads import Reads, make_read_engine


class Gateway(Flask):
    """The gateway's Flask application. Every view and hook is synchronous: Flask's check of
    each one, on every request, for a coroutine to run (``inspect.iscoroutinefunction``, six
    times a call) is left out."""

    def ensure_sync(self, func: Any) -> Any:
        return func

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """The URL adapter of a request, or of an application context. Flask makes both for
        every request: the second, bound to ``SERVER_NAME`` alone, is the same each time and is
        made once per configuration (the rules it matches and builds are the map's, read
        when it is used)."""
        if request is not None:
            return super().create_url_adapter(request)
        config = self.config
        key = (config["SERVER_NAME"], config["APPLICATION_ROOT"], config["PREFERRED_URL_SCHEME"])
        kept = self._context_adapter
        if kept is None or kept[0] != key:
            kept = self._context_adapter = (key, super().create_url_adapter(None))
        return kept[1]

    _context_adapter: tuple[tuple[Any, ...], MapAdapter | None] | None = None


class BankCoreFactory(Protocol):
    """Binds the bank core to a unit of work, and to the request's lone reads when it has one."""

    def __call__(self, session: Session, reads: Reads | None = None) -> SandboxBank: ...


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the gateway.

    Settings come from :data:`gateway.config.DEFAULTS`, then ``GATEWAY_*`` environment variables,
    then ``test_config``. Raises :class:`gateway.config.ConfigError` (naming the variable) when a
    setting is invalid or the database cannot be reached.
    """
    app = Gateway("gateway", instance_relative_config=True)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_prefixed_env(settings.ENV_PREFIX)
    if test_config:
        app.config.update(test_config)
    settings.validate(app.config, app.instance_path)
    app.json = FastJSONProvider(app)
    # No redirects to a corrected path (doubled slashes merged, a trailing slash added): werkzeug
    # builds their Location from the request's Host header, which a caller chooses. A doubled
    # slash is a 404; a page's path without its trailing slash is served as with it.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    _configure_logging(app)

    database = _database(app)
    store = app.extensions["redis"] = make_redis(app.config["REDIS_URL"])
    # One sandbox bank, seen as the bank core by the APIs and as the sandbox by ops and the portal.
    app.extensions["bank_core"] = app.extensions["sandbox"] = _bank_core_factory(app.config)
    # The edge first and last; the token check is its authentication step for the APIs, the
    # idempotency recorder a finishing step (after every other hook, before the commit).
    ratelimit.init_app(app, store)
    hooks.init_app(app, identify=[protector.identify], finish=[idempotency.record])
    cache = protector.init_cache(app.config.get("TOKEN_CACHE_SECONDS"), not is_fake(store))
    if cache is not None:
        app.extensions["token_cache"] = cache
    # Every process replaces the versions its commits change, caching or not: the CLI's
    # changes reach the servers' caches too.
    token_cache.watch(database.sessions, store, cache)
    # One-time credentials are refused when made before the replay store started; DPoP nonces.
    replay.init_store(store)
    nonces.init_app(app)
    sessions.init_app(app, store)
    errors.init_app(app)
    oauth_errors.init_app(app)
    _blueprints(app)
    # The commands: `gateway serve` builds each worker's application with this same factory.
    app.extensions["factory"] = create_app
    register_commands(app)
    return app


def _database(app: Flask) -> Database:
    """The configured database, reachable, bound to the app's requests."""
    url, pool_size = app.config["DATABASE_URL"], app.config["DATABASE_POOL_SIZE"]
    engine = make_engine(url, pool_size=pool_size)
    try:
        check_connection(engine)
    except StoreUnreachable as exc:
        shown = settings.redact(engine.url.render_as_string(hide_password=False))
        raise settings.ConfigError(
            f"{settings.env_name('DATABASE_URL')}: cannot connect to {shown}: {exc}"
        ) from None
    database = Database(engine, make_read_engine(url, pool_size=pool_size))
    transaction.init_app(app, database)
    return database


def _blueprints(app: Flask) -> None:
    """The pages and APIs, after the edge's hooks (so that those run first and last)."""
    # CSRF tokens protect the browser pages that opt in (consent, portal); the APIs authenticate
    # clients, not browser sessions, and need none.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.extensions["csrf"] = CSRFProtect(app)
    for blueprint in (
        health.bp, oauth_views.bp, registration_views.bp, consent_ui.bp, approvals.bp, aisp.bp,
        cbpii.bp, pisp.bp, financing.bp,
        sandbox_api.bp, idempotency.bp, fx.bp, apidocs.bp, portal.bp,
    ):  # fmt: skip
        app.register_blueprint(blueprint)


def _bank_core_factory(config: Mapping[str, Any]) -> BankCoreFactory:
    """Return a factory that binds the configured bank core to a unit of work."""
    from sandbox.clock import RunningFrom, system_time
    from sandbox.core import SandboxCore
    from sandbox.synth.population import populate

    seed = int(config["SANDBOX_SEED"])
    start = config["SANDBOX_START"]
    real_time = RunningFrom(start) if start is not None else system_time

    def factory(session: Session, reads: Reads | None = None) -> SandboxBank:
        return SandboxCore(
            session, default_seed=seed, dataset=populate, reads=reads, real_time=real_time
        )

    return factory


def _configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(interaction_id)s] %(message)s")
    )
    handler.addFilter(interaction.InteractionIdFilter())
    logger = logging.getLogger("gateway")
    if not any(getattr(h, "_gateway", False) for h in logger.handlers):
        handler._gateway = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False
