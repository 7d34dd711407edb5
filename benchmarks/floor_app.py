"""The floor of an authorised account read: the least work of a gateway that reads the database
on every ``GET /accounts``.

``bench_api.py --floor`` serves this small Flask application beside the gateway, on the same
gunicorn configuration, and measures it in the same rounds. It is not the gateway and shares no
code with it. Per call it does only what no compliant gateway that keeps nothing between calls
can skip:

* check the DPoP proof as RFC 9449 §4.3 asks: parse it, verify its ES256 signature, compare
  ``htm``, ``htu``, ``iat`` and ``ath``, and match its key to the token's ``cnf.jkt``;
* read the token, its consent and the consented accounts in **one** statement, on a
  thread-local autocommit psycopg connection (no SQLAlchemy, no pool);
* count the call against the app's rate limit and claim the proof's ``jti``, in **one** Redis
  round trip;
* echo ``x-fapi-interaction-id`` and answer the accounts, which are stored as ready-made JSON.

So the floor's ratio to its own bare endpoint is about the best such a call can reach on this
machine and stack. The gateway keeps tokens, consents and listings between calls
(gateway.oauth.token_cache), so it can come close to the floor, or pass it.
Only PostgreSQL and Redis are supported: they are the production stores.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import os
import secrets
import threading
import time
import uuid
from typing import Any

import psycopg
import redis
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask, Response, jsonify, request

ACCOUNTS = "/open-banking/v4.0/aisp/accounts"
SCHEMA = (
    "DROP TABLE IF EXISTS floor_account, floor_token, floor_consent",
    "CREATE TABLE floor_consent (id text PRIMARY KEY, status text NOT NULL,"
    " expires_at timestamptz NOT NULL)",
    "CREATE TABLE floor_token (access_hash text PRIMARY KEY, cnf_jkt text NOT NULL,"
    " expires_at timestamptz NOT NULL, client_id text NOT NULL,"
    " consent_id text NOT NULL REFERENCES floor_consent)",
    "CREATE TABLE floor_account (consent_id text NOT NULL REFERENCES floor_consent,"
    " position int NOT NULL, body text NOT NULL, PRIMARY KEY (consent_id, position))",
)
READ = (
    "SELECT t.cnf_jkt, t.expires_at, t.client_id, c.status, c.expires_at, a.body"
    " FROM floor_token t JOIN floor_consent c ON c.id = t.consent_id"
    " LEFT JOIN floor_account a ON a.consent_id = c.id"
    " WHERE t.access_hash = %s ORDER BY a.position"
)


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """The bytes of a base64url string without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of a P-256 public JWK."""
    members = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]}
    return b64(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())


def prepare(database_url: str, accounts: list[dict[str, Any]], dpop_jwk: dict[str, Any]) -> str:
    """Create the floor's tables with one live token bound to ``dpop_jwk``, whose consent holds
    ``accounts`` (the bodies the gateway answered); return the access token."""
    token = secrets.token_urlsafe(32)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with psycopg.connect(_libpq(database_url), autocommit=True) as connection:
        for statement in SCHEMA:
            connection.execute(statement)  # type: ignore[arg-type]
        connection.execute("INSERT INTO floor_consent VALUES ('c1', 'Authorised', %s)", (later,))
        connection.execute(
            "INSERT INTO floor_token VALUES (%s, %s, %s, 'floor-app', 'c1')",
            (hashlib.sha256(token.encode()).hexdigest(), thumbprint(dpop_jwk), later),
        )
        for position, account in enumerate(accounts):
            connection.execute(
                "INSERT INTO floor_account VALUES ('c1', %s, %s)",
                (position, json.dumps(account, separators=(",", ":"))),
            )
    return token


def drop(database_url: str) -> None:
    """Remove the floor's tables."""
    with psycopg.connect(_libpq(database_url), autocommit=True) as connection:
        connection.execute(SCHEMA[0])


def _libpq(url: str) -> str:
    """A libpq URL from an SQLAlchemy one."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@functools.lru_cache(maxsize=1024)
def _public_key(crv: str, x: str, y: str) -> tuple[ec.EllipticCurvePublicKey, str]:
    """A client's P-256 key and its thumbprint, imported once (as the gateway does)."""
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64(x), "big"), int.from_bytes(unb64(y), "big"), ec.SECP256R1()
    )
    return numbers.public_key(), thumbprint({"crv": crv, "kty": "EC", "x": x, "y": y})


def verify_proof(proof: str, method: str, url: str, token_digest: bytes) -> tuple[str, str] | None:
    """The proof's key thumbprint and jti when it passes RFC 9449 §4.3, else ``None``
    (``token_digest``: the SHA-256 of the access token, which ``ath`` must carry)."""
    try:
        header_part, claims_part, signature_part = proof.split(".")
        header = json.loads(unb64(header_part))
        claims = json.loads(unb64(claims_part))
        jwk = header["jwk"]
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or "d" in jwk:
            return None
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            return None
        key, jkt = _public_key(jwk["crv"], jwk["x"], jwk["y"])
        signature = unb64(signature_part)
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        key.verify(
            encode_dss_signature(r, s),
            f"{header_part}.{claims_part}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    except (ValueError, KeyError, TypeError, InvalidSignature):
        return None
    now = time.time()
    jti = claims.get("jti")
    ath = b64(token_digest)
    if (
        claims.get("htm") != method
        or claims.get("htu") != url
        or not isinstance(claims.get("iat"), int)
        or not now - 300 <= claims["iat"] <= now + 60
        or claims.get("ath") != ath
        or not isinstance(jti, str)
    ):
        return None
    return jkt, jti


def create_app() -> Flask:
    """The floor application (``gunicorn 'floor_app:create_app()'``), configured by
    ``FLOOR_DATABASE_URL``, ``FLOOR_REDIS_URL`` and ``FLOOR_ISSUER``."""
    app = Flask(__name__)
    database_url = _libpq(os.environ["FLOOR_DATABASE_URL"])
    store = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
    issuer = os.environ["FLOOR_ISSUER"]
    local = threading.local()

    def connection() -> psycopg.Connection[Any]:
        if getattr(local, "connection", None) is None:
            local.connection = psycopg.connect(database_url, autocommit=True)
        return local.connection  # type: ignore[no-any-return]

    def refused() -> Response:
        error = {"ErrorCode": "UK.OBIE.Unauthorized", "Message": "the token is not valid"}
        body = {"Code": "401", "Message": "Unauthorized", "Errors": [error]}
        return Response(json.dumps(body), status=401, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get(ACCOUNTS)
    def accounts() -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        proof = request.headers.get("DPoP", "")
        digest = hashlib.sha256(token.encode()).digest()
        checked = verify_proof(proof, "GET", issuer + request.path, digest)
        if scheme != "DPoP" or checked is None:
            return refused()
        jkt, jti = checked
        rows = connection().execute(READ, (digest.hex(),)).fetchall()
        now = dt.datetime.now(dt.UTC)
        if not rows or rows[0][0] != jkt or rows[0][1] <= now:
            return refused()
        if rows[0][3] != "Authorised" or rows[0][4] <= now:
            return refused()
        window = int(time.time())
        counter = f"floor:{rows[0][2]}:{window}"
        pipe = store.pipeline(transaction=False)
        pipe.incr(counter)
        pipe.expire(counter, 2)
        pipe.set(f"floor-jti:{jti}", b"1", nx=True, ex=360)
        _count, _ttl, fresh = pipe.execute()
        if not fresh:
            return refused()
        listed = ",".join(row[5] for row in rows if row[5] is not None)
        body = (
            f'{{"Data":{{"Account":[{listed}]}},"Links":{{"Self":"{issuer}{ACCOUNTS}"}},'
            f'"Meta":{{"TotalPages":1}}}}'
        )
        interaction = request.headers.get("x-fapi-interaction-id") or str(uuid.uuid4())
        return Response(
            body, mimetype="application/json", headers={"x-fapi-interaction-id": interaction}
        )

    return app
