"""Multiple authorisation (OBIE v4.0 ``MultiAuthorisation``): a business's payment needs two
authorisers; the order waits (``PDNG``, ``AWAF``) until the second approves on the bank's
approval page, and is rejected when they refuse.

Every API response here is validated against the reference file by the conforming test client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.store.database import Database
from sandbox.models import Customer
from tests.common.oauth import CSRF, Partner, approve_in_browser, register_partner
from tests.common.pisp import PISP, consent_body, payment_body, staged
from tests.functional.test_pisp_domestic import advance, balance
from tests.functional.test_pisp_scenarios import unbalanced

CONSENTS = f"{PISP}/domestic-payment-consents"
PAYMENTS = f"{PISP}/domestic-payments"


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def business_login(app: Flask, tenant: str, which: int = 0) -> tuple[str, str]:
    """The username and password of the tenant's ``which``-th business customer."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        app.extensions["bank_core"](session).ensure_tenant(tenant)
        rows = session.scalars(
            select(Customer).where(Customer.tenant_id == tenant, Customer.kind == "Business")
            .order_by(Customer.pk)
        ).all()  # fmt: skip
        return rows[which].username, rows[which].password


def second(login: tuple[str, str]) -> tuple[str, str]:
    """The business's second authoriser."""
    return f"{login[0]}.second", login[1]


def authorised_by(
    app: Flask, partner: Partner, body: dict[str, Any], login: tuple[str, str]
) -> tuple[str, dict[str, str], str]:
    """Stage ``body`` and let ``login`` answer it: the consent id, the redirect's parameters and
    the PKCE verifier."""
    consent_id = staged(partner, body)["Data"]["ConsentId"]
    request_uri, verifier, _ = partner.client.push_authorization_request(consent_id, "payments")
    answer = approve_in_browser(
        app, app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id, login=login,
    )  # fmt: skip
    return consent_id, answer, verifier


def submitted(
    app: Flask, partner: Partner, body: dict[str, Any], login: tuple[str, str]
) -> tuple[dict[str, Any], str]:
    """The order of ``body`` after ``login`` approved its consent, and the authorised token."""
    consent_id, answer, verifier = authorised_by(app, partner, body, login)
    token = partner.client.exchange_code(answer["code"], verifier)["access_token"]
    paid = partner.client.post_signed(PAYMENTS, token, payment_body(consent_id, body))
    return paid["Data"], token


def approval(
    app: Flask, payment_id: str, login: tuple[str, str], decision: str = "approve"
) -> tuple[int, str]:
    """Answer the approval page of a payment as ``login``: the status and the page."""
    browser = app.test_client()
    page = browser.get(f"/authorize/approvals/{payment_id}")
    assert page.status_code == 200, page.get_data(as_text=True)
    token = CSRF.search(page.get_data(as_text=True))
    assert token is not None
    form = {"csrf_token": token.group(1), "username": login[0], "password": login[1],
            "decision": decision}  # fmt: skip
    answer = browser.post(f"/authorize/approvals/{payment_id}", data=form)
    return answer.status_code, answer.get_data(as_text=True)


def test_a_business_payment_waits_for_its_second_authoriser(
    oauth_app: Flask, pisp: Partner
) -> None:
    login = business_login(oauth_app, pisp.organisation_id)
    body = consent_body("12.34")
    data, token = submitted(oauth_app, pisp, body, login)
    before = balance(oauth_app, pisp, token)
    assert data["Status"] == "PDNG"
    flow = data["MultiAuthorisation"]
    assert (flow["Status"], flow["NumberRequired"], flow["NumberReceived"]) == ("AWAF", 2, 1)
    payment_id = data["DomesticPaymentId"]
    reader = pisp.client.client_credentials("payments")["access_token"]
    consent = pisp.client.get(f"{CONSENTS}/{data['ConsentId']}", reader)["Data"]
    assert consent["Status"] == "COND"

    # Only the other authoriser of the same business may answer, with the right password.
    assert approval(oauth_app, payment_id, (second(login)[0], "wrong"))[0] == 401
    status, page = approval(oauth_app, payment_id, login)
    assert status == 400 and "authorised this payment already" in page
    other = business_login(oauth_app, pisp.organisation_id, which=1)
    assert approval(oauth_app, payment_id, second(other))[0] == 400
    assert pisp.client.get(f"{PAYMENTS}/{payment_id}", reader)["Data"]["Status"] == "PDNG"
    assert balance(oauth_app, pisp, token) == before

    status, page = approval(oauth_app, payment_id, second(login))
    assert status == 200 and "You approved the payment" in page
    order = pisp.client.get(f"{PAYMENTS}/{payment_id}", reader)["Data"]
    assert order["Status"] == "ACSP"
    flow = order["MultiAuthorisation"]
    assert (flow["Status"], flow["NumberRequired"], flow["NumberReceived"]) == ("AUTH", 2, 2)
    details = pisp.client.get(f"{PAYMENTS}/{payment_id}/payment-details", reader)["Data"]
    assert [s["Status"] for s in details["PaymentStatus"]] == ["PDNG", "ACSP"]
    assert before - balance(oauth_app, pisp, token) == pytest.approx(12.34)
    # Answered: the page takes no further answer.
    assert approval(oauth_app, payment_id, second(login))[0] == 400
    assert unbalanced(oauth_app, pisp.organisation_id) == []


def test_the_second_authoriser_refusing_rejects_the_payment(
    oauth_app: Flask, pisp: Partner
) -> None:
    login = business_login(oauth_app, pisp.organisation_id)
    data, token = submitted(oauth_app, pisp, consent_body("12.35"), login)
    before = balance(oauth_app, pisp, token)
    status, page = approval(oauth_app, data["DomesticPaymentId"], second(login), "refuse")
    assert status == 200 and "You refused the payment" in page
    reader = pisp.client.client_credentials("payments")["access_token"]
    order = pisp.client.get(f"{PAYMENTS}/{data['DomesticPaymentId']}", reader)["Data"]
    assert order["Status"] == "RJCT"
    assert order["StatusReason"][0]["StatusReasonCode"] == "MS02"
    assert order["MultiAuthorisation"]["Status"] == "RJCT"
    assert order["MultiAuthorisation"]["NumberReceived"] == 1
    assert balance(oauth_app, pisp, token) == before
    assert unbalanced(oauth_app, pisp.organisation_id) == []


def test_the_second_authoriser_meets_the_scenarios_too(oauth_app: Flask, pisp: Partner) -> None:
    login = business_login(oauth_app, pisp.organisation_id)
    data, _token = submitted(oauth_app, pisp, consent_body("8.88"), login)
    advance(oauth_app, pisp.organisation_id, dt.timedelta(hours=1))
    assert approval(oauth_app, data["DomesticPaymentId"], second(login))[0] == 200
    reader = pisp.client.client_credentials("payments")["access_token"]
    path = f"{PAYMENTS}/{data['DomesticPaymentId']}"
    assert pisp.client.get(path, reader)["Data"]["Status"] == "PDNG"
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=4))
    order = pisp.client.get(path, reader)["Data"]
    assert order["Status"] == "RJCT" and order["MultiAuthorisation"]["Status"] == "AUTH"
    steps = pisp.client.get(f"{path}/payment-details", reader)["Data"]["PaymentStatus"]
    assert [s["Status"] for s in steps] == ["PDNG", "RJCT"]
    # Pending since it was submitted, not since the second authoriser answered.
    assert steps[0]["StatusUpdateDateTime"] == order["CreationDateTime"]


def test_a_single_authorisation_asked_of_a_business_rejects_the_consent(
    oauth_app: Flask, pisp: Partner
) -> None:
    body = consent_body("12.36")
    body["Data"]["Authorisation"] = {"AuthorisationType": "Single"}
    login = business_login(oauth_app, pisp.organisation_id)
    consent_id, answer, _ = authorised_by(oauth_app, pisp, body, login)
    assert answer["error"] == "access_denied" and "code" not in answer
    reader = pisp.client.client_credentials("payments")["access_token"]
    consent = pisp.client.get(f"{CONSENTS}/{consent_id}", reader)["Data"]
    assert consent["Status"] == "RJCT"
    assert consent["Authorisation"] == {"AuthorisationType": "Single"}


def test_a_personal_customer_needs_one_authoriser(oauth_app: Flask, pisp: Partner) -> None:
    from tests.common.oauth import sandbox_login

    body = consent_body("12.37")
    body["Data"]["Authorisation"] = {"AuthorisationType": "Single"}
    data, _ = submitted(oauth_app, pisp, body, sandbox_login(oauth_app, pisp.organisation_id))
    assert data["Status"] == "ACSP" and "MultiAuthorisation" not in data
    browser = oauth_app.test_client()
    assert browser.get(f"/authorize/approvals/{data['DomesticPaymentId']}").status_code == 404


def test_a_personal_customer_has_no_second_authoriser(oauth_app: Flask, pisp: Partner) -> None:
    from tests.common.oauth import sandbox_login

    login = second(sandbox_login(oauth_app, pisp.organisation_id))
    business = second(business_login(oauth_app, pisp.organisation_id))
    database: Database = oauth_app.extensions["database"]
    with database.sessions() as session:
        core = oauth_app.extensions["bank_core"](session)
        assert core.authenticate(pisp.organisation_id, *login) is None
        found = core.authenticate(pisp.organisation_id, *business)
        assert found is not None and found.username == business[0]
        assert core.authenticate(pisp.organisation_id, business[0], "wrong") is None


def test_a_flow_past_its_completion_time_is_rejected(oauth_app: Flask, pisp: Partner) -> None:
    body = consent_body("12.38")
    # The sandbox starts on 2026-03-04 at 10:00 UTC.
    body["Data"]["Authorisation"] = {"AuthorisationType": "Any",
                                     "CompletionDateTime": "2026-03-05T10:00:00+00:00"}  # fmt: skip
    login = business_login(oauth_app, pisp.organisation_id)
    data, _ = submitted(oauth_app, pisp, body, login)
    assert data["MultiAuthorisation"]["ExpirationDateTime"] == "2026-03-05T10:00:00+00:00"
    advance(oauth_app, pisp.organisation_id, dt.timedelta(days=2))
    reader = pisp.client.client_credentials("payments")["access_token"]
    path = f"{PAYMENTS}/{data['DomesticPaymentId']}"
    order = pisp.client.get(path, reader)["Data"]
    assert order["Status"] == "RJCT" and order["MultiAuthorisation"]["Status"] == "RJCT"
    status, page = approval(oauth_app, data["DomesticPaymentId"], second(login))
    assert status == 400 and "has passed" in page


def test_an_unknown_payment_has_no_approval_page(oauth_app: Flask) -> None:
    assert oauth_app.test_client().get("/authorize/approvals/dp-nosuch").status_code == 404


def test_a_business_scheduled_payment_needs_one_authoriser(oauth_app: Flask, pisp: Partner) -> None:
    from tests.functional.test_pisp_scheduled import scheduled_body

    body = scheduled_body("12.39", days=3)
    body["Data"]["Authorisation"] = {"AuthorisationType": "Single"}
    path = f"{PISP}/domestic-scheduled-payment-consents"
    consent_id = staged(pisp, body, path)["Data"]["ConsentId"]
    request_uri, verifier, _ = pisp.client.push_authorization_request(consent_id, "payments")
    login = business_login(oauth_app, pisp.organisation_id)
    answer = approve_in_browser(
        oauth_app, oauth_app.test_client(), pisp.client.authorization_url(request_uri),
        pisp.organisation_id, login=login,
    )  # fmt: skip
    token = pisp.client.exchange_code(answer["code"], verifier)["access_token"]
    order = pisp.client.post_signed(
        f"{PISP}/domestic-scheduled-payments", token, payment_body(consent_id, body)
    )["Data"]
    assert order["Status"] == "ACCP" and "MultiAuthorisation" not in order
