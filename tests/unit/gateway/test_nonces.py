"""Server DPoP nonces (:mod:`gateway.oauth.nonces`, RFC 9449 §8, §9): checked without the store,
by the secret key that made them, for as long as they live."""

from __future__ import annotations

import base64

import pytest

from gateway.oauth.nonces import HOSTS_SKEW, LIFETIME, REISSUE, Nonces

NOW = 1_800_000_000.0


def test_a_nonce_tells_when_it_was_issued_to_the_millisecond() -> None:
    nonces = Nonces("secret", required=False)
    nonce = nonces.issue(NOW + 0.1234)
    assert nonces.issued_at(nonce, NOW + 1) == pytest.approx(NOW + 0.123)
    # RFC 9449 §8.1: a nonce is 1*NQCHAR; this one is base64url.
    assert len(nonce) == 32 and nonce.isascii() and not {'"', "\\", " "} & set(nonce)


def test_nonces_change_with_time_and_any_worker_with_the_key_checks_them() -> None:
    first, second = Nonces("secret", required=False), Nonces("secret", required=True)
    assert first.issue(NOW) != first.issue(NOW + 0.001)
    assert second.issued_at(first.issue(NOW), NOW) == NOW


@pytest.mark.parametrize(
    ("issued", "accepted"),
    [
        (NOW - LIFETIME, True),
        (NOW - LIFETIME - 1, False),
        (NOW + HOSTS_SKEW, True),
        (NOW + HOSTS_SKEW + 1, False),
    ],
)
def test_a_nonce_lives_a_lifetime(issued: float, accepted: bool) -> None:
    nonces = Nonces("secret", required=False)
    assert (nonces.issued_at(nonces.issue(issued), NOW) is not None) is accepted


def _moved(nonce: str, milliseconds: int) -> str:
    raw = base64.urlsafe_b64decode(nonce)
    stamp = (int.from_bytes(raw[:6], "big") + milliseconds).to_bytes(6, "big")
    return base64.urlsafe_b64encode(stamp + raw[6:]).decode()


@pytest.mark.parametrize(
    "forge",
    [
        lambda n: Nonces("another secret", required=False).issue(NOW),
        lambda n: _moved(n, 1),
        lambda n: _moved(n, -60_000),
        lambda n: n[:-1] + ("A" if n[-1] != "A" else "B"),
        lambda n: n[:-1],
        lambda n: n + "A",
        lambda n: n.replace(n[0], "+", 1),
        lambda n: n[:31] + "=",
        lambda n: 12345,
        lambda n: None,
        lambda n: "",
    ],
)
def test_a_nonce_not_made_by_this_key_is_refused(forge: object) -> None:
    nonces = Nonces("secret", required=False)
    assert nonces.issued_at(forge(nonces.issue(NOW)), NOW) is None  # type: ignore[operator]


def test_one_nonce_is_offered_a_second_and_a_new_one_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each nonce is an HMAC to make and to check: responses offer the latest for a second, and
    a refusal's new nonce is offered from then on."""
    clock = [NOW]
    monkeypatch.setattr("gateway.oauth.nonces.time.time", lambda: clock[0])
    nonces = Nonces("secret", required=False)
    first = nonces.offered()
    clock[0] += REISSUE / 2
    assert nonces.offered() == first
    clock[0] += REISSUE
    second = nonces.offered()
    assert second != first and nonces.issued_at(second) == clock[0]
    clock[0] += 0.001
    fresh = nonces.issue()
    assert nonces.offered() == fresh != second
