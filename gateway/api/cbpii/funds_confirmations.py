"""``/funds-confirmations``: whether an amount is available in the consent's account."""

from __future__ import annotations

import functools

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.cbpii import access, bp
from gateway.api.cbpii.schemas import FundsConfirmationRequest, confirmation_body
from gateway.api.common import check_fapi_headers, envelope, parse_json
from gateway.consents import funds_confirmation as funds
from gateway.edge.transaction import get_session
from gateway.oauth.protector import current_token


@bp.post("/funds-confirmations")
def confirm_funds() -> ResponseReturnValue:
    """CreateFundsConfirmations: ``FundsAvailable`` true or false for the amount asked about,
    from the account's available balance (and credit line); nothing is reserved (201).

    Profile, Grants Types: "CBPIIs must use an authorization code grant ... to obtain a token to
    make POST requests to the funds-confirmation endpoint" (or a refresh of that token).
    """
    token = current_token(scope=funds.KIND)
    check_fapi_headers()
    data = parse_json(FundsConfirmationRequest())["Data"]
    grant = funds.authorise(token.consent, data["ConsentId"], functools.cache(access.core))
    row = funds.confirm(get_session(), grant, data["Reference"], data["InstructedAmount"])
    # The resource has no URL of its own (there is no GET): Self is the request's.
    response = jsonify(envelope(confirmation_body(row, data)))
    response.status_code = 201
    return response
