#!/usr/bin/env python3
"""The cost of the edge's control-character check (:func:`gateway.edge.inputs.check`) on the
requests every partner makes most: a DPoP-bound GET without a body (a token, a proof of about
700 characters, the FAPI headers), without and with a query string to decode.

Each case runs inside a request context built once, so only the check is timed (best of
``--repeat`` rounds of ``--number`` calls). For scale it also times what the edge already does on
every request, assigning the interaction id (:func:`gateway.edge.interaction.assign`). The
figures are per call, in microseconds; they vary with the machine and its load, the ratio less.

    .venv/bin/python benchmarks/bench_inputs.py
"""

from __future__ import annotations

import argparse
import base64
import secrets
import timeit
import uuid
from collections.abc import Callable

from flask import Flask

from gateway.edge import inputs, interaction

PATH = "/open-banking/v4.0/aisp/accounts"
HISTORY = f"{PATH}/acc-0123456789/transactions"
QUERY = "fromBookingDateTime=2024-01-01T00%3A00%3A00&page=MHwyMDI0LTAxLTAxfDEyMzQ%3D"


def headers() -> dict[str, str]:
    """The headers of a DPoP-bound API call, of their usual sizes."""
    proof = ".".join(
        base64.urlsafe_b64encode(secrets.token_bytes(size)).decode().rstrip("=")
        for size in (180, 300, 64)
    )
    return {
        "Authorization": f"DPoP at_{secrets.token_urlsafe(32)}",
        "DPoP": proof,
        "x-fapi-interaction-id": str(uuid.uuid4()),
        "x-fapi-auth-date": "Sun, 10 Sep 2017 19:43:31 GMT",
        "x-fapi-customer-ip-address": "104.25.212.99",
        "Accept": "application/json",
        "User-Agent": "partner-client/1.0",
    }


def per_call(
    app: Flask, path: str, query: str, work: Callable[[], None], args: argparse.Namespace
) -> float:
    """The best time of one call of ``work`` in a request for ``path?query``, in microseconds."""
    with app.test_request_context(path, query_string=query, headers=headers()):
        rounds = timeit.repeat(work, number=args.number, repeat=args.repeat)
    return min(rounds) / args.number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000, help="calls per round")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (the best is kept)")
    args = parser.parse_args()
    app = Flask("bench")
    cases = [
        ("check, GET without a query", PATH, "", inputs.check),
        ("check, GET with a query to decode", HISTORY, QUERY, inputs.check),
        ("for scale: interaction.assign", PATH, "", interaction.assign),
    ]
    for name, path, query, work in cases:
        print(f"{name:36} {per_call(app, path, query, work, args):6.2f} us")


if __name__ == "__main__":
    main()
