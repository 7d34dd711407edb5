"""Property-based fuzzing of the published Confirmation of Funds API, in process.

As ``test_fuzz.py`` does for account information: schemathesis generates requests from the
committed document (specs/openapi/cbpii-v4.0.json) and sends each, authenticated as the partner
would (a client-credentials token for the consent resources, the customer's token of an
authorised funds-confirmation consent for funds confirmations, and a fresh DPoP proof), to the
app. Most generated ConsentId become real ones, in the path and in the body, so that the code
behind the first refusals is reached; some get a control character. Every response must be a
documented answer, the OBIE error body for every 4xx, and no HTML page or traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, HookContext, checks

from tests.common.cbpii import Authorised, authorised, customer_accounts, debtor
from tests.functional.test_fuzz import no_leak, obie_error_body, proof_url, with_control

DOCUMENT = Path(__file__).resolve().parents[2] / "specs" / "openapi" / "cbpii-v4.0.json"
CONSENTS = "/funds-confirmation-consents"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
REAL = "real-consent"

fuzzed = schemathesis.openapi.from_path(DOCUMENT)


@dataclass
class Target:
    """The CBPII the fuzzer plays: its authorised consent and its tokens, and consents awaiting
    the customer that it may read and delete."""

    given: Authorised
    client_token: str
    waiting: list[str]


@pytest.fixture(scope="module")
def target(oauth_app: Flask) -> Target:
    given = authorised(oauth_app, oauth_app.test_client())
    client = given.partner.client
    account = customer_accounts(oauth_app, given.partner.organisation_id)[0]
    waiting = [
        client.create_funds_confirmation_consent(debtor(account))["Data"]["ConsentId"]
        for _ in range(2)
    ]
    return Target(given, client.client_credentials("fundsconfirmations")["access_token"], waiting)


@fuzzed.hook
def flatmap_path_parameters(ctx: HookContext, path_parameters: dict[str, Any] | None) -> Any:
    """Most of the time, the consent in the path is one of the partner's; sometimes with a
    control character."""
    if not path_parameters or "ConsentId" not in path_parameters:
        return st.just(path_parameters)
    real = st.just({**path_parameters, "ConsentId": REAL})
    return st.one_of(real, st.just(path_parameters)).flatmap(with_control)


@fuzzed.hook
def flatmap_body(ctx: HookContext, body: Any) -> Any:
    """Most of the time, a funds confirmation names the token's consent."""
    data = body.get("Data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or "InstructedAmount" not in data:
        return st.just(body)
    real = st.just({**body, "Data": {**data, "ConsentId": REAL}})
    return st.one_of(real, st.just(body))


def resolve(case: Case[Any], target: Target) -> None:
    """Put real consent ids in place of their stand-in."""
    params = case.path_parameters or {}
    if params.get("ConsentId") == REAL:
        case.path_parameters = {**params, "ConsentId": target.waiting[len(str(case.body)) % 2]}
    data = case.body.get("Data") if isinstance(case.body, dict) else None
    if isinstance(data, dict) and data.get("ConsentId") == REAL:
        data["ConsentId"] = target.given.consent_id


@fuzzed.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_published_document(case: Case[Any], oauth_app: Flask, target: Target) -> None:
    resolve(case, target)
    client = target.given.partner.client
    token = target.client_token if case.path.startswith(CONSENTS) else target.given.token
    headers = client.resource_headers(case.method.upper(), proof_url(case, client.issuer), token)
    if case.headers and "x-fapi-interaction-id" in case.headers:
        del headers["x-fapi-interaction-id"]
    response = case.call(headers=headers, app=oauth_app)
    case.validate_response(
        response,
        headers=headers,
        transport_kwargs={"app": oauth_app},
        additional_checks=[obie_error_body, no_leak],
        # The document's types cannot say what the API refuses, rightly, with 400 (another
        # consent's id, an amount in another currency, a reference used before).
        excluded_checks=[checks.positive_data_acceptance],
    )
