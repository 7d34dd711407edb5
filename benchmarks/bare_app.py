"""The bare Flask application the API benchmark compares the gateway with: one route that answers
a small JSON body, nothing else (no middleware, no store), served on the same gunicorn
configuration as the gateway (``gunicorn bare_app:app``)."""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The smallest useful answer."""
    return jsonify(status="ok")
