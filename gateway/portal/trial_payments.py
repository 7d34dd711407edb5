"""Try the flow with a payment: the example partner client makes a domestic payment (OBIE
Payment Initiation v4.0) for the developer, in their sandbox, with every request and response
recorded, as :mod:`.trial` does for account information.

1. :func:`start`: a client-credentials token (scope ``payments``), the domestic-payment consent
   (signed, with an idempotency key) and the pushed authorization request.
2. The developer's browser: the bank's pages, where a test customer picks the account to pay from
   and approves.
3. and 4. :func:`finish`: the authorization response is checked, the code exchanged, the payment
   submitted (the consent's ``Initiation`` and ``Risk`` repeated, signed, a new idempotency key)
   and its status read. The bank's signature of every answer of the payment API is checked.

What step 3 needs waits in the shared store between the steps, sealed, as for :mod:`.trial`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from gateway.portal import trial

PAYMENT = "payment"
# The payee of a trial payment: the test creditor of the guide.
CREDITOR = {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
            "Name": "ACME Inc"}  # fmt: skip
CURRENCY = "GBP"
DEFAULT_AMOUNT = "12.50"
# OBIE's ActiveOrHistoricCurrencyAndAmount pattern, in GBP's two decimals.
_AMOUNT = re.compile(r"\d{1,13}(\.\d{1,2})?")


def check_amount(value: str) -> str:
    """The amount to pay, a decimal string in GBP; raise :class:`trial.TrialError` with advice
    when it is not a positive amount of at most two decimals."""
    value = value.strip()
    if not _AMOUNT.fullmatch(value) or Decimal(value) <= 0:
        raise trial.TrialError("Give an amount in GBP greater than zero, such as 12.50.")
    return value


def start(
    *, developer_id: str, issuer: str, client_id: str, redirect_uri: str,
    credential: trial.Credential, amount: str, transport: trial.Transport,
) -> tuple[trial.Pending, str]:  # fmt: skip
    """Step 1: token, consent, PAR. Return what step 3 needs and the authorization URL."""
    module = trial.example_client()
    recorder = trial.Recorder(transport)
    dpop_jwk = module.ECKey.generate_key("P-256").as_dict(private=True)
    reference = f"TRY-{uuid.uuid4().hex[:8].upper()}"
    consent = module.payment_consent(amount, CURRENCY, dict(CREDITOR), reference)
    pending = trial.Pending(developer_id, client_id, issuer, redirect_uri, credential, dpop_jwk,
                            "", "", "", "", flow=PAYMENT, payment=consent)  # fmt: skip
    client = trial.client_for(pending, recorder)
    try:
        staff = client.client_credentials("payments")["access_token"]
        staged = client.create_domestic_payment_consent(staff, consent)
        pending.consent_id = staged["Data"]["ConsentId"]
        pending.request_uri, pending.verifier, pending.state = client.push_authorization_request(
            pending.consent_id, "payments"
        )
    except (module.GatewayError, OSError, ValueError, KeyError) as exc:
        raise trial.TrialError(trial.failure(exc, issuer), recorder.exchanges) from None
    pending.exchanges = recorder.exchanges
    return pending, str(client.authorization_url(pending.request_uri))


@dataclass(frozen=True, slots=True)
class Paid:
    """Steps 3 and 4: what was exchanged, the payment as the bank last gave it, and the
    idempotency key it was submitted with."""

    exchanges: list[trial.Exchange]
    payment: dict[str, Any]
    idempotency_key: str


def finish(pending: trial.Pending, query: Mapping[str, str], transport: trial.Transport) -> Paid:
    """Steps 3 and 4: check the authorization response, exchange the code, pay, read the
    status."""
    module = trial.example_client()
    recorder = trial.Recorder(transport)
    client = trial.client_for(pending, recorder)
    code = trial.checked_code(pending, f"{pending.redirect_uri}?{urlencode(dict(query))}")
    key = str(uuid.uuid4())
    try:
        tokens = client.exchange_code(code, pending.verifier)
        paid = client.submit_domestic_payment(
            tokens["access_token"], pending.consent_id, pending.payment, key
        )["Data"]
        staff = client.client_credentials("payments")["access_token"]
        status = client.domestic_payment(staff, paid["DomesticPaymentId"])["Data"]
        payment = {**paid, **status}
    except (module.GatewayError, OSError, ValueError, KeyError, TypeError) as exc:
        raise trial.TrialError(trial.failure(exc, pending.issuer), recorder.exchanges) from None
    return Paid(recorder.exchanges, payment, key)
