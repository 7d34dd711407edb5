"""What an idempotency key is, which operations take one, and when two requests are the same.

The header, as the OBIE v4.0 OpenAPI files declare it (``components.parameters.
x-idempotency-key`` of payment-initiation-openapi.yaml, vrp-openapi.yaml and
confirmation-funds-openapi.yaml, each ``required: true``, ``maxLength: 40``, ``pattern:
^(?!\\s)(.*)(\\S)$``): "Every request will be processed only once per x-idempotency-key. The
Idempotency Key will be valid for 24 hours."

The same request is the same method and path with the same body as a JSON value: the body is
compared in its RFC 8785 canonical form (JSON Canonicalization Scheme), so a partner's HTTP
library that re-serialises the body on a retry (another key order, other spacing, ``\\u00e9``
for ``é``, ``1.0`` for ``1``) sends the same request; any change of a name or a value is
another request. A body that is not JSON (or not I-JSON: a number past 2**53, say) is compared
byte for byte. No module here imports Flask.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

import rfc8785

HEADER = "x-idempotency-key"
MAX_LENGTH = 40
# The pattern of the OBIE files: no leading white space, at least one character, the last not
# white space ("." stops at a line break there as here; the edge refuses control characters).
PATTERN = re.compile(r"(?!\s)(.*)(\S)")
LIFETIME = dt.timedelta(hours=24)

# The headers a replay repeats with the status and the body: what the view and the layers after
# it (the response's JWS signature) said about the response. Per-request headers (the interaction
# id, rate limits, Date) are the new request's own.
REPLAYED_HEADERS = ("Content-Type", "Location", "x-jws-signature")

PAYMENTS = "payments"
FUNDS_CONFIRMATIONS = "fundsconfirmations"
FINANCING = "financing"
# Every POST of the payment initiation, VRP and confirmation of funds APIs, by operation, with
# the scope of its family. The PISP file lists the header on each of its POSTs; the VRP file on
# the POSTs of consents and payments (not on .../funds-confirmation); the CBPII file declares it
# but lists it on no operation. The gateway requires it on every one of them.
OPERATIONS: dict[str, str] = {
    # payment-initiation-openapi.yaml
    "domestic-payment-consents": PAYMENTS,
    "domestic-payments": PAYMENTS,
    "domestic-scheduled-payment-consents": PAYMENTS,
    "domestic-scheduled-payments": PAYMENTS,
    "domestic-standing-order-consents": PAYMENTS,
    "domestic-standing-orders": PAYMENTS,
    "file-payment-consents": PAYMENTS,
    "file-payment-consents/file": PAYMENTS,
    "file-payments": PAYMENTS,
    "international-payment-consents": PAYMENTS,
    "international-payments": PAYMENTS,
    "international-scheduled-payment-consents": PAYMENTS,
    "international-scheduled-payments": PAYMENTS,
    "international-standing-order-consents": PAYMENTS,
    "international-standing-orders": PAYMENTS,
    # vrp-openapi.yaml
    "domestic-vrp-consents": PAYMENTS,
    "domestic-vrp-consents/funds-confirmation": PAYMENTS,
    "domestic-vrps": PAYMENTS,
    # confirmation-funds-openapi.yaml
    "funds-confirmation-consents": FUNDS_CONFIRMATIONS,
    "funds-confirmations": FUNDS_CONFIRMATIONS,
    # our financing API (gateway.apidocs.financing): the POSTs that move money
    "loan-applications/acceptance": FINANCING,
    "loans/early-repayment": FINANCING,
}


def problem(key: str) -> str | None:
    """Why ``key`` is not a valid idempotency key (too long, or not of the OBIE pattern), or
    ``None`` when it is one."""
    if len(key) > MAX_LENGTH:
        return f"{HEADER} must be at most {MAX_LENGTH} characters long"
    if not PATTERN.fullmatch(key):
        return f"{HEADER} must not be empty, nor start or end with white space"
    return None


def fingerprint(method: str, path: str, body: bytes, *, is_json: bool) -> str:
    """The SHA-256 (hex) that two requests share when they are the same request (see the
    module's docstring): ``path`` names the resource a sub-resource is posted under."""
    digest = hashlib.sha256(f"{method}\n{path}\n".encode())
    canonical = _canonical(body) if is_json else None
    if canonical is None:
        digest.update(b"bytes\n" + body)
    else:
        digest.update(b"json\n" + canonical)
    return digest.hexdigest()


def _canonical(body: bytes) -> bytes | None:
    """RFC 8785 form of a JSON body, or ``None`` when it is not I-JSON (RFC 7493)."""
    try:
        value: Any = json.loads(body, parse_constant=_refuse)
        return rfc8785.dumps(value)
    except (ValueError, TypeError, RecursionError, rfc8785.CanonicalizationError):
        return None


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
