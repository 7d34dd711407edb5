"""Locust scenario: account-information partners (AISPs) polling their customers' data.

Each simulated partner app does what a real AISP does, over HTTP only, with the example partner
client's protocol code, downloaded from the gateway as partners download it
(``/docs/examples/partner_client.py``); nothing of the project is imported:

* on start: a client-credentials token, an account-access consent, PAR, the customer's sign-in
  and approval on the consent pages, the code exchange (PKCE, private_key_jwt, DPoP);
* then, with think times of 2-8 s: accounts, balances, transactions (sometimes the next page),
  refreshing the token before it expires.

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
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from locust import HttpUser, between, events, task
from locust.env import Environment

AIS = "/open-banking/v4.0/aisp"
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


class Aisp(HttpUser):
    """One partner app polling one customer's accounts."""

    wait_time = between(2, 8)

    def _transport(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip  # noqa: E501
        path = urlsplit(url).path
        name = re.sub(r"/(acc_|aac-)[A-Za-z0-9_-]+", r"/\1{id}", path)
        with self.client.request(
            method, url, headers=headers, data=body, name=name, catch_response=True
        ) as response:
            if response.status_code >= 400:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            return response.status_code, dict(response.headers), response.content

    def on_start(self) -> None:
        """Consent, authorization and tokens, as a partner's first contact with a customer."""
        config = _config()
        self.partner = partner_client.PartnerClient(
            config["issuer"], config["client_id"], config["redirect_uri"],
            config["private_jwk"], transport=self._transport,
        )  # fmt: skip
        customer = random.choice(config["customers"])
        consent = self.partner.create_account_access_consent(PERMISSIONS)
        request_uri, verifier, state = self.partner.push_authorization_request(
            consent["Data"]["ConsentId"]
        )
        code = self._approve(request_uri, customer, state)
        self._tokens(self.partner.exchange_code(code, verifier))
        listed = self.partner.get(f"{AIS}/accounts", self.access)["Data"]["Account"]
        self.accounts = [a["AccountId"] for a in listed]

    def _approve(self, request_uri: str, customer: dict[str, str], state: str) -> str:
        """The customer's part: sign in, tick every account, approve."""
        page = self.client.get(self.partner.authorization_url(request_uri), name="/authorize")
        token = _CSRF.search(page.text)
        assert token, "no sign-in form"
        form = {"csrf_token": token.group(1), **customer}
        consent_page = self.client.post("/authorize/login", data=form, name="/authorize/login")
        token = _CSRF.search(consent_page.text)
        assert token, "no consent form"
        decision = {"csrf_token": token.group(1), "decision": "approve",
                    "account": _ACCOUNT.findall(consent_page.text)}  # fmt: skip
        answer = self.client.post(
            "/authorize/consent", data=decision, allow_redirects=False, name="/authorize/consent"
        )
        params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
        assert params.get("state") == state, "state mismatch"
        return params["code"]

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
