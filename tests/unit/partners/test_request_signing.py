"""Whether an app must sign its requests (:func:`partners.apps.set_request_signing`) and which
``http://openbanking.org.uk/iss`` values name it (:func:`partners.apps.signing_issuers`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from partners import services
from tests.unit.partners.builders import make_jwks, make_org, production_app, refused, sandbox_app


def test_every_new_app_must_sign_its_requests(session: Session) -> None:
    organisation = make_org(session, status="approved")
    sandbox, _secret = sandbox_app(session, organisation)
    production = production_app(session, organisation)
    assert sandbox.request_signing is True
    assert production.request_signing is True


def test_a_sandbox_app_switches_request_signing_off_and_on(session: Session) -> None:
    app, _secret = sandbox_app(session, make_org(session))
    before = app.updated_at

    services.set_request_signing(session, app, False)
    assert app.request_signing is False
    assert app.updated_at >= before

    services.set_request_signing(session, app, True)
    assert app.request_signing is True


def test_a_production_app_cannot_switch_request_signing_off(session: Session) -> None:
    app = production_app(session, make_org(session, status="approved"))
    before = app.updated_at

    error = refused(lambda: services.set_request_signing(session, app, False))

    assert error.code == "request_signing_required"
    assert error.field == "request_signing"
    assert "Production apps must sign" in error.message
    assert app.request_signing is True
    assert app.updated_at == before
    # Switching it on (it is on) is allowed and changes nothing.
    assert services.set_request_signing(session, app, True).request_signing is True


def test_an_app_is_named_by_its_client_id_or_its_organisation_and_software(
    session: Session,
) -> None:
    organisation = make_org(session)
    app, _secret = sandbox_app(
        session, organisation, token_endpoint_auth_method="private_key_jwt", jwks=make_jwks()
    )
    named = services.signing_issuers(app.client_id, organisation.id, None)
    assert named == [app.client_id, f"{organisation.id}/{app.client_id}"]
    # A dynamically registered app is also named as OBIE Directory participants name it.
    registered = services.signing_issuers(app.client_id, organisation.id, "sw-22")
    assert registered == [*named, f"{organisation.id}/sw-22"]
