"""Sandbox scenarios (docs/scenarios.md): the trigger amounts give each outcome a real bank can
give, read on the tenant's clock, and the ledger stays balanced per currency after each.

Every response here is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from gateway.store.database import Database
from partners.models import App
from tests.common.oauth import Partner, register_partner
from tests.common.pisp import PISP, authorised, consent_body, payment_body, staged
from tests.functional.test_pisp_domestic import advance, balance
from tests.functional.test_pisp_scheduled import scheduled_body
from tests.functional.test_pisp_standing_orders import standing_body

PAYMENTS = f"{PISP}/domestic-payments"
SCHEDULED = (f"{PISP}/domestic-scheduled-payment-consents", f"{PISP}/domestic-scheduled-payments",
             "DomesticScheduledPaymentId")  # fmt: skip
STANDING = (f"{PISP}/domestic-standing-order-consents", f"{PISP}/domestic-standing-orders",
            "DomesticStandingOrderId")  # fmt: skip
# The sandbox starts on a Wednesday at 10:00 London time: the next settlement cycle is at 13:00,
# the one after at 16:00 (gateway.core.settlement).
TO_FIRST_CYCLE = dt.timedelta(hours=3, minutes=30)
TO_SECOND_CYCLE = dt.timedelta(hours=3)


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def unbalanced(app: Flask, tenant: str) -> list[tuple[Any, ...]]:
    """The currencies in which the tenant's ledger does not sum to zero (none, if it is sound),
    and any journal that does not balance in its currency."""
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        tenant_sums = session.execute(text(
            "SELECT p.currency, SUM(p.amount) FROM sbx_posting p JOIN sbx_journal j "
            "ON j.pk = p.journal_pk WHERE j.tenant_id = :t GROUP BY p.currency "
            "HAVING SUM(p.amount) <> 0"), {"t": tenant}).all()  # fmt: skip
        journals = session.execute(text(
            "SELECT p.journal_pk, p.currency FROM sbx_posting p JOIN sbx_journal j "
            "ON j.pk = p.journal_pk WHERE j.tenant_id = :t GROUP BY p.journal_pk, p.currency "
            "HAVING SUM(p.amount) <> 0"), {"t": tenant}).all()  # fmt: skip
        postings = session.scalar(text(
            "SELECT COUNT(*) FROM sbx_posting p JOIN sbx_journal j ON j.pk = p.journal_pk "
            "WHERE j.tenant_id = :t"), {"t": tenant})  # fmt: skip
    assert postings, "the tenant's ledger holds its history"
    return [tuple(r) for r in (*tenant_sums, *journals)]


def pay(app: Flask, partner: Partner, amount: str) -> tuple[dict[str, Any], str, str]:
    """Submit a domestic payment of ``amount`` GBP the customer approved: its Data, the
    authorised token and a client-credentials token to read with."""
    body = consent_body(amount)
    consent_id, token = authorised(app, partner, body)
    paid = partner.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))
    return paid["Data"], token, partner.client.client_credentials("payments")["access_token"]


def read(partner: Partner, path: str, token: str) -> tuple[dict[str, Any], list[str]]:
    """The order now, and the statuses of its payment details."""
    order = partner.client.get(path, token)["Data"]
    details = partner.client.get(f"{path}/payment-details", token)["Data"]["PaymentStatus"]
    return order, [step["Status"] for step in details]


def test_a_rejected_payment_is_rjct_with_a_reason_and_moves_no_money(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body("6.66")
    consent_id, token = authorised(oauth_app, pisp, body)
    before = balance(oauth_app, pisp, token)
    order = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))
    data = order["Data"]
    assert data["Status"] == "RJCT"
    assert data["StatusReason"][0]["StatusReasonCode"] == "RR04"
    assert "ExpectedSettlementDateTime" not in data
    reader = pisp.client.client_credentials("payments")["access_token"]
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=2))
    now, steps = read(pisp, f"{PAYMENTS}/{data['DomesticPaymentId']}", reader)
    assert now["Status"] == "RJCT" and steps == ["RJCT"]
    assert balance(oauth_app, pisp, token) == before
    consent = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}", reader)
    assert consent["Data"]["Status"] == "COND"
    assert unbalanced(oauth_app, pisp.organisation_id) == []


def test_pending_then_accepted_settles_on_the_clock(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("7.77")
    consent_id, token = authorised(oauth_app, pisp, body)
    before = balance(oauth_app, pisp, token)
    data = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    assert data["Status"] == "PDNG" and "StatusReason" not in data
    # The bank booked it at submission: the money has left the account.
    assert before - balance(oauth_app, pisp, token) == pytest.approx(7.77)
    path = f"{PAYMENTS}/{data['DomesticPaymentId']}"
    reader = pisp.client.client_credentials("payments")["access_token"]
    assert read(pisp, path, reader)[1] == ["PDNG"]
    advance(oauth_app, pisp.organisation_id, TO_FIRST_CYCLE)
    order, steps = read(pisp, path, reader)
    assert order["Status"] == "ACSP" and steps == ["PDNG", "ACSP"]
    assert order["StatusUpdateDateTime"].startswith("2026-03-04T13:00:00")
    advance(oauth_app, pisp.organisation_id, TO_SECOND_CYCLE)
    order, steps = read(pisp, path, reader)
    assert order["Status"] == "ACSC" and steps == ["PDNG", "ACSP", "ACSC"]
    assert order["StatusUpdateDateTime"] == order["ExpectedSettlementDateTime"]
    assert before - balance(oauth_app, pisp, token) == pytest.approx(7.77)
    assert unbalanced(oauth_app, pisp.organisation_id) == []


def test_pending_then_rejected_books_nothing(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("8.88")
    consent_id, token = authorised(oauth_app, pisp, body)
    before = balance(oauth_app, pisp, token)
    data = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    assert data["Status"] == "PDNG" and "StatusReason" not in data
    path = f"{PAYMENTS}/{data['DomesticPaymentId']}"
    reader = pisp.client.client_credentials("payments")["access_token"]
    advance(oauth_app, pisp.organisation_id, dt.timedelta(hours=2))
    assert read(pisp, path, reader)[0]["Status"] == "PDNG"
    advance(oauth_app, pisp.organisation_id, dt.timedelta(hours=1, minutes=30))
    order, steps = read(pisp, path, reader)
    assert order["Status"] == "RJCT" and steps == ["PDNG", "RJCT"]
    assert order["StatusReason"][0]["StatusReasonCode"] == "FR01"
    assert balance(oauth_app, pisp, token) == before
    assert unbalanced(oauth_app, pisp.organisation_id) == []


def test_funds_not_available_answers_false_and_rejects_am04(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body("4.04")
    consent_id, token = authorised(oauth_app, pisp, body)
    before = balance(oauth_app, pisp, token)
    funds = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}/funds-confirmation",
                            token)  # fmt: skip
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is False
    data = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    assert data["Status"] == "RJCT"
    assert data["StatusReason"][0]["StatusReasonCode"] == "AM04"
    assert balance(oauth_app, pisp, token) == before
    assert unbalanced(oauth_app, pisp.organisation_id) == []


@pytest.mark.parametrize("amount", ["7.70", "4.40", "6.60", "8.80", "77.70"])
def test_a_normal_amount_triggers_nothing(oauth_app: Flask, pisp: Partner, amount: str) -> None:
    body = consent_body(amount)
    consent_id, token = authorised(oauth_app, pisp, body)
    funds = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}/funds-confirmation",
                            token)  # fmt: skip
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is True
    data = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    assert data["Status"] == "ACSP"
    reader = pisp.client.client_credentials("payments")["access_token"]
    assert read(pisp, f"{PAYMENTS}/{data['DomesticPaymentId']}", reader)[1] == ["ACSP"]
    assert unbalanced(oauth_app, pisp.organisation_id) == []


@pytest.mark.parametrize("amount", ["4.04", "6.66", "8.88"])
def test_a_production_apps_trigger_amount_is_paid_as_any_other(
    oauth_app: Flask, pisp: Partner, amount: str
) -> None:
    """Scenarios are the sandbox's: once ops approve the app for production, a trigger amount
    is an amount like any other."""
    database: Database = oauth_app.extensions["database"]
    body = consent_body(amount)
    consent_id, token = authorised(oauth_app, pisp, body)
    with database.sessions.begin() as session:
        session.get_one(App, pisp.client_id).environment = "production"
    funds = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}/funds-confirmation",
                            token)  # fmt: skip
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is True
    data = pisp.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))["Data"]
    assert data["Status"] == "ACSP" and "StatusReason" not in data


def test_the_customer_who_refuses(oauth_app: Flask, pisp: Partner) -> None:
    from tests.common.oauth import approve_in_browser

    body = consent_body("7.77")
    consent_id = staged(pisp, body)["Data"]["ConsentId"]
    request_uri, _verifier, _ = pisp.client.push_authorization_request(consent_id, "payments")
    answer = approve_in_browser(
        oauth_app, oauth_app.test_client(), pisp.client.authorization_url(request_uri),
        pisp.organisation_id, decision="deny",
    )  # fmt: skip
    # RFC 6749 §4.1.2.1: the resource owner denied the request.
    assert answer["error"] == "access_denied" and "code" not in answer
    assert answer["iss"]
    reader = pisp.client.client_credentials("payments")["access_token"]
    consent = pisp.client.get(f"{PISP}/domestic-payment-consents/{consent_id}", reader)
    assert consent["Data"]["Status"] == "RJCT"


def submit_family(
    app: Flask, partner: Partner, body: dict[str, Any], family: tuple[str, str, str]
) -> tuple[str, dict[str, Any], str]:
    consents, orders, id_name = family
    consent_id, token = authorised(app, partner, body, consents)
    data = partner.client.post_signed(orders, token, payment_body(consent_id, body))["Data"]
    return (
        f"{orders}/{data[id_name]}",
        data,
        partner.client.client_credentials("payments")["access_token"],
    )


@pytest.mark.parametrize(
    ("amount", "first", "decided", "reason"),
    [("6.66", "RJCT", None, "RR04"), ("4.04", "RJCT", None, "AM04"),
     ("8.88", "PDNG", "RJCT", "FR01"), ("7.77", "PDNG", "ACCP", None)],
)  # fmt: skip
def test_scheduled_payments_take_the_scenarios(
    oauth_app: Flask, pisp: Partner, amount: str, first: str, decided: str | None,
    reason: str | None,
) -> None:  # fmt: skip
    path, data, reader = submit_family(oauth_app, pisp, scheduled_body(amount, days=3), SCHEDULED)
    assert data["Status"] == first
    advance(oauth_app, pisp.organisation_id, TO_FIRST_CYCLE)
    order, steps = read(pisp, path, reader)
    assert order["Status"] == (decided or first)
    assert steps == ([first, decided] if decided else [first])
    if reason:
        assert order["StatusReason"][0]["StatusReasonCode"] == reason
    # Its day is the Saturday; it settles on the Monday.
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=6))
    order, steps = read(pisp, path, reader)
    # Only the accepted one is executed on its day.
    assert order["Status"] == ("ACSC" if decided == "ACCP" else decided or first)
    assert unbalanced(oauth_app, pisp.organisation_id) == []


@pytest.mark.parametrize(
    ("amount", "first", "decided", "reason"),
    [("6.66", "RJCT", None, "RR04"), ("8.88", "PDNG", "RJCT", "FR01"),
     ("7.77", "PDNG", "INCO", None)],
)  # fmt: skip
def test_standing_orders_take_the_scenarios(
    oauth_app: Flask, pisp: Partner, amount: str, first: str, decided: str | None,
    reason: str | None,
) -> None:  # fmt: skip
    body = standing_body("WEEK", "2", FirstPaymentAmount={"Amount": amount, "Currency": "GBP"})
    path, data, reader = submit_family(oauth_app, pisp, body, STANDING)
    assert data["Status"] == first
    advance(oauth_app, pisp.organisation_id, TO_FIRST_CYCLE)
    order, steps = read(pisp, path, reader)
    assert order["Status"] == (decided or first)
    if reason:
        assert order["StatusReason"][0]["StatusReasonCode"] == reason
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=10))
    _order, steps = read(pisp, path, reader)
    if decided == "INCO":
        assert steps[:2] == ["PDNG", "ACCP"] and steps.count("ACSC") == 2
    else:
        assert steps == ([first, decided] if decided else [first])
    assert unbalanced(oauth_app, pisp.organisation_id) == []
