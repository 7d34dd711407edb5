"""Redirect URIs (:mod:`partners.redirects`): what an app may register (RFC 6749 §3.1.2, loopback
in the sandbox per RFC 8252 §7.3) and exact matching at authorization time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from partners.errors import PartnerError
from partners.models import App
from partners.redirects import (
    MAX_LENGTH,
    MAX_URIS,
    check_redirect_uri,
    check_redirect_uris,
    redirect_uri_registered,
)


def _refused(uris: Any, environment: str = "sandbox") -> PartnerError:
    with pytest.raises(PartnerError) as info:
        check_redirect_uris(uris, environment)
    return info.value


@pytest.mark.parametrize("environment", ["sandbox", "production"])
def test_https_uris_are_accepted_and_duplicates_dropped_in_order(environment: str) -> None:
    uris = [
        "https://app.example.com/callback",
        "https://app.example.com:8443/cb?tenant=1",
        "https://app.example.com/callback",
    ]
    assert check_redirect_uris(uris, environment) == uris[:2]


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost/callback",
        "http://localhost:8080/callback",
        "http://127.0.0.1:53682/cb",
        "http://[::1]:8080/cb",
        "https://localhost:8443/cb",
    ],
)
def test_the_sandbox_accepts_loopback_redirects(uri: str) -> None:
    assert check_redirect_uris([uri], "sandbox") == [uri]


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:8080/callback",
        "http://127.0.0.1/cb",
        "https://localhost/cb",
        "https://127.0.0.1:8443/cb",
        "https://[::1]/cb",
    ],
)
def test_production_refuses_loopback_redirects(uri: str) -> None:
    error = _refused([uri], "production")
    assert error.code == "invalid_redirect_uri"
    assert error.field == "redirect_uris"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://app.example.com/cb", "https"),
        ("http://localhost.example.com/cb", "https"),
        ("http://127.0.0.2/cb", "https"),
        ("com.example.app:/oauth2redirect", "absolute"),
        ("javascript:alert(1)", "absolute"),
        ("ftp://app.example.com/cb", "https"),
        ("https://app.example.com/cb#state", "fragment"),
        ("https://app.example.com/cb#", "fragment"),
        ("https://user:pw@app.example.com/cb", "user information"),
        ("https://user@app.example.com/cb", "user information"),
        ("/callback", "absolute"),
        ("callback", "absolute"),
        ("//app.example.com/cb", "absolute"),
        ("https:///cb", "absolute"),
        ("https://:443/cb", "no host"),
        ("https://*.example.com/cb", "wildcard"),
        ("https://app.example.com/*", "wildcard"),
        ("https://app.example.com:99999/cb", "port"),
        ("https://app.example.com:http/cb", "port"),
        ("https://app.example.com/c b", "spaces"),
        ("https://app.example.com/cb\n", "spaces"),
        ("https://app.exämple.com/cb", "non-ASCII"),
        ("", "non-empty"),
    ],
)
def test_refused_uris(uri: str, reason: str) -> None:
    error = _refused([uri])
    assert error.code == "invalid_redirect_uri"
    assert reason in error.message


def test_length_limit_is_inclusive() -> None:
    base = "https://app.example.com/"
    at_limit = base + "a" * (MAX_LENGTH - len(base))
    assert check_redirect_uri(at_limit, "sandbox") == at_limit
    assert "at most" in _refused([at_limit + "a"]).message


def test_a_list_of_one_to_ten_uris_is_required() -> None:
    many = [f"https://app.example.com/cb{i}" for i in range(MAX_URIS)]
    assert check_redirect_uris(many, "production") == many
    assert "at most" in _refused([*many, "https://app.example.com/extra"]).message
    assert "at least one" in _refused([]).message
    assert "list" in _refused("https://app.example.com/cb").message
    assert "string" in _refused([42]).message


def test_unknown_environment_is_refused() -> None:
    error = _refused(["https://app.example.com/cb"], "staging")
    assert error.code == "invalid_environment"


def _app(uris: list[str]) -> App:
    now = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    return App(
        client_id="cli_test",
        organisation_id="org_test",
        name="Test",
        redirect_uris=uris,
        token_endpoint_auth_method="private_key_jwt",
        scope="accounts",
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize(
    "presented",
    [
        "https://app.example.com/cb/",
        "https://APP.example.com/cb",
        "https://app.example.com/cb?x=1",
        "https://app.example.com:443/cb",
        "https://app.example.com/CB",
        "https://app.example.com/c%62",
        "https://app.example.com/cb2",
        "https://app.example.com",
        " https://app.example.com/cb",
    ],
)
def test_registered_uris_match_exactly_and_only_exactly(presented: str) -> None:
    app = _app(["https://app.example.com/cb", "http://127.0.0.1:8080/cb"])
    assert redirect_uri_registered(app, "https://app.example.com/cb")
    assert redirect_uri_registered(app, "http://127.0.0.1:8080/cb")
    assert not redirect_uri_registered(app, presented)
    assert not redirect_uri_registered(app, "http://127.0.0.1:9090/cb")
