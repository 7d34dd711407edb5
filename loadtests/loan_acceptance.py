"""The lending journey's last step, after the decision: accept an offer and read the loan.

The journey up to the decision (quote, application, the customer's authorisation, the decision)
calls :func:`accept_offer` with its partner (the example partner client, sending through
locust), its client-credentials token of scope ``financing`` and the application's
``ConsentId``. Over HTTP only, like the rest of ``loadtests``: nothing of the project is
imported.

* ``GET /loan-applications/{ConsentId}``: the decision's offers;
* ``POST /loan-applications/{ConsentId}/acceptance`` with the first offer still available and a
  new ``x-idempotency-key``: the loan drawn down;
* ``GET /loans/{LoanId}``, ``/schedule`` and ``/balances``: what a partner shows its customer.
"""

from __future__ import annotations

from typing import Any

FINANCING = "/open-banking/financing/v1"


def accept_offer(partner: Any, token: str, consent_id: str) -> str | None:
    """Accept the first available offer of the application and read the loan; its ``LoanId``,
    or ``None`` when nothing is on offer (referred, declined, or not decided)."""
    application = partner.get(f"{FINANCING}/loan-applications/{consent_id}", token)["Data"]
    offers = [o for o in application.get("Offers", []) if o["Status"] == "Available"]
    if not offers:
        return None
    accepted = partner.post_idempotent(
        f"{FINANCING}/loan-applications/{consent_id}/acceptance", token,
        {"Data": {"OfferId": offers[0]["OfferId"]}},
    )  # fmt: skip
    loan_id: str = accepted["Data"]["LoanId"]
    for suffix in ("", "/schedule", "/balances"):
        partner.get(f"{FINANCING}/loans/{loan_id}{suffix}", token)
    return loan_id
