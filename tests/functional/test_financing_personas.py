"""The financing personas decide as docs/financing-personas.md says, through the API: a partner
applies for the documented loan, the persona authorises it on the consent page, and the
application then carries the documented outcome and reason codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.store.database import Database
from sandbox.models import Customer
from tests.common.oauth import Partner, approve_in_browser, register_partner
from tests.functional.test_financing_applications import call

# persona, product, amount, term in months, outcome, reason codes (docs/financing-personas.md)
PERSONAS = [
    ("Olivia Bennett", "personal-loan", 5_000, 36, "Approve", {"Affordable"}),
    ("Daniel Okafor", "personal-loan", 20_000, 36, "ApproveWithConditions",
     {"AffordableWithChanges"}),
    ("Casey Morgan", "personal-loan", 3_000, 24, "Refer", {"IrregularIncome"}),
    ("Jordan Reilly", "personal-loan", 2_000, 12, "Decline",
     {"PersistentOverdraft", "ReturnedPayments", "Unaffordable"}),
    ("Greenleaf Bakery Ltd", "sme-term-loan", 30_000, 36, "Approve", {"Affordable"}),
    ("Harbour Print Ltd", "sme-term-loan", 80_000, 48, "ApproveWithConditions",
     {"AffordableWithChanges"}),
    ("Northgate Events Ltd", "sme-term-loan", 20_000, 36, "Refer",
     {"IrregularIncome", "VolatileBalance", "AffordabilityUnclear"}),
    ("Redline Couriers Ltd", "sme-term-loan", 25_000, 36, "Decline",
     {"PersistentOverdraft", "ReturnedPayments", "Unaffordable"}),
]  # fmt: skip


def _login(app: Flask, tenant: str, name: str) -> tuple[str, str]:
    """The persona's sandbox username and password."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        app.extensions["bank_core"](session).ensure_tenant(tenant)
        customer = session.scalars(
            select(Customer).where(Customer.tenant_id == tenant, Customer.name == name)
        ).one()
        return customer.username, customer.password


@pytest.mark.parametrize(
    ("name", "product", "amount", "term", "outcome", "reasons"),
    PERSONAS,
    ids=[p[0] for p in PERSONAS],
)
def test_a_persona_is_decided_as_documented(
    oauth_app: Flask, http: FlaskClient, name: str, product: str, amount: int, term: int,
    outcome: str, reasons: set[str],
) -> None:  # fmt: skip
    partner: Partner = register_partner(oauth_app, http, roles=("FINANCING",))
    token = str(partner.client.client_credentials("financing")["access_token"])
    loan: dict[str, Any] = {"ProductId": product, "Term": term,
                            "Amount": {"Amount": f"{amount}.00", "Currency": "GBP"}}  # fmt: skip
    created = call(http, partner, token, "POST", "/loan-applications", {"Data": {"Loan": loan}})
    assert created.status_code == 201, created.json
    consent_id = (created.json or {})["Data"]["ConsentId"]
    request_uri, _verifier, _state = partner.client.push_authorization_request(
        consent_id, scope="financing"
    )
    answer = approve_in_browser(
        oauth_app, oauth_app.test_client(), partner.client.authorization_url(request_uri),
        partner.organisation_id, login=_login(oauth_app, partner.organisation_id, name),
    )  # fmt: skip
    assert "code" in answer, answer
    got = call(http, partner, token, "GET", f"/loan-applications/{consent_id}")
    decision = (got.json or {})["Data"]["Decision"]
    assert decision["Outcome"] == outcome, decision
    assert {r["Code"] for r in decision["Reasons"]} == reasons
    assert all(r["Text"].endswith(".") for r in decision["Reasons"])
    conditions = decision["Conditions"]
    assert bool(conditions) == (outcome == "ApproveWithConditions")
    for condition in conditions:
        assert condition["Kind"] in {"LowerAmount", "LongerTerm"}
        assert (Decimal(condition["Amount"]["Amount"]) < amount) or condition["Term"] > term


def test_the_scenario_catalogue_lists_each_persona_with_its_outcome(http: FlaskClient) -> None:
    page = http.get("/docs/scenarios")
    assert page.status_code == 200
    rows = {
        line.split("</td>")[0].split("<td>")[-1]: line
        for line in page.get_data(as_text=True).split("<tr>")
        if "<td>" in line
    }
    for name, _product, _amount, _term, outcome, reasons in PERSONAS:
        assert name in rows, name
        assert f"<code>{outcome}</code>" in rows[name]
        assert all(f"<code>{code}</code>" in rows[name] for code in reasons)
