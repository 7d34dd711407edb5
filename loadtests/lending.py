"""Locust scenario: lending partners applying for loans, the bank's credit decision, and the
acceptance of an offer.

Each simulated partner app, over HTTP only, with the example partner client downloaded from the
gateway (nothing of the project is imported), repeats what a lending marketplace does:

* a quote from the financing API (``POST /open-banking/financing/v1/quotes``);
* a loan application for it (``POST /loan-applications``, a ``financing`` consent);
* PAR with scope ``openid financing``, the customer's sign-in and approval (the account the loan
  is paid into), where the bank decides, and the code exchange;
* the application read back (``GET /loan-applications/{id}``) with its ``Data.Decision``;
* when the bank offers a loan, the first offer accepted (the loan drawn down) and the loan, its
  schedule and its balances read (``loan_acceptance.accept_offer``).

Run it against a gateway whose load partner has the FINANCING role (``load-partner`` gives it)::

    .venv/bin/gateway ops load-partner --issuer http://127.0.0.1:5000 --output partner.json
    LOAD_PARTNER=partner.json .venv/bin/locust -f loadtests/lending.py --headless \\
        -u 5 -r 5 -t 1m --host http://127.0.0.1:5000 --html loadtests/reports/lending.html

The thresholds are those of ``locustfile.py`` (``LOAD_MAX_FAILURE_RATIO``, ``LOAD_MAX_P95_MS``).
"""

from __future__ import annotations

import random

# The AISP scenario's client, customer approval and thresholds; its base partner class, not a
# user class (a class imported by name would run too, and a subclass would run its tasks).
import locustfile as aisp
from loan_acceptance import accept_offer
from locust import between, task

FINANCING = "/open-banking/financing/v1"
OUTCOMES = {"Approve", "ApproveWithConditions", "Refer", "Decline"}


class Lending(aisp._Partner):
    """One lending marketplace applying for one customer after another."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        """Only the partner's client: each task runs a whole application."""
        self.partner = self._partner()
        self.customers = aisp._config()["customers"]

    @task
    def apply(self) -> None:
        """Quote, apply, authorise (the bank decides), read the decision, accept an offer."""
        client = self.partner.client_credentials("financing")["access_token"]
        amount = f"{random.randint(10, 150) * 100}.00"
        loan = {"ProductId": "personal-loan", "Term": random.choice((12, 24, 36, 48)),
                "Amount": {"Amount": amount, "Currency": "GBP"}}  # fmt: skip
        quote = self.partner.post(f"{FINANCING}/quotes", client, {"Data": loan})["Data"]
        assert quote["APR"], "a quote without an APR"
        applied = self.partner.post(
            f"{FINANCING}/loan-applications", client, {"Data": {"Loan": loan}}
        )
        consent_id = applied["Data"]["ConsentId"]
        request_uri, verifier, state = self.partner.push_authorization_request(
            consent_id, "financing"
        )
        code = self._approve(request_uri, random.choice(self.customers), state, accounts=1)
        self.partner.exchange_code(code, verifier)
        decided = self.partner.get(f"{FINANCING}/loan-applications/{consent_id}", client)["Data"]
        assert decided["Status"] == "AUTH", decided["Status"]
        assert decided["Decision"]["Outcome"] in OUTCOMES, decided["Decision"]
        if decided["Decision"]["Outcome"] in {"Approve", "ApproveWithConditions"}:
            assert accept_offer(self.partner, client, consent_id), "an approval without an offer"
