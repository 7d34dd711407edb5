"""Pushed authorization requests and the authorization endpoint (RFC 9126, RFC 7636, RFC 9207,
FAPI 2.0 Security Profile §5.3.2.2): every way in that is not a fresh pushed request of the same
client is refused, and every answer sent back to the client is a 303 carrying ``iss``."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.oauth import par
from tests.common.fapi import (
    PAR_URL,
    authorize_url,
    error_of,
    pkce,
    post,
    push,
    rows,
)
from tests.common.jose import DROP
from tests.common.oauth import (
    ISSUER,
    REDIRECT_URI,
    Partner,
    approve_in_browser,
    create_consent,
    register_partner,
)


def pushed_count(app: Flask, client_id: str) -> int:
    return len(
        rows(app, "SELECT request_uri FROM gw_pushed_request WHERE client_id = :c", c=client_id)
    )


def codes_count(app: Flask, client_id: str) -> int:
    return len(
        rows(app, "SELECT code_hash FROM gw_authorization_code WHERE client_id = :c", c=client_id)
    )


def consent_status(app: Flask, consent_id: str) -> str:
    return str(rows(app, "SELECT status FROM gw_consent WHERE id = :i", i=consent_id)[0]["status"])


def redirect_params(response: TestResponse) -> dict[str, str]:
    """The parameters of an authorization response, after checking it goes to the client."""
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return dict(parse_qsl(urlsplit(location).query))


def request_uri_of(http: FlaskClient, partner: Partner, consent_id: str) -> str:
    response = push(http, partner, consent_id)
    assert response.status_code == 201, response.json
    return str((response.json or {})["request_uri"])


def assert_error_page(response: TestResponse) -> None:
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"


# -- the pushed request itself ---------------------------------------------------------------


def test_par_answers_201_with_a_short_lived_single_handle_not_cached(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9126 §2.2; FAPI 2.0 §5.3.2.2 (5): expires_in under 600 s."""
    response = push(http, partner, create_consent(oauth_app, partner))
    assert response.status_code == 201
    body = response.json or {}
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert len(body["request_uri"].rsplit(":", 1)[1]) >= 22
    assert 0 < body["expires_in"] < 600
    assert response.headers["Cache-Control"] == "no-store"


def test_par_without_client_authentication_is_invalid_client(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9126 §2: the PAR endpoint authenticates the client like the token endpoint."""
    _verifier, challenge = pkce()
    form = {
        "client_id": partner.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "accounts",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "openbanking_intent_id": create_consent(oauth_app, partner),
    }
    response = post(http, PAR_URL, form)
    assert response.status_code == 401 and error_of(response) == "invalid_client"
    assert pushed_count(oauth_app, partner.client_id) == 0


def test_request_uri_inside_a_pushed_request_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9126 §2.1: request_uri MUST NOT be provided in a pushed request."""
    consent_id = create_consent(oauth_app, partner)
    earlier = request_uri_of(http, partner, consent_id)
    response = push(http, partner, consent_id, request_uri=earlier)
    assert response.status_code == 400 and error_of(response) == "invalid_request"
    assert pushed_count(oauth_app, partner.client_id) == 1


#: name -> (parameter overrides, expected error)
PAR_RULES: dict[str, tuple[dict[str, object], str]] = {
    "pkce-no-challenge": ({"code_challenge": DROP}, "invalid_request"),
    "pkce-plain": ({"code_challenge_method": "plain"}, "invalid_request"),
    "pkce-no-method": ({"code_challenge_method": DROP}, "invalid_request"),
    "pkce-bad-challenge": ({"code_challenge": "too-short"}, "invalid_request"),
    "response-type-token": ({"response_type": "token"}, "unsupported_response_type"),
    "response-type-hybrid": ({"response_type": "code id_token"}, "unsupported_response_type"),
    "response-type-missing": ({"response_type": DROP}, "unsupported_response_type"),
    "redirect-foreign": ({"redirect_uri": "https://attacker.example/cb"}, "invalid_request"),
    "redirect-near-miss": ({"redirect_uri": REDIRECT_URI + "/"}, "invalid_request"),
    "redirect-missing": ({"redirect_uri": DROP}, "invalid_request"),
    "scope-outside-roles": ({"scope": "financing"}, "invalid_scope"),
    "consent-missing": ({"openbanking_intent_id": DROP}, "invalid_request"),
}


@pytest.mark.parametrize("case", sorted(PAR_RULES))
def test_pushed_request_rules(
    oauth_app: Flask, http: FlaskClient, partner: Partner, case: str
) -> None:
    """RFC 7636 §4.4.1 and FAPI 2.0 §5.3.2.2 (4): S256 PKCE is required; (2): response_type
    code only; (9, 10): redirect_uri required and exactly registered (RFC 6749 §3.1.2.3)."""
    overrides, error = PAR_RULES[case]
    response = push(http, partner, create_consent(oauth_app, partner), **overrides)
    assert response.status_code == 400, response.json
    assert error_of(response) == error
    assert pushed_count(oauth_app, partner.client_id) == 0


# -- the authorization endpoint -----------------------------------------------------------------


def test_classic_authorization_request_without_par_is_an_error_page(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """FAPI 2.0 §5.3.2.2 (1): authorization requests only through PAR; the redirect_uri of an
    unpushed request is untrusted, so nothing is redirected (RFC 6749 §4.1.2.1)."""
    _verifier, challenge = pkce()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": partner.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "accounts",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "openbanking_intent_id": create_consent(oauth_app, partner),
        }
    )
    response = oauth_app.test_client().get(f"/authorize?{query}")
    assert_error_page(response)
    assert "PAR" in response.get_data(as_text=True)
    assert codes_count(oauth_app, partner.client_id) == 0


def test_request_uri_is_single_use(oauth_app: Flask, http: FlaskClient, partner: Partner) -> None:
    """RFC 9126 §4: request_uri values are one-time use."""
    url = authorize_url(partner, request_uri_of(http, partner, create_consent(oauth_app, partner)))
    assert oauth_app.test_client().get(url).status_code == 200
    again = oauth_app.test_client().get(url)
    assert_error_page(again)
    assert "used already" in again.get_data(as_text=True)


def test_expired_request_uri_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 9126 §2.2 (expires_in) and FAPI 2.0 §5.3.2.2 (5): an expired request_uri is dead."""
    monkeypatch.setattr(par, "REQUEST_URI_TTL", 0)
    url = authorize_url(partner, request_uri_of(http, partner, create_consent(oauth_app, partner)))
    response = oauth_app.test_client().get(url)
    assert_error_page(response)
    assert "expired" in response.get_data(as_text=True)


def test_request_uri_presented_by_another_client_is_refused(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9126 §4: the request_uri is bound to the client that pushed it."""
    other = register_partner(oauth_app, http)
    request_uri = request_uri_of(http, partner, create_consent(oauth_app, partner))
    response = oauth_app.test_client().get(authorize_url(other, request_uri))
    assert_error_page(response)
    # The refusal did not spend the handle: its own client can still use it.
    assert oauth_app.test_client().get(authorize_url(partner, request_uri)).status_code == 200


def test_unknown_request_uri_is_refused(oauth_app: Flask, partner: Partner) -> None:
    """RFC 9126 §4: only request_uri values this server issued are accepted."""
    response = oauth_app.test_client().get(
        authorize_url(partner, "urn:ietf:params:oauth:request_uri:forged")
    )
    assert_error_page(response)


def test_front_channel_parameters_next_to_request_uri_are_ignored(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9126 §4 and FAPI 2.0 §5.3.2.2 (1): only the pushed parameters count; an attacker's
    redirect_uri in the browser's URL does not redirect anything."""
    consent_id = create_consent(oauth_app, partner)
    request_uri = request_uri_of(http, partner, consent_id)
    url = (
        authorize_url(partner, request_uri)
        + "&"
        + urlencode({"redirect_uri": "https://attacker.example/cb", "scope": "payments"})
    )
    answer = approve_in_browser(oauth_app, oauth_app.test_client(), url, partner.organisation_id)
    assert "code" in answer and answer["iss"] == ISSUER
    assert rows(
        oauth_app,
        "SELECT redirect_uri, scope FROM gw_authorization_code WHERE client_id = :c",
        c=partner.client_id,
    ) == [{"redirect_uri": REDIRECT_URI, "scope": "accounts"}]


# -- authorization responses: 303 and iss, errors included ----------------------------------


def test_approval_answers_303_with_iss_state_and_code(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """FAPI 2.0 §5.3.2.2 (11): 303 redirect; RFC 9207 §2: iss in the authorization response."""
    consent_id = create_consent(oauth_app, partner)
    request_uri, _verifier, state = partner.client.push_authorization_request(consent_id)
    answer = approve_in_browser(
        oauth_app,
        oauth_app.test_client(),
        authorize_url(partner, request_uri),
        partner.organisation_id,
    )
    assert answer["iss"] == ISSUER and answer["state"] == state
    assert answer["code"].startswith("obc_") and len(answer["code"]) >= 4 + 22
    assert consent_status(oauth_app, consent_id) == "AUTH"


def test_deny_answers_access_denied_with_iss_and_marks_the_consent_rejected(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 6749 §4.1.2.1 access_denied; RFC 9207 §2: iss in error responses too; the consent
    becomes RJCT (OBIE consent status) and no code is issued."""
    consent_id = create_consent(oauth_app, partner)
    request_uri, _verifier, state = partner.client.push_authorization_request(consent_id)
    answer = approve_in_browser(
        oauth_app,
        oauth_app.test_client(),
        authorize_url(partner, request_uri),
        partner.organisation_id,
        decision="deny",
    )
    assert answer["error"] == "access_denied"
    assert answer["iss"] == ISSUER and answer["state"] == state
    assert "code" not in answer
    assert consent_status(oauth_app, consent_id) == "RJCT"
    assert codes_count(oauth_app, partner.client_id) == 0


def test_consent_of_another_client_is_an_error_redirect_with_iss(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9207 §2: iss in every authorization response; a consent belongs to the client that
    created it, so naming another client's consent is refused and leaves it untouched."""
    victim = register_partner(oauth_app, http)
    foreign = create_consent(oauth_app, victim)
    response = push(http, partner, foreign, state="st-1")
    assert response.status_code == 201
    answer = redirect_params(
        oauth_app.test_client().get(authorize_url(partner, (response.json or {})["request_uri"]))
    )
    assert answer["error"] == "invalid_request"
    assert answer["iss"] == ISSUER and answer["state"] == "st-1"
    assert consent_status(oauth_app, foreign) == "AWAU"
    assert codes_count(oauth_app, partner.client_id) == 0


def test_rejected_consent_is_an_error_redirect_with_iss(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9207 §2 and the OBIE consent lifecycle: a RJCT consent cannot be authorised (only an
    AUTH account-access consent can be authorised again: re-authentication)."""
    consent_id = create_consent(oauth_app, partner)
    request_uri, _verifier, _state = partner.client.push_authorization_request(consent_id)
    approve_in_browser(
        oauth_app, oauth_app.test_client(), authorize_url(partner, request_uri),
        partner.organisation_id, decision="deny",
    )  # fmt: skip
    response = push(http, partner, consent_id, state="st-2")
    answer = redirect_params(
        oauth_app.test_client().get(authorize_url(partner, (response.json or {})["request_uri"]))
    )
    assert answer["error"] == "invalid_request"
    assert answer["error_description"] == "the consent is RJCT, not awaiting authorisation"
    assert answer["iss"] == ISSUER and answer["state"] == "st-2"
    assert codes_count(oauth_app, partner.client_id) == 0


def test_consent_outside_the_pushed_scope_is_an_error_redirect_with_iss(
    oauth_app: Flask, http: FlaskClient, partner: Partner
) -> None:
    """RFC 9207 §2: a payments consent cannot be authorised with the accounts scope."""
    consent_id = create_consent(oauth_app, partner, kind="payments", permissions=[])
    response = push(http, partner, consent_id, scope="accounts")
    answer = redirect_params(
        oauth_app.test_client().get(authorize_url(partner, (response.json or {})["request_uri"]))
    )
    assert answer["error"] == "invalid_request" and answer["iss"] == ISSUER
    assert consent_status(oauth_app, consent_id) == "AWAU"
