"""The try-the-flow logic without a server: masking, recording, credentials, the shared store."""

from __future__ import annotations

import json

import fakeredis
import pytest

from gateway.portal import trial
from tests.common.oauth import new_key, public


def test_secrets_are_shown_only_in_part() -> None:
    assert trial.mask("obs_0123456789abcdefghijKLMN") == "obs_01…KLMN"
    assert trial.mask("short") == "••••••••"


def test_the_recorder_keeps_a_readable_masked_copy() -> None:
    def answer(
        method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        reply = {"access_token": "oba_" + "x" * 40, "token_type": "DPoP", "expires_in": 600}
        return 200, {"Content-Type": "application/json"}, json.dumps(reply).encode()

    recorder = trial.Recorder(answer)
    form = b"grant_type=authorization_code&code=obc_secretcode123456789&code_verifier=" + b"v" * 40
    status, _headers, _raw = recorder(
        "POST",
        "http://127.0.0.1:5000/token",
        {"Authorization": "Basic " + "Y" * 40, "Content-Type": "application/x-www-form-urlencoded"},
        form,
    )
    assert status == 200
    (exchange,) = recorder.exchanges
    assert exchange.title == "Exchange the code for tokens"
    assert dict(exchange.request_headers)["Authorization"] == "Basic YYYYYY…YYYY"
    assert "grant_type=authorization_code" in exchange.request_body
    assert "obc_secretcode123456789" not in exchange.request_body
    assert "v" * 40 not in exchange.request_body
    assert (
        "x" * 40 not in exchange.response_body and '"token_type": "DPoP"' in exchange.response_body
    )


def test_credentials_are_checked_for_their_shape() -> None:
    key = new_key()
    assert trial.check_credential("private_key_jwt", json.dumps(key)).method == "private_key_jwt"
    with pytest.raises(trial.TrialError, match="public key"):
        trial.check_credential("private_key_jwt", json.dumps(public(key)))
    with pytest.raises(trial.TrialError, match="kid"):
        trial.check_credential("private_key_jwt", json.dumps({**key, "kid": ""}))
    with pytest.raises(trial.TrialError, match="JSON Web Key"):
        trial.check_credential("private_key_jwt", "not json")
    with pytest.raises(trial.TrialError, match="client secret"):
        trial.check_credential("client_secret_basic", "  ")


def test_pending_walkthroughs_are_taken_once_and_expire() -> None:
    store = fakeredis.FakeRedis()
    pending = trial.Pending(
        "dev_1", "cli_1", "http://127.0.0.1:5000", "http://127.0.0.1:5000/cb",
        trial.Credential("client_secret_basic", "obs_x"), new_key(), "verifier", "state",
        "urn:ietf:params:oauth:request_uri:abc", "aac-1",
        [trial.Exchange("t", "POST", "u", [("A", "b")], "", 201, [("C", "d")], "{}")],
    )  # fmt: skip
    handle = trial.save(store, pending)
    slot = handle.split(".")[0]
    assert 0 < store.ttl(f"portal:trial:{slot}") <= trial.STATE_TTL
    assert trial.take(store, handle) == pending
    assert trial.take(store, handle) is None


def test_the_stored_walkthrough_is_sealed_with_a_key_only_the_handle_carries() -> None:
    store = fakeredis.FakeRedis()
    key = new_key()
    pending = trial.Pending(
        "dev_1", "cli_1", "http://127.0.0.1:5000", "http://127.0.0.1:5000/cb",
        trial.Credential("private_key_jwt", json.dumps(key)), new_key(), "verifier", "state",
        "urn:ietf:params:oauth:request_uri:abc", "aac-1",
    )  # fmt: skip
    handle = trial.save(store, pending)
    slot = handle.split(".")[0]
    stored = store.get(f"portal:trial:{slot}")
    assert stored is not None
    assert key["d"].encode() not in stored and b"verifier" not in stored and b"dev_1" not in stored
    # Another key, or a handle pointing the key at another record, opens nothing.
    other = trial.save(store, pending)
    assert trial.take(store, f"{slot}.{other.split('.')[1]}") is None
    assert trial.take(store, f"{slot}.not-base64!") is None
    assert trial.take(store, other) == pending


def test_the_example_client_loads_from_the_source_tree() -> None:
    module = trial.example_client()
    assert hasattr(module, "PartnerClient") and hasattr(module, "parse_redirect")
