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

Run it as a script for the interactive version (it listens on the redirect URI for the code):

    python3 partner_client.py --config client.json [--confirm-funds 20.00]

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
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, import_key
from joserfc.registry import HeaderParameter

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
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
        signed: dict[str, str] | None = None,
    ) -> Any:  # fmt: skip
        """Send a request: ``form`` is sent with the client's authentication, ``token`` with a
        DPoP proof bound to it, ``proof`` a proof without a token. When the server asks for a
        DPoP nonce (RFC 9449 §8, §9), send it again, once, with a fresh proof carrying it (and a
        fresh client assertion: the first one was used)."""
        url = path if path.startswith("http") else self.issuer + path
        status, headers, data = self._send(method, url, form, json_body, token, proof, signed)
        if (proof or token is not None) and _asks_for_nonce(status, headers, data):
            status, headers, data = self._send(method, url, form, json_body, token, proof, signed)
        if status >= 400:
            raise GatewayError(status, data)
        return data

    def _send(
        self, method: str, url: str, form: dict[str, str] | None, json_body: Any,
        token: str | None, proof: bool, signed: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        """One request; its status, its headers (names in lower case) and its JSON body.
        ``signed`` (extra headers, such as the idempotency key) asks for the body's OBIE
        message signature."""
        headers = {"Accept": "application/json"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(self._authenticated_form(form)).encode()
            headers.update({"Content-Type": "application/x-www-form-urlencoded", **self._basic()})
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
            if signed is not None:
                tan = urllib.parse.urlsplit(self.issuer).hostname or ""
                jws = detached_jws(body, self.private_jwk, iss=self.client_id, tan=tan)
                headers.update({**signed, "x-jws-signature": jws})
        if token is not None:
            headers.update(self.resource_headers(method, url, token))
        elif proof:
            headers["DPoP"] = self.dpop_proof(method, url)
        status, answered, raw = self.transport(method, url, headers, body)
        lowered = {name.lower(): value for name, value in answered.items()}
        if "dpop-nonce" in lowered:
            self.dpop_nonces[_origin(url)] = lowered["dpop-nonce"]
        return status, lowered, json.loads(raw) if raw else None

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

    def get(self, path: str, token: str) -> Any:
        """GET an API resource with a DPoP-bound token."""
        return self._call("GET", path, token=token)

    def post(self, path: str, token: str, body: Any) -> Any:
        """POST JSON to an API resource with a DPoP-bound token."""
        return self._call("POST", path, json_body=body, token=token)

    def post_signed(
        self, path: str, token: str, body: Any, *, idempotency_key: str | None = None
    ) -> Any:
        """POST to the payment or funds-confirmation APIs: the body signed (``x-jws-signature``)
        and an ``x-idempotency-key``, a new one unless given. To retry a request whose answer
        was lost, send it again with the same key: the bank answers what it answered the first
        time and does nothing twice."""
        key = idempotency_key or str(uuid.uuid4())
        return self._call("POST", path, json_body=body, token=token,
                          signed={"x-idempotency-key": key})  # fmt: skip

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


def _wait_for_redirect(redirect_uri: str) -> str:
    """Listen once on a loopback redirect URI and return the full URL the browser came back to."""
    parts = urllib.parse.urlsplit(redirect_uri)
    received: list[str] = []

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

    server = HTTPServer((parts.hostname or "127.0.0.1", parts.port or 80), Handler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    thread.join(timeout=300)
    server.server_close()
    if not received:
        raise SystemExit("no redirect arrived within five minutes")
    return received[0]


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
    print(f"{step}. pushed the authorization request; open this URL and approve:\n   {url}")
    webbrowser.open(url)
    code = parse_redirect(_wait_for_redirect(client.redirect_uri), state, client.issuer)
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


def main() -> None:
    """The interactive flow: consent, PAR, browser, code exchange, first API call."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="JSON file: issuer, client_id, ...")
    parser.add_argument(
        "--confirm-funds", metavar="AMOUNT",
        help="then ask whether AMOUNT is available in the first account (the app needs the "
        "fundsconfirmations scope)",
    )  # fmt: skip
    args = parser.parse_args()
    client = PartnerClient.from_files(args.config)
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
    if args.confirm_funds:
        _confirm_funds(client, accounts["Data"]["Account"][0], args.confirm_funds)


if __name__ == "__main__":
    main()
