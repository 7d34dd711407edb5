"""Locust scenarios: account-information partners (AISPs) polling their customers' data, and
payment-initiation partners (PISPs) paying.

Each simulated partner app does what a real AISP does, over HTTP only, with the example partner
client's protocol code, downloaded from the gateway as partners download it
(``/docs/examples/partner_client.py``); nothing of the project is imported:

* on start: a client-credentials token, an account-access consent, PAR, the customer's sign-in
  and approval on the consent pages, the code exchange (PKCE, private_key_jwt, DPoP);
* then, with think times of 2-8 s: accounts, balances, transactions (sometimes the next page),
  refreshing the token before it expires.

Each simulated PISP pays, again and again (think times of 1-3 s), as a partner's checkout does:
a domestic-payment consent staged with a client-credentials token (signed, idempotency key), the
customer's sign-in and approval (picking the account to pay from), the code exchange, the payment
(signed, a new idempotency key, the consent's ``Initiation`` and ``Risk`` repeated), and its
status; the bank's signature of every payment answer is checked. Run one kind only by naming its
class (``Aisp`` or ``Pisp``) after the options.

Create the partner first (an ops task), then run headless with an HTML report::

    .venv/bin/gateway ops load-partner --issuer http://127.0.0.1:5000 --output partner.json
    LOAD_PARTNER=partner.json .venv/bin/locust -f loadtests/locustfile.py --headless \\
        -u 20 -r 2 -t 2m --host http://127.0.0.1:5000 --html loadtests/reports/aisp.html

The run fails (exit status 1) when more than ``LOAD_MAX_FAILURE_RATIO`` (default 0.01) of the
requests failed or the 95th percentile exceeds ``LOAD_MAX_P95_MS`` (default 800 ms).
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
import types
import urllib.request
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from locust import HttpUser, between, events, task
from locust.env import Environment

AIS = "/open-banking/v4.0/aisp"
CREDITOR = {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
            "Name": "ACME Inc"}  # fmt: skip
PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits",
               "ReadTransactionsDebits", "ReadTransactionsDetail"]  # fmt: skip
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ACCOUNT = re.compile(r'name="account" value="([^"]+)"')


def _config() -> dict[str, Any]:
    path = os.environ.get("LOAD_PARTNER", "partner.json")
    with open(path) as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _example_client() -> types.ModuleType:
    """The example partner client, downloaded from the gateway under test."""
    url = f"{_config()['issuer'].rstrip('/')}/docs/examples/partner_client.py"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the configured gateway
        source = response.read()
    module = types.ModuleType("partner_client")
    sys.modules[module.__name__] = module  # dataclasses look their module up while built
    exec(compile(source, "partner_client.py", "exec"), module.__dict__)  # noqa: S102 - see above
    return module


partner_client = _example_client()


# A resource id in a path, named ``{id}`` in the figures (a loan's id, not /loan-applications).
RESOURCE_ID = r"/(acc_|aac-|pmc-|dp-|ip-|fin-|loan-(?!applications))[A-Za-z0-9_-]+"


class _Partner(HttpUser):
    """What every simulated partner does: send through locust, play the customer's part."""

    abstract = True

    def _transport(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip  # noqa: E501
        path = urlsplit(url).path
        name = re.sub(RESOURCE_ID, r"/\1{id}", path)
        with self.client.request(
            method, url, headers=headers, data=body, name=name, catch_response=True
        ) as response:
            if response.status_code >= 400:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            return response.status_code, dict(response.headers), response.content

    def _partner(self) -> Any:
        config = _config()
        return partner_client.PartnerClient(
            config["issuer"], config["client_id"], config["redirect_uri"],
            config["private_jwk"], transport=self._transport,
        )  # fmt: skip

    def _approve(
        self, request_uri: str, customer: dict[str, str], state: str, accounts: int | None = None
    ) -> str:
        """The customer's part: sign in, tick the accounts (all, or the first ``accounts``),
        approve."""
        page = self.client.get(self.partner.authorization_url(request_uri), name="/authorize")
        token = _CSRF.search(page.text)
        assert token, "no sign-in form"
        form = {"csrf_token": token.group(1), **customer}
        consent_page = self.client.post("/authorize/login", data=form, name="/authorize/login")
        token = _CSRF.search(consent_page.text)
        assert token, "no consent form"
        decision = {"csrf_token": token.group(1), "decision": "approve",
                    "account": _ACCOUNT.findall(consent_page.text)[:accounts]}  # fmt: skip
        answer = self.client.post(
            "/authorize/consent", data=decision, allow_redirects=False, name="/authorize/consent"
        )
        params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
        assert params.get("state") == state, "state mismatch"
        return params["code"]


class Aisp(_Partner):
    """One partner app polling one customer's accounts."""

    wait_time = between(2, 8)

    def on_start(self) -> None:
        """Consent, authorization and tokens, as a partner's first contact with a customer."""
        self.partner = self._partner()
        customer = random.choice(_config()["customers"])
        consent = self.partner.create_account_access_consent(PERMISSIONS)
        request_uri, verifier, state = self.partner.push_authorization_request(
            consent["Data"]["ConsentId"]
        )
        code = self._approve(request_uri, customer, state)
        self._tokens(self.partner.exchange_code(code, verifier))
        listed = self.partner.get(f"{AIS}/accounts", self.access)["Data"]["Account"]
        self.accounts = [a["AccountId"] for a in listed]

    def _tokens(self, tokens: dict[str, Any]) -> None:
        self.access = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]
        self.expires = time.monotonic() + tokens["expires_in"] - 30

    def _fresh(self) -> str:
        if time.monotonic() > self.expires:
            self._tokens(self.partner.refresh(self.refresh_token))
        return str(self.access)

    @task(3)
    def accounts_list(self) -> None:
        """Poll the account list."""
        self.partner.get(f"{AIS}/accounts", self._fresh())

    @task(2)
    def balances(self) -> None:
        """Read one account's balances."""
        self.partner.get(f"{AIS}/accounts/{random.choice(self.accounts)}/balances", self._fresh())

    @task(2)
    def transactions(self) -> None:
        """Read the latest transactions, and sometimes the page after."""
        account = random.choice(self.accounts)
        page = self.partner.get(f"{AIS}/accounts/{account}/transactions", self._fresh())
        following = page["Links"].get("Next")
        if following and random.random() < 0.3:
            self.partner.get(
                urlsplit(following).path + "?" + urlsplit(following).query, self._fresh()
            )


class Pisp(_Partner):
    """One partner app paying on behalf of its customers: one domestic payment per task."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        """The partner's own token for consents and status reads."""
        self.partner = self._partner()
        self.staff = self.partner.client_credentials("payments")["access_token"]
        self.staff_expires = time.monotonic() + 300

    @task
    def pay(self) -> None:
        """Stage, authorise, pay (signed, idempotent), read the status."""
        if time.monotonic() > self.staff_expires:
            self.on_start()
        reference = f"LOAD-{random.randrange(16**8):08X}"
        consent = partner_client.payment_consent(
            f"{random.randint(1, 500) / 100:.2f}", "GBP", CREDITOR, reference
        )
        staged = self.partner.create_domestic_payment_consent(self.staff, consent)
        consent_id = staged["Data"]["ConsentId"]
        request_uri, verifier, state = self.partner.push_authorization_request(
            consent_id, "payments"
        )
        code = self._approve(request_uri, random.choice(_config()["customers"]), state, 1)
        token = self.partner.exchange_code(code, verifier)["access_token"]
        key = str(uuid.uuid4())
        paid = self.partner.submit_domestic_payment(token, consent_id, consent, key)["Data"]
        status = self.partner.domestic_payment(self.staff, paid["DomesticPaymentId"])["Data"]
        assert status["Status"] in ("ACSP", "ACSC"), status["Status"]


@events.quitting.add_listener
def _thresholds(environment: Environment, **_kwargs: Any) -> None:
    """Fail the run when errors or latency pass the thresholds."""
    stats = environment.stats.total
    max_failures = float(os.environ.get("LOAD_MAX_FAILURE_RATIO", "0.01"))
    max_p95 = float(os.environ.get("LOAD_MAX_P95_MS", "800"))
    p95 = stats.get_response_time_percentile(0.95) or 0
    if stats.num_requests == 0 or stats.fail_ratio > max_failures or p95 > max_p95:
        print(f"thresholds missed: failure ratio {stats.fail_ratio:.3f} (max {max_failures}), "
              f"p95 {p95:.0f} ms (max {max_p95:.0f})")  # fmt: skip
        environment.process_exit_code = 1
    else:
        print(f"thresholds met: failure ratio {stats.fail_ratio:.3f}, p95 {p95:.0f} ms")
