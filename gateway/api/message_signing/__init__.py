"""OBIE message signing (Read/Write Data API Profile v4.0, Message Signing): the detached JWS
of the ``x-jws-signature`` header, for the payment initiation, VRP and confirmation-of-funds
APIs.

A partner signs the body of each request with a key its app registered; the bank verifies it
before the view runs, and signs the body of each response with the key its ``/jwks`` publishes.
An API family plugs it in with one line::

    bp = protect_blueprint(Blueprint("pisp", __name__, url_prefix="/open-banking/v4.0/pisp"))

* :mod:`.header`: parsing the value and the rules of its JOSE header (which rule comes from
  where);
* :mod:`.verification`: :func:`verify_request`, against the app's ``jwks`` or ``jwks_uri``;
* :mod:`.signing`: :func:`sign_body`, the bank's signature of a body;
* :mod:`.blueprint`: :func:`protect_blueprint`, :func:`sign_response` (callable on its own, for
  a stored response) and :func:`request_signature` (what the request's signature verified).
"""

from __future__ import annotations

from gateway.api.message_signing.blueprint import (
    protect_blueprint,
    request_signature,
    sign_response,
    signing_key,
    verify_this_request,
)
from gateway.api.message_signing.header import CRITICAL, HEADER, IAT, ISS, TAN
from gateway.api.message_signing.signing import sign_body
from gateway.api.message_signing.verification import Signatory, Verified, verify_request

__all__ = [
    "CRITICAL",
    "HEADER",
    "IAT",
    "ISS",
    "TAN",
    "Signatory",
    "Verified",
    "protect_blueprint",
    "request_signature",
    "sign_body",
    "sign_response",
    "signing_key",
    "verify_request",
    "verify_this_request",
]
