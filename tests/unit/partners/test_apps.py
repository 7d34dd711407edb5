"""Apps (:mod:`partners.apps`, used through :mod:`partners.services`): registration with the
FAPI 2.0 rules for production, client secrets, keys, redirect URIs, suspension and deletion."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.oauth.models import Token
from partners import services
from partners.models import App, Organisation
from tests.unit.partners.builders import (
    REDIRECTS,
    apps_of,
    make_jwks,
    make_org,
    production_app,
    refused,
    sandbox_app,
)

# --- registration ---------------------------------------------------------------------------


def test_a_sandbox_app_with_a_secret(session: Session) -> None:
    organisation = make_org(session, roles=["PISP", "AISP"])
    app, secret = sandbox_app(session, organisation)

    assert re.fullmatch(r"cli_[a-z0-9]{20}", app.client_id)
    assert app.organisation_id == organisation.id
    assert (app.environment, app.status) == ("sandbox", "active")
    assert app.scope == "accounts payments"  # every scope the roles allow, in role order
    assert app.redirect_uris == REDIRECTS
    assert app.dpop_bound is False
    assert secret is not None and secret.startswith("obs_")
    assert len(secret) >= 4 + 43  # 32 random bytes, base64url
    assert app.client_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert app.secret_rotated_at == app.created_at == app.updated_at
    stored = session.execute(
        select(App.__table__).where(App.__table__.c.client_id == app.client_id)
    ).one()
    assert secret not in [str(value) for value in stored]
    assert services.verify_client_secret(app, secret)
    assert not services.verify_client_secret(app, secret[:-1])
    assert not services.verify_client_secret(app, app.client_secret_hash)


def test_a_sandbox_app_with_keys_has_no_secret(session: Session) -> None:
    jwks = make_jwks()
    app, secret = sandbox_app(
        session, make_org(session), token_endpoint_auth_method="private_key_jwt", jwks=jwks
    )
    assert secret is None
    assert app.client_secret_hash is None
    assert app.jwks == jwks
    assert not services.verify_client_secret(app, "obs_anything")


def test_client_ids_are_unique(session: Session) -> None:
    organisation = make_org(session)
    ids = {sandbox_app(session, organisation)[0].client_id for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"environment": "staging"}, "invalid_environment", "environment"),
        (
            {"token_endpoint_auth_method": "none"},
            "invalid_auth_method",
            "token_endpoint_auth_method",
        ),
        (
            {"token_endpoint_auth_method": "client_secret_post"},
            "invalid_auth_method",
            "token_endpoint_auth_method",
        ),
        ({"name": " "}, "invalid_field", "name"),
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri", "redirect_uris"),
        ({"redirect_uris": []}, "invalid_redirect_uri", "redirect_uris"),
        ({"scope": "accounts fundsconfirmations"}, "invalid_scope", "scope"),
        ({"scope": "financing"}, "invalid_scope", "scope"),
        ({"scope": ""}, "invalid_scope", "scope"),
        ({"scope": "openid"}, "invalid_scope", "scope"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_jwks", "jwks"),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": []}},
            "invalid_jwks",
            "jwks",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://k.example/j"},
            "invalid_jwks_uri",
            "jwks_uri",
        ),
        (
            {"jwks": make_jwks(), "jwks_uri": "https://keys.example.com/jwks"},
            "invalid_jwks",
            "jwks",
        ),
    ],
)
def test_sandbox_registration_rules(
    session: Session, kwargs: dict[str, Any], code: str, field: str
) -> None:
    organisation = make_org(session, roles=["AISP", "PISP"])
    error = refused(sandbox_app, session, organisation, **kwargs)
    assert (error.code, error.field) == (code, field)
    assert apps_of(session, organisation) == []


def test_a_requested_scope_within_the_roles_is_kept(session: Session) -> None:
    organisation = make_org(session, roles=["AISP", "PISP", "CBPII", "FINANCING"])
    assert sandbox_app(session, organisation)[0].scope == (
        "accounts payments fundsconfirmations financing"
    )
    app, _ = sandbox_app(session, organisation, scope=" financing  accounts financing ")
    assert app.scope == "financing accounts"


def test_a_jwks_uri_instead_of_inline_keys(session: Session) -> None:
    app, _ = sandbox_app(
        session,
        make_org(session),
        token_endpoint_auth_method="private_key_jwt",
        jwks_uri="https://keys.example.com/jwks.json",
    )
    assert (app.jwks, app.jwks_uri) == (None, "https://keys.example.com/jwks.json")


def test_a_suspended_organisation_cannot_register_apps(session: Session) -> None:
    error = refused(sandbox_app, session, make_org(session, status="suspended"))
    assert error.code == "organisation_suspended"


# --- production -----------------------------------------------------------------------------


def test_a_production_app_waits_for_ops_approval(session: Session) -> None:
    organisation = make_org(session, status="approved")
    app = production_app(session, organisation)
    assert (app.environment, app.status, app.dpop_bound) == ("production", "pending", True)
    assert app.client_secret_hash is None

    assert services.approve_app(session, app) is app
    assert app.status == "active"
    assert refused(services.approve_app, session, app).code == "invalid_status"


@pytest.mark.parametrize(
    ("org_status", "kwargs", "code"),
    [
        ("pending", {}, "organisation_not_approved"),
        ("suspended", {}, "organisation_suspended"),
        (
            "approved",
            {"token_endpoint_auth_method": "client_secret_basic", "jwks": None},
            "invalid_auth_method",
        ),
        ("approved", {"dpop_bound": False}, "dpop_required"),
        ("approved", {"jwks": None}, "invalid_jwks"),
        ("approved", {"redirect_uris": ["http://localhost:8080/cb"]}, "invalid_redirect_uri"),
    ],
)
def test_production_registration_rules(
    session: Session, org_status: str, kwargs: dict[str, Any], code: str
) -> None:
    organisation = make_org(session, status=org_status)
    assert refused(production_app, session, organisation, **kwargs).code == code
    assert apps_of(session, organisation) == []


def test_sandbox_apps_are_not_approved(session: Session) -> None:
    app, _ = sandbox_app(session, make_org(session, status="approved"))
    assert refused(services.approve_app, session, app).code == "invalid_status"


# --- secrets, keys and redirect URIs --------------------------------------------------------


def test_rotating_the_secret_retires_the_old_one(session: Session) -> None:
    app, old = sandbox_app(session, make_org(session))
    assert old is not None
    rotated_at = app.secret_rotated_at
    new = services.rotate_secret(session, app)
    assert new != old and new.startswith("obs_")
    assert services.verify_client_secret(app, new)
    assert not services.verify_client_secret(app, old)
    assert rotated_at is not None and app.secret_rotated_at is not None
    assert app.secret_rotated_at >= rotated_at


def test_apps_without_a_secret_cannot_rotate_one(session: Session) -> None:
    app = production_app(session, make_org(session, status="approved"))
    assert refused(services.rotate_secret, session, app).code == "invalid_auth_method"
    assert app.client_secret_hash is None


def test_replacing_keys(session: Session) -> None:
    app = production_app(session, make_org(session, status="approved"))
    services.set_keys(session, app, jwks_uri="https://keys.example.com/jwks")
    assert (app.jwks, app.jwks_uri) == (None, "https://keys.example.com/jwks")
    jwks = make_jwks("k2")
    services.set_keys(session, app, jwks=jwks)
    assert (app.jwks, app.jwks_uri) == (jwks, None)

    assert refused(services.set_keys, session, app).code == "invalid_jwks"
    both = refused(services.set_keys, session, app, jwks=jwks, jwks_uri="https://k.example/j")
    assert both.code == "invalid_jwks"
    bad_uri = refused(services.set_keys, session, app, jwks_uri="https://10.1.2.3/jwks")
    assert bad_uri.code == "invalid_jwks_uri"
    assert (app.jwks, app.jwks_uri) == (jwks, None)


def test_secret_apps_may_drop_their_keys(session: Session) -> None:
    app, _ = sandbox_app(session, make_org(session), jwks=make_jwks())
    services.set_keys(session, app)
    assert (app.jwks, app.jwks_uri) == (None, None)


def test_replacing_redirect_uris(session: Session) -> None:
    app, _ = sandbox_app(session, make_org(session))
    uris = ["https://b.example.com/cb", "http://127.0.0.1:8080/cb", "https://b.example.com/cb"]
    services.set_redirect_uris(session, app, uris)
    assert app.redirect_uris == uris[:2]
    error = refused(services.set_redirect_uris, session, app, ["https://b.example.com/cb#x"])
    assert error.code == "invalid_redirect_uri"
    assert app.redirect_uris == uris[:2]


def test_production_redirect_uris_stay_https(session: Session) -> None:
    app = production_app(session, make_org(session, status="approved"))
    error = refused(services.set_redirect_uris, session, app, ["http://127.0.0.1:8080/cb"])
    assert error.code == "invalid_redirect_uri"
    assert app.redirect_uris == REDIRECTS


# --- suspension and deletion ----------------------------------------------------------------


def test_suspend_and_reactivate(session: Session) -> None:
    app, _ = sandbox_app(session, make_org(session))
    assert services.suspend_app(session, app).status == "suspended"
    assert services.suspend_app(session, app).status == "suspended"
    assert services.reactivate_app(session, app).status == "active"
    assert services.reactivate_app(session, app).status == "active"


def test_pending_apps_are_neither_suspended_nor_reactivated(session: Session) -> None:
    app = production_app(session, make_org(session, status="approved"))
    assert refused(services.suspend_app, session, app).code == "invalid_status"
    assert refused(services.reactivate_app, session, app).code == "invalid_status"
    assert app.status == "pending"


def test_no_reactivation_while_the_organisation_is_suspended(session: Session) -> None:
    organisation = make_org(session, status="approved")
    sandbox, _ = sandbox_app(session, organisation)
    production = production_app(session, organisation)
    services.approve_app(session, production)
    services.set_organisation_status(session, organisation.id, "suspended")
    for app in (sandbox, production):
        assert refused(services.reactivate_app, session, app).code == "organisation_suspended"
        assert app.status == "suspended"

    services.set_organisation_status(session, organisation.id, "approved")
    assert sandbox.status == "suspended"  # ops reactivate apps one by one
    assert services.reactivate_app(session, production).status == "active"


def test_production_reactivation_needs_an_approved_organisation(session: Session) -> None:
    organisation = make_org(session, status="approved")
    app = production_app(session, organisation)
    services.approve_app(session, app)
    services.suspend_app(session, app)
    organisation.status = "pending"  # e.g. an approval withdrawn by hand
    assert refused(services.reactivate_app, session, app).code == "organisation_not_approved"


def test_deleting_an_app_takes_its_tokens_with_it(session: Session) -> None:
    organisation = make_org(session)
    gone, _ = sandbox_app(session, organisation)
    kept, _ = sandbox_app(session, organisation)
    now = dt.datetime.now(dt.UTC)
    for app, access_hash in ((gone, "a" * 64), (kept, "b" * 64)):
        session.add(
            Token(
                access_hash=access_hash,
                client_id=app.client_id,
                grant_type="client_credentials",
                scope="accounts",
                issued_at=now,
                expires_at=now + dt.timedelta(minutes=5),
            )
        )
    session.flush()
    client_id = gone.client_id

    services.delete_app(session, gone)
    session.expunge_all()

    assert session.get(App, client_id) is None
    tokens = select(Token.access_hash).where(Token.client_id.in_([client_id, kept.client_id]))
    assert session.scalars(tokens).all() == ["b" * 64]  # ON DELETE CASCADE
    assert session.get(App, kept.client_id) is not None
    assert session.get(Organisation, organisation.id) is not None
