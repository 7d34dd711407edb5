"""Locust scenario: cross-border partners paying abroad (FX quote, consent, authorise, pay, poll).

Each simulated partner app, over HTTP only, with the example partner client downloaded from the
gateway (nothing of the project is imported), repeats what a remittance app does:

* a quote from the FX API (``/open-banking/extensions/v1/fx/quotes``, locked for 5 minutes);
* an international payment consent citing it (``RateType`` ``Agreed``);
* PAR, the customer's sign-in and approval, the code exchange;
* the payment, then a poll of its status.

Run it against a gateway whose load partner has the PISP role, then reconcile::

    .venv/bin/gateway ops load-partner --issuer http://127.0.0.1:5000 --output partner.json
    LOAD_PARTNER=partner.json .venv/bin/locust -f loadtests/crossborder.py --headless \\
        -u 10 -r 2 -t 5m --host http://127.0.0.1:5000 --html loadtests/reports/fx.html
    .venv/bin/gateway ops fx-reconcile

The thresholds are those of ``locustfile.py`` (``LOAD_MAX_FAILURE_RATIO``, ``LOAD_MAX_P95_MS``).
"""

from __future__ import annotations

import random
from typing import Any

# The AISP scenario's client, customer approval and thresholds (not its user classes: a class
# imported by name would run too, and a subclass would inherit their tasks).
import locustfile as aisp
from locust import between, task

PISP = "/open-banking/v4.0/pisp"
FX = "/open-banking/extensions/v1/fx"
# What the partner pays in, where, to whom (an IBAN of the country).
CURRENCIES = (
    ("EUR", "DE", "DE89370400440532013000"),
    ("CHF", "CH", "CH9300762011623852957"),
    ("KWD", "KW", "KW81CBKU0000000000001234560101"),
)


class CrossBorder(aisp._Partner):
    """One remittance partner paying abroad for one customer after another."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        """Only the partner's client: each task runs a whole payment journey."""
        self.partner = self._partner()
        self.customers = aisp._config()["customers"]

    @task
    def pay_abroad(self) -> None:
        """Quote, consent, authorise, pay, poll."""
        transfer, country, iban = random.choice(CURRENCIES)
        client = self.partner.client_credentials("payments")["access_token"]
        # Small amounts: a thousand payments stay within the test customers' balances.
        amount = f"{random.randint(2, 30)}.{random.randint(0, 99):02d}"
        quote = self.partner.post(f"{FX}/quotes", client, {"Data": {
            "SellCurrency": "GBP", "BuyCurrency": transfer, "SellAmount": amount,
            "Lock": "PT5M", "DestinationCountry": country}})["Data"]  # fmt: skip
        body = _consent(amount, transfer, country, iban, quote)
        consent = self.partner.post_signed(f"{PISP}/international-payment-consents", client, body)
        consent_id = consent["Data"]["ConsentId"]
        request_uri, verifier, state = self.partner.push_authorization_request(
            consent_id, "payments"
        )
        # A payment is made from one account: the customer ticks the first one offered.
        code = self._approve(request_uri, random.choice(self.customers), state, accounts=1)
        token = self.partner.exchange_code(code, verifier)["access_token"]
        paid = self.partner.post_signed(f"{PISP}/international-payments", token, {
            "Data": {"ConsentId": consent_id, "Initiation": body["Data"]["Initiation"]},
            "Risk": body["Risk"]})["Data"]  # fmt: skip
        path = f"{PISP}/international-payments/{paid['InternationalPaymentId']}"
        self.partner.get(path, client)


def _consent(amount: str, transfer: str, country: str, iban: str,
             quote: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {
        "Data": {"Initiation": {
            "InstructionIdentification": "LOAD", "EndToEndIdentification": "LOAD",
            "CurrencyOfTransfer": transfer, "DestinationCountryCode": country,
            "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
            "CreditorAccount": {"SchemeName": "UK.OBIE.IBAN", "Identification": iban,
                                "Name": "Load Creditor"},
            "ExchangeRateInformation": {
                "UnitCurrency": "GBP", "RateType": "Agreed",
                "ExchangeRate": float(quote["ExchangeRate"]),
                "ContractIdentification": quote["ContractIdentification"]},
        }},
        "Risk": {"PaymentContextCode": "TransferToThirdParty"},
    }  # fmt: skip
