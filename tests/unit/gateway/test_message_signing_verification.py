"""Verifying a partner's ``x-jws-signature`` (:func:`gateway.api.message_signing.verify_request`)
with the keys its app registered, inline or at a ``jwks_uri``, in PS256 and ES256; and the bank's
own signatures (:func:`gateway.api.message_signing.sign_body`), which the example client's
checker accepts, as the gateway accepts the example client's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from gateway.api.message_signing import (
    CRITICAL,
    IAT,
    ISS,
    TAN,
    Signatory,
    sign_body,
    verify_request,
)
from gateway.api.message_signing.header import parse
from gateway.api.message_signing.verification import REGISTRY
from gateway.edge.errors import ApiError
from partners.errors import PartnerError
from partners.example_client import GatewayError, detached_jws, verify_detached_jws
from partners.jwks import fetch_jwks
from tests.common.jose import compact, hs256_with_public_key
from tests.common.message_signing import (
    SIGNED_AT,
    TRUST_ANCHOR,
    detach,
    ob_header,
    signature,
    unencoded,
)
from tests.common.oauth import new_key, public
from tests.unit.partners.test_jwks import KeyServer, Resolver, _issue_certificates

BODY = b'{"Data": {"Initiation": {"InstructedAmount": {"Amount": "10.50", "Currency": "GBP"}}}}'
EC_KEY = new_key("EC")
RSA_KEY = new_key("RSA")


def _app(*keys: dict[str, Any], **changes: Any) -> Signatory:
    app = Signatory(
        client_id="cli_abc",
        organisation_id="org_1",
        software_id=None,
        environment="sandbox",
        jwks={"keys": [public(key) for key in keys]} if keys else None,
        jwks_uri=None,
        request_signing=True,
    )
    return dataclasses.replace(app, **changes)


def _no_fetch(uri: str) -> dict[str, Any]:
    raise AssertionError(f"nothing is fetched for an app with inline keys ({uri})")


def _verify(app: Signatory, header: str | None, body: bytes = BODY, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "now": SIGNED_AT, "trust_anchor": TRUST_ANCHOR, "fetch_jwks": _no_fetch, **kwargs,
    }  # fmt: skip
    return verify_request(app, body, header, **options)


def _refused(app: Signatory, header: str | None, body: bytes = BODY, **kwargs: Any) -> Any:
    with pytest.raises(ApiError) as info:
        _verify(app, header, body, **kwargs)
    assert info.value.status == 400
    details = info.value.details
    assert len(details) == 1, details
    return details[0]


# -- what verifies ------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "alg"), [(EC_KEY, "ES256"), (RSA_KEY, "PS256")])
def test_a_signature_by_a_registered_key_verifies(key: dict[str, Any], alg: str) -> None:
    value = signature(BODY, key, "cli_abc")
    verified = _verify(_app(EC_KEY, RSA_KEY), value)
    assert (verified.kid, verified.alg, verified.iss) == (key["kid"], alg, "cli_abc")
    assert verified.iat == int(SIGNED_AT.timestamp()) - 5
    assert verified.value == value


def test_the_app_is_named_by_its_client_id_or_organisation_and_software() -> None:
    app = _app(EC_KEY, software_id="SoftwareId22")
    for iss in ("cli_abc", "org_1/cli_abc", "org_1/SoftwareId22"):
        assert _verify(app, signature(BODY, EC_KEY, iss)).iss == iss
    assert _refused(app, signature(BODY, EC_KEY, "SoftwareId22")).path == ISS


def test_an_empty_body_is_signed_and_verified_like_any_other() -> None:
    assert _verify(_app(EC_KEY), signature(b"", EC_KEY, "cli_abc"), b"").kid == EC_KEY["kid"]


# -- U019 and when a signature is needed -----------------------------------------------------------


def test_an_app_that_must_sign_and_sends_nothing_is_u019() -> None:
    detail = _refused(_app(EC_KEY), None)
    assert (detail.code, detail.path) == ("U019", "x-jws-signature")


def test_a_sandbox_app_that_switched_signing_off_may_send_none() -> None:
    assert _verify(_app(EC_KEY, request_signing=False), None) is None


def test_a_production_app_must_sign_whatever_its_column_says() -> None:
    app = _app(EC_KEY, environment="production", request_signing=False)
    assert _refused(app, None).code == "U019"


def test_a_signature_sent_by_an_app_that_need_not_sign_is_still_verified() -> None:
    app = _app(EC_KEY, request_signing=False)
    assert _verify(app, signature(BODY, EC_KEY, "cli_abc")).kid == EC_KEY["kid"]
    assert _refused(app, signature(BODY + b" ", EC_KEY, "cli_abc")).code == "U015"
    assert _refused(app, signature(BODY, EC_KEY, "cli_abc", tan="x.example")).code == "U016"


# -- U015: the signature itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        BODY + b"\n",  # a byte more than was signed
        BODY.replace(b"10.50", b"10.51"),
        json.dumps(json.loads(BODY), indent=2).encode(),  # the same JSON, serialised again
        json.dumps(json.loads(BODY), separators=(",", ":")).encode(),
    ],
)
def test_a_body_other_than_the_one_signed_is_u015(sent: bytes) -> None:
    assert sent != BODY
    detail = _refused(_app(EC_KEY), signature(BODY, EC_KEY, "cli_abc"), sent)
    assert (detail.code, detail.path) == ("U015", "x-jws-signature")
    assert EC_KEY["kid"] in detail.message and "ES256" in detail.message


@pytest.mark.parametrize("key", [EC_KEY, RSA_KEY])
def test_another_key_under_a_registered_kid_is_u015(key: dict[str, Any]) -> None:
    impostor = {**new_key(key["kty"]), "kid": key["kid"]}
    assert _refused(_app(EC_KEY, RSA_KEY), signature(BODY, impostor, "cli_abc")).code == "U015"


def test_a_signature_with_a_flipped_byte_or_of_the_wrong_size_is_u015() -> None:
    value = signature(BODY, EC_KEY, "cli_abc")
    protected, _, sig = value.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert _refused(_app(EC_KEY), f"{protected}..{flipped}").code == "U015"
    assert _refused(_app(EC_KEY), f"{protected}..{sig[:40]}").code == "U015"


def test_a_signature_of_the_unencoded_body_b64_false_is_refused() -> None:
    # OBIE v3.1.3 and earlier signed with b64 false (RFC 7797): not in v4.0.
    detail = _refused(_app(EC_KEY), unencoded(BODY, EC_KEY, "cli_abc"))
    assert (detail.code, detail.path) == ("U016", "b64")


# -- U016: the key the kid names -------------------------------------------------------------------


def test_a_kid_the_app_did_not_register_is_u016_naming_the_registered_ones() -> None:
    stranger = new_key("EC")
    detail = _refused(_app(EC_KEY, RSA_KEY), signature(BODY, stranger, "cli_abc"))
    assert (detail.code, detail.path) == ("U016", "kid")
    assert stranger["kid"] in detail.message and EC_KEY["kid"] in detail.message


def test_an_app_without_keys_cannot_sign() -> None:
    detail = _refused(_app(), signature(BODY, EC_KEY, "cli_abc"))
    assert (detail.code, detail.path) == ("U016", "kid")
    assert "registered: none" in detail.message


@pytest.mark.parametrize(
    ("registered", "header", "path"),
    [
        (RSA_KEY, {"alg": "ES256"}, "alg"),  # an RSA key signs PS256 only
        (EC_KEY, {"alg": "PS256"}, "alg"),  # an EC key signs ES256 only
    ],
)
def test_an_alg_that_does_not_fit_the_key_is_u016(
    registered: dict[str, Any], header: dict[str, Any], path: str
) -> None:
    # The key cannot make such a signature: any bytes stand for one, the key is checked first.
    value = detach(compact(ob_header(registered, "cli_abc", **header), BODY, b"\x01" * 64))
    detail = _refused(_app(registered), value)
    assert (detail.code, detail.path) == ("U016", path)


def test_a_key_registered_for_encryption_or_another_alg_is_u016() -> None:
    for extra in ({"use": "enc"}, {"alg": "ES384"}):
        app = _app(EC_KEY)
        assert app.jwks is not None
        app = dataclasses.replace(app, jwks={"keys": [{**app.jwks["keys"][0], **extra}]})
        detail = _refused(app, signature(BODY, EC_KEY, "cli_abc"))
        assert detail.code == "U016" and detail.path in ("kid", "alg")


def test_hmac_keyed_with_the_public_key_is_refused_before_any_key_is_used() -> None:
    head = ob_header(EC_KEY, "cli_abc")
    forged = detach(hs256_with_public_key(head, BODY, EC_KEY))
    detail = _refused(_app(EC_KEY), forged)
    assert (detail.code, detail.path) == ("U016", "alg")


# -- keys at a jwks_uri --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KeyServer, str]]:
    """An HTTPS server of key sets for ``jwks.test`` on the loopback interface."""
    ca_file, tls = _issue_certificates(tmp_path_factory.mktemp("tls"))
    server = KeyServer(tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    keys = json.dumps({"keys": [public(EC_KEY), public(RSA_KEY)]}).encode()
    server.routes = {"/jwks": (keys, 200, {"Content-Type": "application/jwk-set+json"})}
    yield server, ca_file
    server.shutdown()
    server.server_close()
    thread.join(5)


def _uri_app(server: KeyServer, path: str) -> Signatory:
    return _app(jwks_uri=f"https://jwks.test:{server.server_address[1]}{path}")


def _fetcher(ca_file: str) -> Any:
    def fetch(uri: str) -> dict[str, Any]:
        return fetch_jwks(uri, resolver=Resolver("127.0.0.1"), allow_addresses={"127.0.0.1"},
                          ca_file=ca_file, timeout=5.0)  # fmt: skip

    return fetch


@pytest.mark.parametrize("key", [EC_KEY, RSA_KEY])
def test_keys_published_at_the_apps_jwks_uri_verify(
    key_server: tuple[KeyServer, str], key: dict[str, Any]
) -> None:
    server, ca_file = key_server
    verified = _verify(
        _uri_app(server, "/jwks"), signature(BODY, key, "cli_abc"), fetch_jwks=_fetcher(ca_file)
    )
    assert verified.kid == key["kid"]
    assert server.requests[-1][0] == "/jwks"


def test_a_jwks_uri_that_fails_is_u016_saying_why(key_server: tuple[KeyServer, str]) -> None:
    server, ca_file = key_server
    detail = _refused(
        _uri_app(server, "/gone"), signature(BODY, EC_KEY, "cli_abc"), fetch_jwks=_fetcher(ca_file)
    )
    assert (detail.code, detail.path) == ("U016", "kid")
    assert "jwks_uri" in detail.message and "HTTP 404" in detail.message


def test_a_kid_missing_from_the_jwks_uri_is_u016() -> None:
    app = _app(jwks_uri="https://keys.tpp.example/jwks")
    detail = _refused(
        app,
        signature(BODY, new_key(), "cli_abc"),
        fetch_jwks=lambda uri: {"keys": [public(EC_KEY)]},
    )
    assert (detail.code, detail.path) == ("U016", "kid")


def test_a_fetch_refusal_is_reported_not_raised() -> None:
    def refuse(uri: str) -> dict[str, Any]:
        raise PartnerError("invalid_jwks_uri", "keys.tpp.example resolves to a non-public address")

    app = _app(jwks_uri="https://keys.tpp.example/jwks")
    detail = _refused(app, signature(BODY, EC_KEY, "cli_abc"), fetch_jwks=refuse)
    assert detail.code == "U016" and "non-public" in detail.message


# -- the bank's signatures, and the example client's ---------------------------------------------


def test_the_banks_signature_is_detached_with_the_obie_header_and_verifies() -> None:
    bank = ECKey.generate_key("P-256", parameters={"kid": "bank-1"})
    value = sign_body(BODY, key=bank, kid="bank-1", alg="ES256", iss="https://bank.example",
                      tan="bank.example", now=SIGNED_AT)  # fmt: skip
    _protected, payload, _sig = value.split(".")
    assert payload == ""
    checked = jws.deserialize_compact(value, bank, registry=REGISTRY, payload=BODY)
    assert checked.headers() == {
        "alg": "ES256", "kid": "bank-1", "typ": "JOSE", "crit": list(CRITICAL),
        IAT: int(SIGNED_AT.timestamp()), ISS: "https://bank.example", TAN: "bank.example",
    }  # fmt: skip
    with pytest.raises(Exception, match="signature"):
        jws.deserialize_compact(value, bank, registry=REGISTRY, payload=BODY + b" ")


@pytest.mark.parametrize("key", [EC_KEY, RSA_KEY])
def test_the_example_clients_signature_is_accepted(key: dict[str, Any]) -> None:
    value = detached_jws(BODY, key, iss="cli_abc", tan=TRUST_ANCHOR, iat=SIGNED_AT.timestamp())
    assert _verify(_app(key), value).alg == ("ES256" if key["kty"] == "EC" else "PS256")
    assert _refused(_app(key), value, BODY[:-1]).code == "U015"


def test_the_example_client_checks_the_banks_signature() -> None:
    bank = ECKey.generate_key("P-256", parameters={"kid": "bank-1"})
    jwks = {"keys": [bank.as_dict(private=False)]}
    value = sign_body(BODY, key=bank, kid="bank-1", alg="ES256", iss="https://bank.example",
                      tan="bank.example", now=SIGNED_AT)  # fmt: skip
    header = verify_detached_jws(BODY, value, jwks, iss="https://bank.example", tan="bank.example")
    assert header["kid"] == "bank-1"
    for body, iss, tan in (
        (BODY + b" ", "https://bank.example", "bank.example"),
        (BODY, "https://other.example", "bank.example"),
        (BODY, "https://bank.example", "other.example"),
    ):
        with pytest.raises(GatewayError):
            verify_detached_jws(body, value, jwks, iss=iss, tan=tan)
    other = RSAKey.generate_key(2048, parameters={"kid": "bank-1"})
    with pytest.raises(GatewayError):
        verify_detached_jws(BODY, value, {"keys": [other.as_dict(private=False)]},
                            iss="https://bank.example", tan="bank.example")  # fmt: skip


def test_now_is_the_clock_iat_is_compared_with() -> None:
    value = signature(BODY, EC_KEY, "cli_abc")
    earlier = SIGNED_AT - dt.timedelta(minutes=2)
    detail = _refused(_app(EC_KEY), value, now=earlier)
    assert (detail.code, detail.path) == ("U016", IAT)


def test_the_guides_signing_script_signs_what_the_gateway_verifies(tmp_path: Path) -> None:
    guide = (Path(__file__).resolve().parents[3] / "docs" / "getting-started.md").read_text()
    script = re.search(r"```python\n(# sign\.py.*?)```", guide, re.DOTALL)
    assert script is not None, "the guide lost its signing script"
    (tmp_path / "private_jwk.json").write_text(json.dumps(EC_KEY))
    (tmp_path / "body.json").write_bytes(BODY)
    code = script.group(1).replace('"cli_..."', '"cli_abc"').replace('"127.0.0.1"', '"localhost"')
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    value = ran.stdout.strip()
    # Checked at the time it says it was signed: the script reads the clock, the test does not.
    signed_at = dt.datetime.fromtimestamp(parse(value).header[IAT], dt.UTC)
    assert _verify(_app(EC_KEY), value, now=signed_at).iss == "cli_abc"
    assert _refused(_app(EC_KEY), value, BODY + b" ", now=signed_at).code == "U015"
