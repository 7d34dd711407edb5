"""The ``x-jws-signature`` value and its JOSE header (:mod:`gateway.api.message_signing.header`):
what parses as a detached JWS (else U018), and each rule of the OBIE profile's header (a missing
claim is U017, a wrong one U016, each with the claim's name as ``Path``)."""

from __future__ import annotations

import base64
import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.api.message_signing.header import CRITICAL, IAT, ISS, TAN, check, parse
from gateway.edge.errors import ApiError
from tests.common.jose import DROP, b64url
from tests.common.message_signing import SIGNED_AT, TRUST_ANCHOR, ob_header
from tests.common.oauth import new_key

NOW = SIGNED_AT.timestamp()
KEY = new_key()
ISSUERS = ("cli_abc", "org_1/cli_abc")


def _value(header: Any, payload: str = "", signature: str = "c2ln") -> str:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return f"{b64url(raw)}.{payload}.{signature}"


def _refused(call: Any, *args: Any, **kwargs: Any) -> list[dict[str, str]]:
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    assert info.value.status == 400
    return [detail.to_json() for detail in info.value.details]


def _malformed(value: str) -> str:
    details = _refused(parse, value)
    assert [(d["ErrorCode"], d.get("Path")) for d in details] == [("U018", "x-jws-signature")]
    return details[0]["Message"]


# -- the value ----------------------------------------------------------------------------------


def test_a_detached_compact_jws_parses_to_its_header() -> None:
    header = ob_header(KEY, "cli_abc")
    parsed = parse(_value(header))
    assert parsed.header == header
    assert parsed.value == _value(header)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "three parts"),
        ("abc", "three parts"),
        ("a.b", "three parts"),
        ("a..b.c", "three parts"),
        ("eyJ9..c2ln..", "three parts"),
        (_value({"alg": "ES256"}, payload="e30"), "payload part must be empty"),
        (_value({"alg": "ES256"}, signature=""), "no signature"),
        (_value({"alg": "ES256"}, signature="c2ln+/=="), "signature is not base64url"),
        (_value({"alg": "ES256"}, signature="c"), "signature is not base64url"),
        ("eyJhbGciOiJFUzI1NiJ9=..c2ln", "header is not base64url"),
        ("e y..c2ln", "header is not base64url"),
        (_value(b"not json"), "not a JSON object"),
        (_value(b'["alg"]'), "not a JSON object"),
        (_value(b'"ES256"'), "not a JSON object"),
        (_value(b"\xff\xfe{}"), "not a JSON object"),
        (_value(b'{"alg": "ES256", "alg": "none"}'), "names a parameter twice"),
        ("é" + _value({"alg": "ES256"}), "compact JWS of at most"),
        (_value({"alg": "ES256", "pad": "x" * 9000}), "compact JWS of at most"),
    ],
)
def test_what_is_not_a_detached_jws_is_malformed(value: str, says: str) -> None:
    assert says in _malformed(value)


_COMPACTISH = st.text(alphabet=string.ascii_letters + string.digits + "-_.=", max_size=120)
# Headers that are JSON, some objects, between empty or non-empty other parts.
_ASSEMBLED = st.builds(
    lambda header, payload, signature: _value(header.encode(), payload, signature),
    st.one_of(st.just("{}"), st.text(max_size=30)),
    st.sampled_from(["", "e30", "a.b"]),
    st.sampled_from(["", "c2ln", "c2ln=", "!"]),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), _COMPACTISH, _ASSEMBLED))
def test_any_text_parses_or_is_malformed_never_worse(value: str) -> None:
    try:
        parsed = parse(value)
    except ApiError as exc:
        assert [d.code for d in exc.details] == ["U018"]
    else:
        assert isinstance(parsed.header, dict)


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "cty", "b64", "crit", IAT, ISS, TAN, "x"]), _JSON
    ),
    st.text(alphabet="ABCabc012-_", max_size=40),
)
def test_any_header_is_accepted_or_refused_with_a_signature_code(
    header: dict[str, Any], signature: str
) -> None:
    try:
        check(parse(_value(header, signature=signature or "c2ln")).header,
              issuers=ISSUERS, trust_anchor=TRUST_ANCHOR, now=NOW)  # fmt: skip
    except ApiError as exc:
        assert {d.code for d in exc.details} <= {"U016", "U017", "U018"}
        assert all(d.path for d in exc.details)


# -- the header's rules ---------------------------------------------------------------------------


def _check(**overrides: Any) -> None:
    check(ob_header(KEY, "cli_abc", **overrides), issuers=ISSUERS, trust_anchor=TRUST_ANCHOR,
          now=NOW)  # fmt: skip


def test_a_header_by_the_profile_passes() -> None:
    _check()
    # typ and cty are optional; media types compare without case; "json" is application/json.
    _check(typ=DROP, cty=DROP)
    _check(typ="jose", cty="json")
    # b64 true is the default (RFC 7797 §3), and may be named in crit (RFC 7797 §6).
    _check(b64=True)
    _check(b64=True, crit=[*CRITICAL, "b64"])
    # iat is a JSON number: fractions too, and up to a minute ahead of our clock.
    _check(iat=NOW - 0.5)
    _check(iat=NOW + 60)
    # Each value that names the app.
    _check(iss="org_1/cli_abc")


@pytest.mark.parametrize("name", ["alg", "kid", "crit", IAT, ISS, TAN])
def test_each_mandatory_claim_missing_is_u017_naming_it(name: str) -> None:
    overrides = {{IAT: "iat", ISS: "iss", TAN: "tan"}.get(name, name): DROP}
    if name in CRITICAL:
        # Still named in crit: only the claim itself is missing.
        overrides["crit"] = list(CRITICAL)
    details = _refused(_check, **overrides)
    assert [(d["ErrorCode"], d["Path"]) for d in details] == [("U017", name)]


@pytest.mark.parametrize(
    ("path", "overrides", "says"),
    [
        ("alg", {"alg": "none"}, "'none' is not accepted"),
        ("alg", {"alg": "HS256"}, "'HS256' is not accepted"),
        ("alg", {"alg": "RS256"}, "sign with PS256 or ES256"),
        ("alg", {"alg": "EdDSA"}, "sign with PS256 or ES256"),
        ("alg", {"alg": ["ES256"]}, "is not accepted"),
        ("kid", {"kid": ""}, "non-empty id"),
        ("kid", {"kid": 7}, "non-empty id"),
        ("typ", {"typ": "JWT"}, "'JWT' is not JOSE"),
        ("cty", {"cty": "text/plain"}, "is not application/json"),
        ("b64", {"b64": False, "crit": [*CRITICAL, "b64"]}, "RFC 7515"),
        ("b64", {"b64": "true"}, "absent or true"),
        ("crit", {"crit": list(CRITICAL[:2])}, f"it lacks {TAN}"),
        ("crit", {"crit": [*CRITICAL, "exp"]}, "crit names exp"),
        ("crit", {"crit": [*CRITICAL, "b64"]}, "crit names b64"),
        ("crit", {"crit": [*CRITICAL, IAT]}, "twice"),
        ("crit", {"crit": ",".join(CRITICAL)}, "an array"),
        ("crit", {"crit": [*CRITICAL, 1]}, "an array"),
        (IAT, {"iat": "1772618400"}, "JSON number"),
        (IAT, {"iat": True}, "JSON number"),
        (IAT, {"iat": float("nan")}, "JSON number"),
        (IAT, {"iat": NOW + 61}, "in the future"),
        (ISS, {"iss": "cli_other"}, "expected one of cli_abc, org_1/cli_abc"),
        (ISS, {"iss": ["cli_abc"]}, "does not name the signer"),
        (TAN, {"tan": "openbanking.org.uk"}, "is not this trust anchor: localhost"),
        (TAN, {"tan": None}, "is not this trust anchor"),
    ],
)
def test_each_claim_with_a_wrong_value_is_u016_naming_it(
    path: str, overrides: dict[str, Any], says: str
) -> None:
    details = _refused(_check, **overrides)
    assert [(d["ErrorCode"], d["Path"]) for d in details] == [("U016", path)]
    assert says in details[0]["Message"]


def test_every_problem_of_a_header_is_reported_at_once() -> None:
    details = _refused(_check, alg="HS256", kid=DROP, tan="elsewhere.example", iat=DROP)
    assert {(d["ErrorCode"], d["Path"]) for d in details} == {
        ("U016", "alg"), ("U017", "kid"), ("U016", TAN), ("U017", IAT),
    }  # fmt: skip


def test_a_header_as_sent_with_nan_parses_and_is_refused() -> None:
    # Python's JSON reader takes NaN, which no JSON number is: refused as iat, not a crash.
    raw = json.dumps(ob_header(KEY, "cli_abc")).replace(str(int(NOW) - 5), "NaN").encode()
    header = parse(_value(raw)).header
    details = _refused(check, header, issuers=ISSUERS, trust_anchor=TRUST_ANCHOR, now=NOW)
    assert [(d["ErrorCode"], d["Path"]) for d in details] == [("U016", IAT)]


def test_the_header_is_read_as_base64url_of_utf8_json() -> None:
    header = ob_header(KEY, "cli_abc", kid="clé-1")
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    assert parse(f"{encoded}..c2ln").header["kid"] == "clé-1"
