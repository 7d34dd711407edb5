"""Try the flow: the example partner client, run by the portal against this gateway, with every
request and response recorded for the developer to read.

1. :func:`start`: a client-credentials token, an account-access consent and a pushed
   authorization request (PAR), made on the developer's behalf with the credential they paste.
2. The developer's browser: the bank's sign-in and consent pages, as a test customer.
3. and 4. :func:`finish`: the authorization response is checked (``state``, RFC 9207 ``iss``),
   the code exchanged with the PKCE verifier, and the first API call made.

The portal runs the example partner client (:mod:`partners.example_client`, served to partners
at ``/docs/examples/partner_client.py``) itself, the very code partners copy. What step 3 needs
(PKCE verifier, state, DPoP key, the credential) waits between the steps in the shared store for
:data:`STATE_TTL` seconds, sealed with a key that only the developer's session holds (see
:func:`save`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from partners import example_client as partner_client

STATE_TTL = 600
ACCOUNTS_PATH = "/open-banking/v4.0/aisp/accounts"
PISP_PATH = "/open-banking/v4.0/pisp"
DEFAULT_PERMISSIONS = ("ReadAccountsDetail", "ReadBalances")
# Values the pages show only partly: enough to recognise them, not enough to use them.
SECRET_FIELDS = frozenset(
    {"client_secret", "code", "code_verifier", "access_token", "refresh_token"}
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie"})
_KEY_PREFIX = "portal:trial:"

# (method, url, headers, body) -> (status, headers, body): the example client's transport.
Transport = Callable[[str, str, dict[str, str], bytes | None], tuple[int, dict[str, str], bytes]]


class TrialError(Exception):
    """A step failed; ``exchanges`` holds what was sent and answered up to the failure."""

    def __init__(self, message: str, exchanges: Sequence[Exchange] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.exchanges = list(exchanges)


def example_client() -> ModuleType:
    """The example partner client's module."""
    return partner_client


def default_transport() -> Transport:
    """The example client's own transport: real HTTP with the standard library."""
    transport: Transport = example_client().urllib_transport
    return transport


def mask(value: str) -> str:
    """Show the start and end of a secret, hide the rest."""
    if len(value) <= 16:
        return "•" * 8
    return f"{value[:6]}…{value[-4:]}"


def _masked_header(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, space, credentials = value.partition(" ")
    if name.lower() == "authorization" and space:
        return f"{scheme} {mask(credentials)}"
    return mask(value)


def _mask_json(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: mask(v) if k in SECRET_FIELDS and isinstance(v, str) else _mask_json(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_mask_json(item) for item in data]
    return data


def _show_body(raw: bytes | None, content_type: str) -> str:
    """Render a body for reading: form fields one per line, JSON indented, secrets masked."""
    if not raw:
        return ""
    text = raw.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(text, keep_blank_values=True)
        return "\n".join(f"{k}={mask(v) if k in SECRET_FIELDS else v}" for k, v in pairs)
    try:
        return json.dumps(_mask_json(json.loads(text)), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _title(method: str, url: str, body: bytes | None) -> str:
    path = urlsplit(url).path
    form = dict(parse_qsl((body or b"").decode("utf-8", "replace")))
    if path.endswith("/token"):
        return {
            "client_credentials": "Get a client-credentials token",
            "authorization_code": "Exchange the code for tokens",
        }.get(form.get("grant_type", ""), "Token request")
    if path.endswith("/account-access-consents"):
        return "Create the account-access consent"
    if path.endswith("/par"):
        return "Push the authorization request (PAR)"
    if path.endswith(ACCOUNTS_PATH):
        return "Call the API: the customer's accounts"
    return _PAYMENT_TITLES.get((method, re.sub(r"/dp-[^/]+$", "/{id}", path)), f"{method} {path}")


_PAYMENT_TITLES = {
    ("POST", f"{PISP_PATH}/domestic-payment-consents"): "Stage the domestic-payment consent",
    ("POST", f"{PISP_PATH}/domestic-payments"): "Submit the payment (signed, idempotency key)",
    ("GET", f"{PISP_PATH}/domestic-payments/{{id}}"): "Read the payment's status",
    ("GET", "/jwks"): "Read the bank's keys, to check its response signatures",
}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the client sent and the answer it got, as the page shows them."""

    title: str
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str
    status: int
    response_headers: list[tuple[str, str]]
    response_body: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        """Rebuild an exchange kept in the shared store."""
        fields = dict(data)
        for name in ("request_headers", "response_headers"):
            fields[name] = [tuple(pair) for pair in fields[name]]
        return cls(**fields)


class Recorder:
    """A transport that sends through another and records each exchange, secrets masked."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.exchanges: list[Exchange] = []

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send the request and keep a readable copy of it and its answer."""
        status, answer_headers, raw = self.transport(method, url, headers, body)
        lowered = {k.lower(): v for k, v in answer_headers.items()}
        self.exchanges.append(
            Exchange(
                title=_title(method, url, body),
                method=method,
                url=url,
                request_headers=[(k, _masked_header(k, v)) for k, v in headers.items()],
                request_body=_show_body(body, headers.get("Content-Type", "")),
                status=status,
                response_headers=[(k, _masked_header(k, v)) for k, v in answer_headers.items()],
                response_body=_show_body(raw, lowered.get("content-type", "application/json")),
            )
        )
        return status, answer_headers, raw


@dataclass(frozen=True, slots=True)
class Credential:
    """What the app authenticates with: a private JWK (JSON text) or a client secret."""

    method: str
    value: str


def check_credential(method: str, value: str) -> Credential:
    """Check the pasted credential's shape; raise :class:`TrialError` with advice if it is off."""
    value = value.strip()
    if method == "client_secret_basic":
        if not value:
            raise TrialError("Paste the client secret the portal showed when you created the app.")
        return Credential(method, value)
    try:
        jwk = json.loads(value)
    except ValueError:
        jwk = None
    if not isinstance(jwk, dict) or jwk.get("kty") not in ("EC", "RSA"):
        raise TrialError("Paste your private key as a JSON Web Key (an EC or RSA JWK object).")
    if "d" not in jwk:
        raise TrialError("This is a public key: the client signs with the private key ('d').")
    if not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
        raise TrialError("The key needs the 'kid' it was registered with.")
    return Credential(method, json.dumps(jwk))


@dataclass
class Pending:
    """What step 3 needs from step 1, kept in the shared store between the steps."""

    developer_id: str
    client_id: str
    issuer: str
    redirect_uri: str
    credential: Credential
    dpop_jwk: dict[str, Any]
    verifier: str
    state: str
    request_uri: str
    consent_id: str
    exchanges: list[Exchange] = field(default_factory=list)
    # "accounts", or "payment" (:mod:`.trial_payments`) with the consent's body to repeat.
    flow: str = "accounts"
    payment: dict[str, Any] | None = None


def client_for(pending: Pending, transport: Transport) -> Any:
    """The example client of ``pending``'s app, sending through ``transport``."""
    module = example_client()
    credential = pending.credential
    if credential.method == "client_secret_basic":
        jwk: dict[str, Any] = {}
        secret: str | None = credential.value
    else:
        jwk, secret = json.loads(credential.value), None
    alg = "PS256" if jwk.get("kty") == "RSA" else "ES256"
    return module.PartnerClient(
        pending.issuer, pending.client_id, pending.redirect_uri, jwk, transport=transport,
        dpop_jwk=pending.dpop_jwk, alg=alg, client_secret=secret,
    )  # fmt: skip


def failure(exc: Exception, issuer: str) -> str:
    """What went wrong, in a sentence for the page."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        errors = body.get("Errors")
        if body.get("error"):
            detail = f"{body['error']}: {body.get('error_description', '')}".rstrip(": ")
        elif isinstance(errors, list) and errors and isinstance(errors[0], dict):
            detail = f"{errors[0].get('ErrorCode')}: {errors[0].get('Message')}"
        else:
            detail = json.dumps(body)
        return f"The gateway answered HTTP {getattr(exc, 'status', '?')}: {detail}"
    if isinstance(exc, OSError):
        return f"Could not reach the gateway at {issuer}: {exc}"
    return str(exc)


def start(
    *,
    developer_id: str,
    issuer: str,
    client_id: str,
    redirect_uri: str,
    credential: Credential,
    permissions: Sequence[str],
    transport: Transport,
) -> tuple[Pending, str]:
    """Step 1: token, consent, PAR. Return what step 3 needs and the authorization URL."""
    module = example_client()
    recorder = Recorder(transport)
    dpop_jwk = module.ECKey.generate_key("P-256").as_dict(private=True)
    pending = Pending(
        developer_id, client_id, issuer, redirect_uri, credential, dpop_jwk, "", "", "", ""
    )
    client = client_for(pending, recorder)
    try:
        consent = client.create_account_access_consent(list(permissions))
        pending.consent_id = consent["Data"]["ConsentId"]
        pending.request_uri, pending.verifier, pending.state = client.push_authorization_request(
            pending.consent_id
        )
    except (module.GatewayError, OSError, ValueError, KeyError) as exc:
        raise TrialError(failure(exc, issuer), recorder.exchanges) from None
    pending.exchanges = recorder.exchanges
    return pending, str(client.authorization_url(pending.request_uri))


@dataclass(frozen=True, slots=True)
class Finished:
    """Steps 3 and 4: what was exchanged, and the accounts the first API call returned."""

    exchanges: list[Exchange]
    accounts: list[dict[str, Any]]


def finish(pending: Pending, query: Mapping[str, str], transport: Transport) -> Finished:
    """Steps 3 and 4: check the authorization response, exchange the code, read the accounts."""
    module = example_client()
    recorder = Recorder(transport)
    client = client_for(pending, recorder)
    code = checked_code(pending, f"{pending.redirect_uri}?{urlencode(dict(query))}")
    try:
        tokens = client.exchange_code(code, pending.verifier)
        accounts = client.get(ACCOUNTS_PATH, tokens["access_token"])
        listed = list(accounts["Data"]["Account"])
    except (module.GatewayError, OSError, ValueError, KeyError, TypeError) as exc:
        raise TrialError(failure(exc, pending.issuer), recorder.exchanges) from None
    return Finished(recorder.exchanges, listed)


def checked_code(pending: Pending, response_url: str) -> str:
    """The code of the authorization response at ``response_url``, once its ``iss`` and
    ``state`` check out; raise :class:`TrialError` saying why the authorization did not
    complete otherwise."""
    module = example_client()
    try:
        # RFC 9207 §2.4: the client compares iss with the issuer it sent the request to, and
        # the state with the one it sent (RFC 6749 §10.12); the example client does both.
        return str(module.parse_redirect(response_url, pending.state, pending.issuer))
    except module.GatewayError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        if "iss" in body:  # iss and state check out: the bank's own error response
            reason = f"the bank answered {body.get('error')}: {body.get('error_description', '')}"
        else:
            reason = str(body.get("error") or exc)
        raise TrialError(f"The authorization did not complete: {reason}") from None


def save(store: redis.Redis, pending: Pending) -> str:
    """Keep ``pending`` in the shared store for :data:`STATE_TTL` seconds; return its handle.

    The record holds the pasted credential, so it is sealed (AES-256-GCM) with a key of its own
    that only the handle carries: the handle goes to the developer's session, the sealed
    record to the store, and neither opens the credential without the other.
    """
    slot = secrets.token_urlsafe(24)
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(asdict(pending)).encode(), slot.encode())
    store.set(_KEY_PREFIX + slot, nonce + sealed, ex=STATE_TTL)
    return f"{slot}.{base64.urlsafe_b64encode(key).decode()}"


def take(store: redis.Redis, handle: str) -> Pending | None:
    """Return and forget what :func:`save` kept under ``handle`` (``None`` once expired or used,
    or for a handle that does not open it)."""
    slot, _, encoded = handle.partition(".")
    try:
        key = base64.urlsafe_b64decode(encoded.encode())
        sealer = AESGCM(key)
    except (ValueError, binascii.Error):
        return None
    raw = store.getdel(_KEY_PREFIX + slot)
    if not isinstance(raw, bytes) or len(raw) < 13:
        return None
    try:
        opened = sealer.decrypt(raw[:12], raw[12:], slot.encode())
    except InvalidTag:
        return None
    data = json.loads(opened)
    data["credential"] = Credential(**data["credential"])
    data["exchanges"] = [Exchange.from_dict(item) for item in data["exchanges"]]
    return Pending(**data)


def response_parameters(query: Mapping[str, str]) -> list[tuple[str, str]]:
    """The authorization response's parameters as the page shows them (the code masked)."""
    return [(k, mask(v) if k in SECRET_FIELDS else v) for k, v in query.items()]
