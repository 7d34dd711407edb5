"""The gateway runs no coroutine: :class:`gateway.app.Gateway` hands views and hooks to Flask as
they are, so a coroutine registered anywhere would be returned unawaited. This keeps it so."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from flask import Flask

from gateway.app import create_app


def _registered(app: Flask) -> Iterator[tuple[str, Any]]:
    yield from app.view_functions.items()
    for registry in (app.before_request_funcs, app.after_request_funcs,
                     app.teardown_request_funcs, app.url_value_preprocessors,
                     app.template_context_processors):  # fmt: skip
        for scope, functions in registry.items():
            for function in functions:
                yield f"{scope}:{getattr(function, '__name__', function)}", function
    for handlers in app.error_handler_spec.values():
        for by_code in handlers.values():
            for kind, function in by_code.items():
                yield f"error handler {kind}", function


def test_no_view_or_hook_is_a_coroutine(database_url: str) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"})
    try:
        found = dict(_registered(app))
        assert len(found) > 50  # the gateway's views and hooks, not an empty app
        coroutines = [name for name, f in found.items() if inspect.iscoroutinefunction(f)]
        assert coroutines == []
        assert app.ensure_sync(len) is len
    finally:
        app.extensions["database"].dispose()
