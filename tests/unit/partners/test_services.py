"""Partner services (:mod:`partners.services`): sign-up and sign-in (with the password policy and
no user enumeration), and organisation status. Apps are tested in ``test_apps.py``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy.orm import Session

from partners import passwords, services
from partners.models import App, Developer, Organisation
from tests.unit.partners.builders import (
    PASSWORD,
    make_org,
    production_app,
    refused,
    rows,
    sandbox_app,
    sign_up,
)

# --- sign-up and sign-in --------------------------------------------------------------------


def test_sign_up_creates_a_pending_organisation_and_its_developer(session: Session) -> None:
    developer = sign_up(session, email="  Ada@Example.COM ", roles=["PISP", "AISP", "PISP"])

    assert re.fullmatch(r"dev_[a-z0-9]{20}", developer.id)
    assert developer.email == "ada@example.com"
    assert developer.password_hash.startswith("scrypt:")
    assert PASSWORD not in developer.password_hash
    assert developer.is_ops is False
    assert developer.last_login_at is None
    organisation = session.get_one(Organisation, developer.organisation_id)
    assert re.fullmatch(r"org_[a-z0-9]{20}", organisation.id)
    assert organisation.status == "pending"
    assert organisation.roles == ["PISP", "AISP"]
    assert organisation.created_at == organisation.status_changed_at
    assert developer.created_at.utcoffset() == dt.timedelta(0)


def test_services_flush_and_never_commit(session: Session) -> None:
    before = {table: rows(session, table) for table in (Developer, Organisation, App)}
    sign_up(session)
    sandbox_app(session, make_org(session))
    assert rows(session, Developer) == before[Developer] + 1
    assert rows(session, App) == before[App] + 1
    session.rollback()
    assert {table: rows(session, table) for table in before} == before


def test_an_email_signs_up_once_whatever_its_case(session: Session) -> None:
    sign_up(session)
    organisations = rows(session, Organisation)
    error = refused(sign_up, session, email="ADA@example.com ")
    assert (error.code, error.field) == ("email_taken", "email")
    assert rows(session, Organisation) == organisations  # nothing written for the refusal


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada lovelace@example.com",
        ".ada@example.com",
        "ada.@example.com",
        "ada..l@example.com",
        "ada@-example.com",
        "ada@example..com",
        "a" * 65 + "@example.com",
        "ada@" + "a" * 250 + ".com",
    ],
)
def test_malformed_emails_arerefused(email: str) -> None:
    error = refused(passwords.normalise_email, email)
    assert (error.code, error.field) == ("invalid_email", "email")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pass1", "at least 12"),
        ("x" * 257, "at most 256"),
        ("aaaaaaaaaaaa", "easy to guess"),
        ("Password1234", "easy to guess"),
        ("QWERTY123456", "easy to guess"),
        ("ada@example.com!", "easy to guess"),
    ],
)
def test_weak_passwords_arerefused(password: str, reason: str) -> None:
    error = refused(passwords.check_password, password, email="ada@example.com")
    assert (error.code, error.field) == ("weak_password", "password")
    assert reason in error.message


def test_password_policy_has_no_composition_rules() -> None:
    for password in ["correct horse battery", "xkcdxkcdxkcd", "ÅÄÖåäöÅÄÖåäö", "xy" * 128]:
        passwords.check_password(password, email="ada@example.com")


def test_sign_up_applies_the_password_policy(session: Session) -> None:
    before = rows(session, Developer), rows(session, Organisation)
    assert refused(sign_up, session, password="password1234").code == "weak_password"
    assert (rows(session, Developer), rows(session, Organisation)) == before


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("country", "gb", "invalid_field"),
        ("country", "GBR", "invalid_field"),
        ("country", "G1", "invalid_field"),
        ("country", "", "invalid_field"),
        ("legal_name", "  ", "invalid_field"),
        ("legal_name", "x" * 141, "invalid_field"),
        ("registration_number", "1" * 36, "invalid_field"),
        ("name", "", "invalid_field"),
        ("roles", [], "invalid_roles"),
        ("roles", ["AISP", "ASPSP"], "invalid_roles"),
        ("roles", ["aisp"], "invalid_roles"),
        ("roles", "AISP", "invalid_roles"),
    ],
)
def test_sign_up_validates_the_organisation(
    session: Session, field: str, value: Any, code: str
) -> None:
    before = rows(session, Developer), rows(session, Organisation)
    error = refused(sign_up, session, **{field: value})
    assert (error.code, error.field) == (code, field)
    assert (rows(session, Developer), rows(session, Organisation)) == before


def test_ops_accounts_have_no_organisation(session: Session) -> None:
    sign_up(session)
    ops = services.create_ops_account(session, " Ops@Bank.example ", "Grace", PASSWORD)
    assert ops.is_ops is True
    assert ops.organisation_id is None
    assert ops.email == "ops@bank.example"
    taken = refused(services.create_ops_account, session, "ada@example.com", "Ada", PASSWORD)
    assert taken.code == "email_taken"


def test_authentication_records_the_sign_in(session: Session) -> None:
    developer = sign_up(session)
    signed_in = services.authenticate_developer(session, " ADA@example.com", PASSWORD)
    assert signed_in is developer
    assert developer.last_login_at is not None
    assert developer.last_login_at.utcoffset() == dt.timedelta(0)


def test_a_wrong_password_fails_without_recording_a_sign_in(session: Session) -> None:
    developer = sign_up(session)
    assert services.authenticate_developer(session, "ada@example.com", PASSWORD + "!") is None
    assert services.authenticate_developer(session, "ada@example.com", "") is None
    assert developer.last_login_at is None


def test_passwords_are_compared_after_unicode_normalisation(session: Session) -> None:
    composed = "caf\u00e9 au lait tous les jours"
    sign_up(session, password=composed)
    decomposed = "cafe\u0301 au lait tous les jours"
    assert services.authenticate_developer(session, "ada@example.com", decomposed) is not None


@pytest.mark.parametrize("email", ["nobody@example.com", "not an email"])
def test_unknown_accounts_cost_a_hash_verification_too(
    session: Session, monkeypatch: pytest.MonkeyPatch, email: str
) -> None:
    sign_up(session)
    burned: list[str] = []
    monkeypatch.setattr(passwords, "burn_verification", burned.append)
    assert services.authenticate_developer(session, email, PASSWORD) is None
    assert burned == [PASSWORD]
    # A known account does not burn: it verifies its own hash.
    services.authenticate_developer(session, "ada@example.com", "wrong password!")
    assert burned == [PASSWORD]


def test_burning_a_verification_really_hashes() -> None:
    passwords.warm_up()
    dummy = passwords._dummy_hash()
    assert dummy.startswith("scrypt:")
    assert not passwords.verify_password(dummy, PASSWORD)
    assert not passwords.verify_password("not-a-hash", PASSWORD)


# --- organisations --------------------------------------------------------------------------


def test_ops_approve_and_suspend_organisations(session: Session) -> None:
    organisation = make_org(session)
    before = organisation.status_changed_at
    approved = services.set_organisation_status(session, organisation.id, "approved")
    assert approved is organisation
    assert organisation.status == "approved"
    assert organisation.status_changed_at > before

    sandbox, _ = sandbox_app(session, organisation)
    production = production_app(session, organisation)
    services.set_organisation_status(session, organisation.id, "suspended")
    assert organisation.status == "suspended"
    assert sandbox.status == "suspended"
    assert production.status == "pending"  # unusable anyway, and approve_app now refuses it
    assert refused(services.approve_app, session, production).code == "organisation_not_approved"


def test_other_organisations_are_untouched_by_a_suspension(session: Session) -> None:
    mine, theirs = make_org(session), make_org(session)
    their_app, _ = sandbox_app(session, theirs)
    services.set_organisation_status(session, mine.id, "suspended")
    assert their_app.status == "active"


def test_organisation_status_changes_are_checked(session: Session) -> None:
    organisation = make_org(session)
    for status in ("pending", "deleted", "APPROVED"):
        error = refused(services.set_organisation_status, session, organisation.id, status)
        assert error.code == "invalid_status"
    missing = refused(services.set_organisation_status, session, "org_missing", "approved")
    assert missing.code == "unknown_organisation"
