"""JSON responses written by orjson.

Every API response is a JSON document, and a page of a hundred transactions is some 65 kB of
it: the standard library's encoder took about a tenth of such a request, orjson a tenth of that.
Only the response bodies change hands; ``dumps`` and ``loads`` (request bodies, the CLI) stay
the standard library's. ``loads`` refuses what is not JSON though the standard library takes it
(``NaN``, ``Infinity``) and a document nested too deeply to parse, as bad bodies.

The body is what Flask's own provider writes, with the same fallback for the types JSON lacks
(``Decimal`` and ``UUID`` as strings, dates as HTTP-dates, dataclasses as objects), except that
text is UTF-8 (RFC 8259 §8.1) rather than ``\\u`` escapes. What orjson refuses and the standard
library writes (a lone surrogate, such as a malformed key of a partner's body echoed in an error;
an integer beyond 64 bits) falls back to the standard library, escaped, as does the indented body
of debug mode or ``compact = False``.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

# Types orjson writes its own way hand over to Flask's default, as the standard library would.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_APPEND_NEWLINE
)


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with response bodies encoded by orjson; keys in insertion order."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text (RFC 8259): ``NaN`` and ``Infinity`` are not JSON, and a document
        nested deeper than the parser's recursion allows is refused like any other bad body
        (``ValueError``, which Flask answers as a bad request), not left to fail the request."""
        kwargs.setdefault("parse_constant", _not_json)
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Serialise the arguments (as :func:`flask.jsonify` takes them) into a JSON response."""
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        options = _OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        try:
            body = orjson.dumps(obj, default=self.default, option=options)
        except orjson.JSONEncodeError:
            # The standard library's body, ASCII with escapes; a value neither can write raises.
            return super().response(obj)
        # The provider of a Flask application (the base class types it as Flask's sansio core).
        app = cast(Flask, self._app)
        # The media type as the response's Content-Type, with nothing to add (RFC 8259 §11 defines
        # no charset parameter): werkzeug need not work it out for every response.
        return app.response_class(body, content_type=self.mimetype)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")
