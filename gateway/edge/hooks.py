"""The edge: what every request goes through first and last, one hook each way.

First: the interaction id; the refusal of control characters in any input
(:mod:`gateway.edge.inputs`); then, for the APIs, the steps the layers above register to identify
the caller (the authorization server's token check, :func:`gateway.oauth.protector.identify`),
which add their questions to the request's round trip to the shared store; the rate-limit charge
of a caller nobody identified; the round trip itself; and a 429 when a limit is exceeded.
Last: the finishing steps the layers above register (they see the final response, after every
other ``after_request`` hook, and may write to the unit of work: the idempotency recorder,
:func:`gateway.api.idempotency.record`), the one commit of the unit of work (a commit the
database fails is answered as any error of the request would have been: a 503 when it is down),
the rate-limit headers, the interaction id and the access log line. The edge calls the steps it
is given and knows nothing of what they check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask, Response, request
from sqlalchemy.exc import SQLAlchemyError

from gateway.edge import inputs, interaction, ratelimit, roundtrip, transaction

API_PREFIX = "/open-banking/"
# An authentication step: identifies the caller, charges it, adds to the round trip.
Step = Callable[[], None]
# A finishing step: sees the final response of any request just before the commit.
Finish = Callable[[Response], Response]


def init_app(app: Flask, *, identify: Sequence[Step] = (), finish: Sequence[Finish] = ()) -> None:
    """Install the first and last hooks of every request, with the ``identify`` steps of the
    layers above for the API calls and their ``finish`` steps for every request. Flask runs
    ``after_request`` hooks in reverse order of registration, so the last hook, registered here
    before any other, runs after all of them."""
    store = app.extensions["redis"]
    steps = tuple(identify)
    finishing = tuple(finish)

    @app.before_request
    def first() -> Response | None:
        interaction.assign()
        inputs.check()
        if not request.path.startswith(API_PREFIX):
            return None
        for step in steps:
            step()
        ratelimit.charge_unknown_caller()
        roundtrip.current().run(store)
        return ratelimit.refusal()

    @app.after_request
    def last(response: Response) -> Response:
        try:
            for step in finishing:
                response = step(response)
            transaction.commit(response)
        except SQLAlchemyError as exc:
            # Rolled back (or never committed): answered as the same error raised by the view.
            response = app.make_response(app.handle_user_exception(exc))
        ratelimit.add_headers(response)
        interaction.echo(response)
        return response
