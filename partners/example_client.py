#!/usr/bin/env python3
"""A small partner client for the gateway: PAR, PKCE, private_key_jwt and DPoP, nothing hidden.

Copy it, read it, adapt it. It needs ``joserfc`` (``pip install joserfc``) and the standard
library. Every request it makes is one function, so you can follow a FAPI 2.0 flow step by step:

    client = PartnerClient.from_files("client.json")
    consent = client.create_account_access_consent(["ReadAccountsBasic", "ReadBalances"])
    consent_id = consent["Data"]["ConsentId"]
    # scope "openid accounts", the consent as the openbanking_intent_id claim of claims
    request_uri, verifier, state = client.push_authorization_request(consent_id, nonce="n-1")
    print(client.authorization_url(request_uri))   # open it, sign in as a test customer, approve
    tokens = client.exchange_code(code, verifier)  # code from the redirect
    client.verify_id_token(tokens["id_token"], consent_id, "n-1")  # the consent was authorised
    accounts = client.get("/open-banking/v4.0/aisp/accounts", tokens["access_token"])

Confirmation of funds goes the same way, with its own consent on one account (scope
``fundsconfirmations``), then one question per payment:

    consent = client.create_funds_confirmation_consent(
        {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "40000012345678"})
    request_uri, verifier, state = client.push_authorization_request(
        consent["Data"]["ConsentId"], scope="fundsconfirmations")
    ...                                            # the customer approves, as above
    answer = client.confirm_funds(tokens["access_token"], consent_id, "20.00", "GBP")
    answer["Data"]["FundsAvailable"]               # True or False

``push_authorization_request(..., signed=True)`` sends the same request as a signed request
object (RFC 9101) instead. DPoP proofs carry the latest nonce the server gave (RFC 9449 §8, §9,
``DPoP-Nonce``), and a request the server answers ``use_dpop_nonce`` is sent again, once, with
a new proof carrying the nonce it gave.

A domestic payment (OBIE Payment Initiation v4.0; the app needs the ``payments`` scope) is a
consent staged with a client-credentials token, the customer's approval, then the payment with
the customer's token; every POST signed and idempotent, every answer's signature checked:

    consent = payment_consent("12.50", "GBP", creditor, "INV-42")
    consent_id = client.create_domestic_payment_consent(staff, consent)["Data"]["ConsentId"]
    ...                                            # scope "payments", the customer approves
    paid = client.submit_domestic_payment(tokens["access_token"], consent_id, consent, key)
    client.domestic_payment(staff, paid["Data"]["DomesticPaymentId"])["Data"]["Status"]

Run it as a script for the interactive version (it listens on the redirect URI for the code):

    python3 partner_client.py --config client.json [--confirm-funds 20.00]
    python3 partner_client.py --config client.json pay 12.50 [--to 08080021325698]
    python3 partner_client.py --config client.json borrow 5000.00 [--term 24]

``borrow`` (the app needs the ``financing`` scope) prices the loan, applies for it, has the
customer authorise the application in the browser, reads the bank's decision and offers,
accepts the first offer with ``post_idempotent`` (an ``x-idempotency-key``, no signature: the
loan is drawn down once however often you retry) and prints the loan's first instalments.

``client.json`` holds ``issuer``, ``client_id``, ``redirect_uri`` and ``private_jwk`` (the
private half of the key registered for the app), or ``client_secret`` instead of
``private_jwk`` for a sandbox app that authenticates with its secret; see the getting-started
guide. Keep it out of version control: it holds a private key or a secret.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, import_key
from joserfc.registry import HeaderParameter

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PISP = "/open-banking/v4.0/pisp"
SANDBOX_API = "/open-banking/sandbox/v1"
FINANCING = "/open-banking/financing/v1"
# (method, url, headers, body) -> (status, headers, body)
Transport = Callable[[str, str, dict[str, str], bytes | None], tuple[int, dict[str, str], bytes]]


class GatewayError(Exception):
    """The gateway answered with an error; ``body`` is its JSON error document."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def urllib_transport(
    method: str, url: str, headers: dict[str, str], body: bytes | None
) -> tuple[int, dict[str, str], bytes]:
    """Send a request with the standard library."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def pkce_pair() -> tuple[str, str]:
    """Return a PKCE (verifier, S256 challenge) pair (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# OBIE message signing (x-jws-signature): the private header parameters every signature carries
# and names in crit, so that the receiver must understand them.
OB_IAT = "http://openbanking.org.uk/iat"
OB_ISS = "http://openbanking.org.uk/iss"
OB_TAN = "http://openbanking.org.uk/tan"
OB_CRITICAL = [OB_IAT, OB_ISS, OB_TAN]


def _is_number(value: Any) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("must be a number")


_OB_HEADERS = {OB_IAT: HeaderParameter("signed at", _is_number, True),
               OB_ISS: HeaderParameter("signer", "str", True),
               OB_TAN: HeaderParameter("trust anchor", "str", True)}  # fmt: skip


def detached_jws(
    body: bytes, private_jwk: dict[str, Any], *, iss: str, tan: str,
    alg: str | None = None, iat: float | None = None,
) -> str:  # fmt: skip
    """The ``x-jws-signature`` of a request body (OBIE Read/Write Data API Profile v4.0,
    Message Signing): a JWS over the body exactly as sent, in compact form with the payload part
    left empty (RFC 7515 Appendix F), signed with the app's key (PS256 for RSA, ES256 for EC).
    ``iss`` names the app (its client id), ``tan`` the trust anchor (the gateway's host name,
    shown on the app's page in the portal). Send the body bytes you signed, unchanged."""
    key = import_key(private_jwk)
    alg = alg or ("PS256" if key.key_type == "RSA" else "ES256")
    header = {
        "alg": alg,
        "kid": key.kid,
        "typ": "JOSE",
        "cty": "application/json",
        OB_IAT: int(time.time()) if iat is None else iat,
        OB_ISS: iss,
        OB_TAN: tan,
        "crit": OB_CRITICAL,
    }
    registry = jws.JWSRegistry(header_registry=_OB_HEADERS, algorithms=[alg])
    return jws.detach_content(jws.serialize_compact(header, body, key, registry=registry))


def verify_detached_jws(
    body: bytes, signature: str, key_set: Any, *, iss: str, tan: str
) -> dict[str, Any]:
    """Check the bank's ``x-jws-signature`` of a response ``body`` with the bank's ``/jwks``
    (``key_set``): its signature, ``iss`` (the bank's issuer URL) and ``tan``; return its JOSE
    header. Raise :class:`GatewayError` when it does not verify."""
    registry = jws.JWSRegistry(header_registry=_OB_HEADERS, algorithms=["ES256", "PS256"])
    try:
        verified = jws.deserialize_compact(
            signature, KeySet.import_key_set(key_set), registry=registry, payload=body
        )
    except JoseError as exc:
        problem = f"the response signature does not verify: {exc}"
        raise GatewayError(502, {"error": problem}) from None
    header = dict(verified.headers())
    for name, expected in ((OB_ISS, iss), (OB_TAN, tan)):
        if header.get(name) != expected:
            raise GatewayError(502, {"error": f"the response signature's {name} is not {expected}"})
    if sorted(header.get("crit", [])) != sorted(OB_CRITICAL):
        raise GatewayError(502, {"error": "the response signature's crit is not OBIE's"})
    return header


@dataclass
class PartnerClient:
    """One app of a partner, talking to one gateway."""

    issuer: str
    client_id: str
    redirect_uri: str
    private_jwk: dict[str, Any]
    transport: Transport = urllib_transport
    # The DPoP key: a fresh P-256 key per client instance unless one is given.
    dpop_jwk: dict[str, Any] = field(
        default_factory=lambda: ECKey.generate_key("P-256").as_dict(private=True)
    )
    alg: str = "ES256"
    # Sandbox apps registered for client_secret_basic authenticate with their secret instead.
    client_secret: str | None = None
    # The latest DPoP nonce each server gave (RFC 9449 §8, §9), by origin: proofs carry it.
    dpop_nonces: dict[str, str] = field(default_factory=dict)
    # The bank's /jwks, read the first time a response signature is checked.
    bank_jwks: dict[str, Any] | None = None

    @classmethod
    def from_files(cls, path: str) -> PartnerClient:
        """Load ``issuer``, ``client_id``, ``redirect_uri`` and either ``private_jwk`` (for
        ``private_key_jwt``) or ``client_secret`` (a sandbox ``client_secret_basic`` app) from
        JSON."""
        with open(path) as fh:
            data = json.load(fh)
        if not data.get("private_jwk") and not data.get("client_secret"):
            raise SystemExit(f"{path}: give private_jwk (private_key_jwt) or client_secret")
        # The issuer is the base URL exactly as the app page shows it (no trailing slash): it is
        # the audience of client assertions and the start of every DPoP htu.
        issuer = data["issuer"].rstrip("/")
        return cls(issuer, data["client_id"], data["redirect_uri"], data.get("private_jwk") or {},
                   client_secret=data.get("client_secret"))  # fmt: skip

    # -- building blocks ---------------------------------------------------------------------

    def client_assertion(self) -> str:
        """A private_key_jwt assertion (RFC 7523 §3): iss = sub = client id, aud = issuer."""
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.issuer,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        }
        key = import_key(self.private_jwk)
        return jwt.encode({"alg": self.alg, "kid": key.kid}, claims, key, algorithms=[self.alg])

    def dpop_proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """A DPoP proof (RFC 9449 §4.2) for one request; ``ath`` binds it to a token, ``nonce``
        is the server's latest (§8, §9). ``url`` is the URL as it is sent, percent-encoded."""
        key = import_key(self.dpop_jwk)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url.split("?", 1)[0],
            "iat": int(time.time()),
        }
        nonce = self.dpop_nonces.get(_origin(url))
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
        return jwt.encode(header, claims, key, algorithms=["ES256"])

    def dpop_jkt(self) -> str:
        """The thumbprint of the DPoP key (RFC 7638), for ``dpop_jkt`` in PAR."""
        return str(import_key(self.dpop_jwk).thumbprint())

    def _call(
        self, method: str, path: str, *, form: dict[str, str] | None = None,
        json_body: Any = None, token: str | None = None, proof: bool = False,
        signed: dict[str, str] | None = None, verify: bool = False,
        extra: dict[str, str] | None = None,
    ) -> Any:  # fmt: skip
        """Send a request: ``form`` is sent with the client's authentication, ``token`` with a
        DPoP proof bound to it, ``proof`` a proof without a token. When the server asks for a
        DPoP nonce (RFC 9449 §8, §9), send it again, once, with a fresh proof carrying it (and a
        fresh client assertion: the first one was used). ``verify`` checks the bank's
        ``x-jws-signature`` of a successful answer (see :meth:`verify_response`)."""
        url = path if path.startswith("http") else self.issuer + path
        status, headers, raw = self._send(method, url, form, json_body, token, proof, signed,
                                          extra)  # fmt: skip
        data = json.loads(raw) if raw else None
        if (proof or token is not None) and _asks_for_nonce(status, headers, data):
            status, headers, raw = self._send(method, url, form, json_body, token, proof, signed,
                                              extra)  # fmt: skip
            data = json.loads(raw) if raw else None
        if status >= 400:
            raise GatewayError(status, data)
        if verify:
            self.verify_response(raw, headers.get("x-jws-signature"))
        return data

    def _send(
        self, method: str, url: str, form: dict[str, str] | None, json_body: Any,
        token: str | None, proof: bool, signed: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        """One request; its status, its headers (names in lower case) and its body as received.
        ``signed`` (extra headers, such as the idempotency key) asks for the body's OBIE
        message signature; ``extra`` headers are sent as they are."""
        headers = {"Accept": "application/json", **(extra or {})}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(self._authenticated_form(form)).encode()
            headers.update({"Content-Type": "application/x-www-form-urlencoded", **self._basic()})
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
            if signed is not None:
                headers.update(signed)
            # A sandbox app with a client secret has no key to sign with: it sends its
            # requests unsigned, which the bank accepts once its message signing is off.
            if signed is not None and self.private_jwk:
                jws = detached_jws(body, self.private_jwk, iss=self.client_id, tan=self.tan())
                headers["x-jws-signature"] = jws
        if token is not None:
            headers.update(self.resource_headers(method, url, token))
        elif proof:
            headers["DPoP"] = self.dpop_proof(method, url)
        status, answered, raw = self.transport(method, url, headers, body)
        lowered = {name.lower(): value for name, value in answered.items()}
        if "dpop-nonce" in lowered:
            self.dpop_nonces[_origin(url)] = lowered["dpop-nonce"]
        return status, lowered, raw

    def tan(self) -> str:
        """The trust anchor of OBIE message signatures: the gateway's host name (the app page
        shows it; an operator may have set another)."""
        return urllib.parse.urlsplit(self.issuer).hostname or ""

    def verify_response(self, body: bytes, signature: str | None) -> dict[str, Any]:
        """Check the bank's ``x-jws-signature`` of a response ``body`` (as received) with the
        keys of its ``/jwks`` (read once): signed by the bank, for this issuer and trust anchor.
        Return its JOSE header; raise :class:`GatewayError` when it is missing or wrong."""
        if not signature:
            raise GatewayError(502, {"error": "the response carries no x-jws-signature"})
        if self.bank_jwks is None:
            self.bank_jwks = self._call("GET", "/jwks")
        return verify_detached_jws(body, signature, self.bank_jwks, iss=self.issuer,
                                   tan=self.tan())  # fmt: skip

    def _authenticated_form(self, form: dict[str, str]) -> dict[str, str]:
        if self.client_secret is not None:
            return {**form, "client_id": self.client_id}
        return {
            **form,
            "client_id": self.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }

    def _basic(self) -> dict[str, str]:
        """HTTP Basic credentials (RFC 6749 §2.3.1), for client_secret_basic apps."""
        if self.client_secret is None:
            return {}
        pair = f"{urllib.parse.quote(self.client_id)}:{urllib.parse.quote(self.client_secret)}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    # -- the flow ------------------------------------------------------------------------------

    def client_credentials(self, scope: str) -> dict[str, Any]:
        """A token for the app itself (to create consents), DPoP-bound."""
        form = {"grant_type": "client_credentials", "scope": scope}
        result: dict[str, Any] = self._call("POST", "/token", form=form, proof=True)
        return result

    def create_account_access_consent(
        self,
        permissions: list[str],
        expiration: str | None = None,
        *,
        transaction_from: str | None = None,
        transaction_to: str | None = None,
    ) -> dict[str, Any]:  # a POST with a client-credentials token
        """Ask the bank for an account-access consent (OBIE AIS v4.0); ``transaction_from`` and
        ``transaction_to`` bound the transaction and statement history it shares."""
        token = self.client_credentials("accounts")["access_token"]
        data: dict[str, Any] = {"Permissions": permissions}
        optional = {"ExpirationDateTime": expiration, "TransactionFromDateTime": transaction_from,
                    "TransactionToDateTime": transaction_to}  # fmt: skip
        data.update({name: value for name, value in optional.items() if value})
        result: dict[str, Any] = self.post(
            "/open-banking/v4.0/aisp/account-access-consents", token, {"Data": data, "Risk": {}}
        )
        return result

    def create_funds_confirmation_consent(
        self, debtor_account: dict[str, str], expiration: str | None = None
    ) -> dict[str, Any]:  # a POST with a client-credentials token
        """Ask the bank for a funds-confirmation consent (OBIE Confirmation of Funds v4.0) on
        one account, named by ``debtor_account`` (``SchemeName`` and ``Identification``, such as
        ``UK.OBIE.SortCodeAccountNumber`` and the 14 digits of a sort code and account number);
        ``expiration`` ends it (none: until it is withdrawn)."""
        token = self.client_credentials("fundsconfirmations")["access_token"]
        data: dict[str, Any] = {"DebtorAccount": debtor_account}
        if expiration:
            data["ExpirationDateTime"] = expiration
        result: dict[str, Any] = self.post(
            "/open-banking/v4.0/cbpii/funds-confirmation-consents", token, {"Data": data}
        )
        return result

    def confirm_funds(
        self, token: str, consent_id: str, amount: str, currency: str,
        reference: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Ask whether ``amount`` (a decimal string, in the account's ``currency``) is available
        now in the account of an authorised funds-confirmation consent, with a token of that
        consent: ``Data.FundsAvailable`` is ``True`` or ``False``, and nothing is held back.
        ``reference`` is yours, once per consent (a new one each call by default: the call is
        not idempotent, so a retry is a new question)."""
        body = {"Data": {"ConsentId": consent_id, "Reference": reference or secrets.token_hex(8),
                         "InstructedAmount": {"Amount": amount, "Currency": currency}}}  # fmt: skip
        result: dict[str, Any] = self.post("/open-banking/v4.0/cbpii/funds-confirmations", token,
                                           body)  # fmt: skip
        return result

    def push_authorization_request(
        self,
        consent_id: str,
        scope: str = "accounts",
        *,
        nonce: str | None = None,
        signed: bool = False,
    ) -> tuple[str, str, str]:
        """PAR (RFC 9126): push the request; return (request_uri, PKCE verifier, state).

        The request is an OpenID Connect one, as UK Open Banking has it: scope ``openid`` and the
        API's (``openid accounts``), the consent named as the essential ``openbanking_intent_id``
        claim of the ``claims`` parameter. ``signed=True`` sends the parameters inside a request
        object signed with the app's key (RFC 9101) instead of as form fields. ``nonce``, when
        given, comes back in the ID token.
        """
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        intent = {"value": consent_id, "essential": True}
        claims = {"id_token": {"openbanking_intent_id": intent},
                  "userinfo": {"openbanking_intent_id": intent}}  # fmt: skip
        params: dict[str, Any] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope if "openid" in scope.split() else f"openid {scope}",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "claims": claims,
            "dpop_jkt": self.dpop_jkt(),
        }
        if nonce is not None:
            params["nonce"] = nonce
        if signed:
            pushed = {"request": self.request_object(params)}
        else:
            pushed = {**params, "claims": json.dumps(claims)}
        result = self._call("POST", "/par", form=pushed)
        return result["request_uri"], verifier, state

    def request_object(self, params: dict[str, Any]) -> str:
        """A signed request object (RFC 9101; FAPI 2.0 Message Signing): the parameters, plus
        ``iss`` (the client), ``aud`` (the issuer), ``nbf`` and ``exp`` (at most 60 minutes
        apart)."""
        now = int(time.time())
        claims = {**params, "iss": self.client_id, "aud": self.issuer, "nbf": now,
                  "exp": now + 300, "jti": str(uuid.uuid4())}  # fmt: skip
        key = import_key(self.private_jwk)
        header = {"alg": self.alg, "kid": key.kid, "typ": "oauth-authz-req+jwt"}
        return jwt.encode(header, claims, key, algorithms=[self.alg])

    def verify_id_token(
        self, id_token: str, consent_id: str, nonce: str | None = None
    ) -> dict[str, Any]:
        """Check the ID token of a token response (OIDC Core §3.1.3.7) and return its claims:
        signed with a key of the bank's ``/jwks``, from this issuer, for this client, not
        expired, for this consent, with the nonce that was sent."""
        key_set = KeySet.import_key_set(self._call("GET", "/jwks"))
        claims = jwt.decode(id_token, key_set, algorithms=["ES256", "PS256"]).claims
        expected = {"iss": self.issuer, "aud": self.client_id,
                    "openbanking_intent_id": consent_id, "nonce": nonce}  # fmt: skip
        for name, value in expected.items():
            if value is not None and claims.get(name) != value:
                raise GatewayError(400, {"error": f"the ID token's {name} is not {value}"})
        if not claims.get("exp", 0) > time.time():
            raise GatewayError(400, {"error": "the ID token has expired"})
        return dict(claims)

    def authorization_url(self, request_uri: str) -> str:
        """Where to send the customer's browser: only client_id and request_uri travel."""
        query = urllib.parse.urlencode({"client_id": self.client_id, "request_uri": request_uri})
        return f"{self.issuer}/authorize?{query}"

    def exchange_code(self, code: str, verifier: str) -> dict[str, Any]:
        """Trade the code and PKCE verifier for DPoP-bound tokens."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        result: dict[str, Any] = self._call("POST", "/token", form=form, proof=True)
        return result

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Rotate a refresh token for a new access token."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        result: dict[str, Any] = self._call("POST", "/token", form=form, proof=True)
        return result

    def resource_headers(self, method: str, url: str, token: str) -> dict[str, str]:
        """Headers of an API call: the DPoP-bound token, a fresh proof, an interaction id."""
        return {
            "Authorization": f"DPoP {token}",
            "DPoP": self.dpop_proof(method, url, access_token=token),
            "x-fapi-interaction-id": str(uuid.uuid4()),
        }

    def get(self, path: str, token: str, *, verify: bool = False) -> Any:
        """GET an API resource with a DPoP-bound token; ``verify`` checks the bank's signature
        of the answer (the payment APIs sign every answer)."""
        return self._call("GET", path, token=token, verify=verify)

    def post(self, path: str, token: str, body: Any) -> Any:
        """POST JSON to an API resource with a DPoP-bound token."""
        return self._call("POST", path, json_body=body, token=token)

    def post_signed(
        self, path: str, token: str, body: Any, *, idempotency_key: str | None = None,
        verify: bool = False,
    ) -> Any:  # fmt: skip
        """POST to the payment or funds-confirmation APIs: the body signed (``x-jws-signature``)
        and an ``x-idempotency-key``, a new one unless given. To retry a request whose answer
        was lost, send it again with the same key: the bank answers what it answered the first
        time and does nothing twice. ``verify`` checks the bank's signature of the answer."""
        key = idempotency_key or str(uuid.uuid4())
        return self._call("POST", path, json_body=body, token=token,
                          signed={"x-idempotency-key": key}, verify=verify)  # fmt: skip

    def post_idempotent(
        self, path: str, token: str, body: Any, *, idempotency_key: str | None = None
    ) -> Any:
        """POST JSON with an ``x-idempotency-key`` (a new one unless given) and no signature:
        the financing API's acceptance of an offer and early repayment. A retry with the same
        key gets the first answer and moves no money twice."""
        key = idempotency_key or str(uuid.uuid4())
        return self._call("POST", path, json_body=body, token=token,
                          extra={"x-idempotency-key": key})  # fmt: skip

    # -- payment initiation (OBIE PIS v4.0, domestic payments) ---------------------------------

    def create_domestic_payment_consent(self, token: str, body: Any) -> dict[str, Any]:
        """Stage a domestic payment (``OBWriteDomesticConsent4``) with a client-credentials
        token of scope ``payments``: the consent starts ``AWAU``. Signed, with an idempotency
        key; the bank's signature of the answer is checked."""
        result: dict[str, Any] = self.post_signed(
            f"{PISP}/domestic-payment-consents", token, body, verify=True
        )
        return result

    def submit_domestic_payment(
        self, token: str, consent_id: str, consent: Any, idempotency_key: str
    ) -> dict[str, Any]:
        """Pay what the authorised ``consent`` (the body it was staged with) says, with the
        customer's token: the ``Initiation`` and ``Risk`` repeated exactly. Keep
        ``idempotency_key`` until the answer arrives: a retry with it pays once."""
        order = {"Data": {"ConsentId": consent_id, "Initiation": consent["Data"]["Initiation"]},
                 "Risk": consent["Risk"]}  # fmt: skip
        result: dict[str, Any] = self.post_signed(
            f"{PISP}/domestic-payments", token, order, idempotency_key=idempotency_key,
            verify=True,
        )  # fmt: skip
        return result

    def domestic_payment(self, token: str, payment_id: str) -> dict[str, Any]:
        """The payment's current state (``Data.Status``: ``ACSP``, ``ACSC``, ``RJCT``, ...),
        read with a client-credentials token; its signature checked."""
        result: dict[str, Any] = self.get(
            f"{PISP}/domestic-payments/{payment_id}", token, verify=True
        )
        return result

    def post_file(
        self, path: str, token: str, content: bytes, media_type: str, *,
        idempotency_key: str | None = None,
    ) -> None:  # fmt: skip
        """Upload a payment file (``/file-payment-consents/{ConsentId}/file``) as it is, in its
        own media type (``application/json`` or ``application/xml``), signed and with an
        ``x-idempotency-key`` like every payment POST."""
        tan = urllib.parse.urlsplit(self.issuer).hostname or ""
        headers = {
            "Content-Type": media_type,
            "x-idempotency-key": idempotency_key or str(uuid.uuid4()),
            "x-jws-signature": detached_jws(content, self.private_jwk, iss=self.client_id, tan=tan),
        }
        self._raw("POST", path, token, headers, content)

    def get_file(self, path: str, token: str, accept: str = "*/*") -> bytes:
        """GET a file (a payment file as uploaded, a file payment's report) as it is."""
        return self._raw("GET", path, token, {"Accept": accept}, None)

    def _raw(
        self, method: str, path: str, token: str, headers: dict[str, str], body: bytes | None
    ) -> bytes:
        """A request whose body and answer are not JSON; once more with the DPoP nonce the
        server asks for."""
        url = self.issuer + path
        for _attempt in range(2):
            sent = {**headers, **self.resource_headers(method, url, token)}
            status, answered, raw = self.transport(method, url, sent, body)
            lowered = {name.lower(): value for name, value in answered.items()}
            if "dpop-nonce" in lowered:
                self.dpop_nonces[_origin(url)] = lowered["dpop-nonce"]
            if not (status == 401 and "dpop-nonce" in lowered):
                break
        if status >= 400:
            raise GatewayError(status, json.loads(raw) if raw else None)
        return raw

    def delete(self, path: str, token: str) -> None:
        """DELETE an API resource with a DPoP-bound token (such as a consent the customer
        withdrew: OBIE says the partner must delete it)."""
        self._call("DELETE", path, token=token)


def _origin(url: str) -> str:
    """The scheme and authority of ``url``: a server's DPoP nonces are its own."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _asks_for_nonce(status: int, headers: dict[str, str], body: Any) -> bool:
    """Whether an error answer asks for the DPoP nonce it gives: ``use_dpop_nonce`` in a 400 of
    the authorization server (RFC 9449 §8), in the DPoP challenge of a 401 of a resource (§9)."""
    if "dpop-nonce" not in headers:
        return False
    if status == 400:
        return isinstance(body, dict) and body.get("error") == "use_dpop_nonce"
    return status == 401 and 'error="use_dpop_nonce"' in headers.get("www-authenticate", "")


def parse_redirect(url: str, expected_state: str, issuer: str) -> str:
    """Check an authorization response (state, RFC 9207 iss) and return the code."""
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    if params.get("iss") != issuer:
        raise GatewayError(400, {"error": "the response is not from this issuer"})
    if params.get("state") != expected_state:
        raise GatewayError(400, {"error": "state does not match"})
    if "error" in params:
        raise GatewayError(400, params)
    return params["code"]


class _RedirectListener:
    """Listens on a loopback redirect URI, from before the browser is sent to the bank, for the
    one request the browser brings back."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urllib.parse.urlsplit(redirect_uri)
        received: list[str] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                received.append(
                    f"{redirect_uri.split('?')[0]}?{urllib.parse.urlsplit(self.path).query}"
                )
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"Done: you can close this window.")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer((parts.hostname or "127.0.0.1", parts.port or 80), Handler)

    def wait(self, seconds: float = 300) -> str:
        """Serve one request (within ``seconds``) and return the full URL the browser came back
        to."""
        thread = threading.Thread(target=self.server.handle_request)
        thread.start()
        thread.join(timeout=seconds)
        self.server.server_close()
        if not self.received:
            raise SystemExit("no redirect arrived within five minutes")
        return self.received[0]


def _authorised_in_browser(
    client: PartnerClient, consent_id: str, scope: str, step: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Push the request for ``consent_id``, send the customer to the bank, and return the tokens
    of the code the browser brings back, with the claims of their checked ID token."""
    # A signed request object where the app has a key; the claims parameter otherwise.
    nonce = secrets.token_urlsafe(16)
    request_uri, verifier, state = client.push_authorization_request(
        consent_id, scope, nonce=nonce, signed=client.client_secret is None
    )
    url = client.authorization_url(request_uri)
    listener = _RedirectListener(client.redirect_uri)  # listening before the browser leaves
    print(f"{step}. pushed the authorization request; open this URL and approve:\n   {url}",
          flush=True)  # fmt: skip
    webbrowser.open(url)
    code = parse_redirect(listener.wait(), state, client.issuer)
    tokens = client.exchange_code(code, verifier)
    return tokens, client.verify_id_token(tokens["id_token"], consent_id, nonce)


def _confirm_funds(client: PartnerClient, account: dict[str, Any], amount: str) -> None:
    """The confirmation-of-funds steps on an account read through account information: its
    consent (named by the account's first identification), the customer's approval, one
    question."""
    named = account["Account"][0]
    debtor = {"SchemeName": named["SchemeName"], "Identification": named["Identification"]}
    consent = client.create_funds_confirmation_consent(debtor)
    consent_id = consent["Data"]["ConsentId"]
    print(f"6. funds-confirmation consent {consent_id} created for {debtor['Identification']}")
    tokens, _identity = _authorised_in_browser(client, consent_id, "fundsconfirmations", 7)
    answer = client.confirm_funds(tokens["access_token"], consent_id, amount, account["Currency"])
    available = answer["Data"]["FundsAvailable"]
    print(f"8. {amount} {account['Currency']} available: {'yes' if available else 'no'}")


def payment_consent(
    amount: str, currency: str, creditor: dict[str, str], reference: str
) -> dict[str, Any]:
    """An ``OBWriteDomesticConsent4`` body: ``amount`` (a decimal string) in ``currency`` to
    ``creditor`` (``SchemeName``, ``Identification``, ``Name``), with your ``reference``."""
    return {
        "Data": {
            "Initiation": {
                "InstructionIdentification": reference,
                "EndToEndIdentification": reference,
                "InstructedAmount": {"Amount": amount, "Currency": currency},
                "CreditorAccount": creditor,
                "RemittanceInformation": {"Reference": reference},
            }
        },
        "Risk": {"PaymentContextCode": "TransferToThirdParty"},
    }


def _settled(client: PartnerClient, token: str, paid: dict[str, Any]) -> dict[str, Any]:
    """Read the payment's status until it leaves ``ACSP``. A sandbox app (scope ``sandbox``)
    moves its sandbox's clock to the payment's expected settlement first; a production app,
    which has no sandbox, shows the status the bank gives now."""
    try:
        sandbox: str | None = client.client_credentials("sandbox")["access_token"]
    except GatewayError:  # invalid_scope: not a sandbox app
        sandbox = None
    current = paid
    for _ in range(5):
        current = client.domestic_payment(token, paid["DomesticPaymentId"])["Data"]
        if current["Status"] != "ACSP" or sandbox is None:
            break
        now = client.get(f"{SANDBOX_API}/clock", sandbox)["Data"]["DateTime"]
        due = paid.get("ExpectedSettlementDateTime") or now
        seconds = _parse_time(due) - _parse_time(now)
        hours = max(1, -(-int(seconds) // 3600))  # whole hours, rounded up
        moved = client.post(f"{SANDBOX_API}/clock/advance", sandbox, {"Data": {"Hours": hours}})
        print(f"   moved the sandbox clock {hours} h forward, to {moved['Data']['DateTime']}")
    return current


def _parse_time(value: str) -> float:
    """Seconds since 1970 of an ISO 8601 date-time with an offset (``Z`` too)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def pay(client: PartnerClient, amount: str, currency: str, creditor: dict[str, str],
        reference: str) -> dict[str, Any]:  # fmt: skip
    """A domestic payment end to end: stage the consent, the customer authorises it in the
    browser, submit the payment with an idempotency key, read its status until it settles on
    the sandbox clock. Every answer of the payment API has its signature checked."""
    staff = client.client_credentials("payments")["access_token"]
    consent = payment_consent(amount, currency, creditor, reference)
    staged = client.create_domestic_payment_consent(staff, consent)["Data"]
    consent_id = staged["ConsentId"]
    print(
        f"1. payment consent {consent_id} staged: {amount} {currency} to {creditor['Name']} "
        f"({creditor['Identification']}), {staged['Status']}; response signature verified"
    )
    tokens, identity = _authorised_in_browser(client, consent_id, "payments", 2)
    print(f"3. the customer authorised consent {identity['openbanking_intent_id']}")
    key = str(uuid.uuid4())  # keep it until the answer arrives: a retry with it pays once
    paid = client.submit_domestic_payment(tokens["access_token"], consent_id, consent, key)["Data"]
    print(
        f"4. payment {paid['DomesticPaymentId']} submitted (x-idempotency-key {key}): "
        f"{paid['Status']}, expected to settle {paid.get('ExpectedSettlementDateTime', '-')}"
    )
    final = _settled(client, staff, paid)
    print(
        f"5. payment {final['DomesticPaymentId']}: {final['Status']} since "
        f"{final['StatusUpdateDateTime']}"
    )
    return final


def borrow(client: PartnerClient, product: str, amount: str, term: int) -> dict[str, Any] | None:
    """A loan end to end (the app needs the ``financing`` scope): a quote, the application, the
    customer's authorisation in the browser, the bank's decision and offers, the acceptance of
    the first offer (the loan drawn down) and the loan's schedule. Returns the loan, or ``None``
    when the bank offers nothing (referred, declined, or not decided yet)."""
    staff = client.client_credentials("financing")["access_token"]
    loan = {"ProductId": product, "Amount": {"Amount": amount, "Currency": "GBP"}, "Term": term}
    quote = client.post(f"{FINANCING}/quotes", staff, {"Data": loan})["Data"]
    print(f"1. quote: APR {quote['APR']}%. {quote['RepresentativeExample']['Text']}")
    applied = client.post(f"{FINANCING}/loan-applications", staff, {"Data": {"Loan": loan}})
    consent_id = applied["Data"]["ConsentId"]
    print(f"2. application {consent_id}: {applied['Data']['Status']}")
    _authorised_in_browser(client, consent_id, "financing", 3)
    application = client.get(f"{FINANCING}/loan-applications/{consent_id}", staff)["Data"]
    if "Offers" not in application:  # offers come with the decision
        print(f"4. application {application['Status']}: the bank has not decided yet")
        return None
    decision = application.get("Decision") or {}
    reasons = "; ".join(r["Text"] for r in decision.get("Reasons", []))
    print(f"4. decision {decision.get('Outcome', '')}: {reasons}")
    offers = [o for o in application["Offers"] if o["Status"] == "Available"]
    if not offers:
        print("5. no offer to accept")
        return None
    offer = offers[0]
    path = f"{FINANCING}/loan-applications/{consent_id}/acceptance"
    drawn = client.post_idempotent(path, staff, {"Data": {"OfferId": offer["OfferId"]}})["Data"]
    paid = drawn["TotalAmountOfCredit"]["Amount"]
    print(f"5. accepted offer {offer['OfferId']} ({offer['Kind']}): loan {drawn['LoanId']}, "
          f"{paid} paid into {drawn['RepaymentAccountId']}")  # fmt: skip
    schedule = client.get(f"{FINANCING}/loans/{drawn['LoanId']}/schedule", staff)["Data"]
    for line in schedule["Instalment"][:3]:
        print(f"   {line['DueDate']}  {line['Amount']['Amount']:>10}  {line['Status']}")
    return dict(drawn)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="JSON file: issuer, client_id, ...")
    commands = parser.add_subparsers(dest="command", metavar="{accounts,pay,borrow}")
    accounts = commands.add_parser("accounts", help="read accounts (the default)")
    for where in (parser, accounts):
        where.add_argument(
            "--confirm-funds", metavar="AMOUNT",
            help="then ask whether AMOUNT is available in the first account (the app needs the "
            "fundsconfirmations scope)",
        )  # fmt: skip
    paying = commands.add_parser("pay", help="make a domestic payment (the app needs PISP)")
    paying.add_argument("amount", help="a decimal string, such as 12.50")
    paying.add_argument("--currency", default="GBP")
    paying.add_argument(
        "--to",
        default="08080021325698",
        metavar="SORTCODE_ACCOUNT",
        help="the creditor's sort code and account number, 14 digits",
    )
    paying.add_argument("--creditor-name", default="ACME Inc")
    paying.add_argument("--reference", default=None, help="yours (default: a new one)")
    borrowing = commands.add_parser("borrow", help="apply for a loan and take it (FINANCING)")
    borrowing.add_argument("amount", nargs="?", default="5000.00", help="a decimal string")
    borrowing.add_argument("--term", type=int, default=24, help="months")
    borrowing.add_argument("--product", default="personal-loan")
    return parser.parse_args()


def main() -> None:
    """The interactive flows: ``accounts`` (the default: consent, PAR, browser, code exchange,
    first API calls), ``pay AMOUNT`` (a domestic payment end to end) or ``borrow [AMOUNT]`` (a
    loan applied for, decided, accepted and drawn down)."""
    args = _arguments()
    client = PartnerClient.from_files(args.config)
    if args.command == "pay":
        creditor = {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": args.to,
                    "Name": args.creditor_name}  # fmt: skip
        reference = args.reference or f"PAY-{secrets.token_hex(4).upper()}"
        pay(client, args.amount, args.currency, creditor, reference)
        return
    if args.command == "borrow":
        borrow(client, args.product, args.amount, args.term)
        return
    _read_accounts(client, args.confirm_funds)


def _read_accounts(client: PartnerClient, confirm_funds: str | None) -> None:
    """The account information flow, then confirmation of funds if asked."""
    consent = client.create_account_access_consent(
        ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits",
         "ReadTransactionsDebits", "ReadTransactionsDetail"]
    )  # fmt: skip
    consent_id = consent["Data"]["ConsentId"]
    print(f"1. consent {consent_id} created, awaiting authorisation")
    tokens, identity = _authorised_in_browser(client, consent_id, "accounts", 2)
    print(
        f"3. got a {tokens['token_type']} token for {tokens['expires_in']} s; the ID token "
        f"says consent {identity['openbanking_intent_id']} was authorised ({identity['acr']})"
    )
    accounts = client.get("/open-banking/v4.0/aisp/accounts", tokens["access_token"])
    print("4. accounts:", json.dumps(accounts, indent=2))
    first = accounts["Data"]["Account"][0]["AccountId"]
    history = client.get(
        f"/open-banking/v4.0/aisp/accounts/{first}/transactions", tokens["access_token"]
    )
    for entry in history["Data"]["Transaction"][:10]:
        sign = "-" if entry["CreditDebitIndicator"] == "Debit" else "+"
        money = f"{sign}{entry['Amount']['Amount']:>10} {entry['Amount']['Currency']}"
        narrative = entry.get("TransactionInformation", "")
        print(f"   {entry['BookingDateTime'][:10]}  {money}  {narrative}")
    following = history["Links"].get("Next")
    print(f"5. the next page: {following}" if following else "5. that was the whole history")
    if confirm_funds:
        _confirm_funds(client, accounts["Data"]["Account"][0], confirm_funds)


if __name__ == "__main__":
    main()
