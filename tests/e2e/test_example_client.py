"""The example partner client, unchanged, against a real server process started the way the
README starts it (``gateway db upgrade`` then ``gateway serve``)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.portal import services as portal_services
from gateway.store.database import make_engine
from partners import example_client, services
from partners.example_client import PartnerClient, parse_redirect
from partners.models import Organisation
from sandbox.models import Customer
from tests.common.oauth import new_key, public
from tests.common.sandbox import sandbox_core
from tests.common.server import free_port, running_gateway


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A gateway under gunicorn with its own SQLite database: its issuer and database URL."""
    with running_gateway(tmp_path_factory.mktemp("e2e"), "e2e-secret") as (issuer, env):
        yield issuer, env["GATEWAY_DATABASE_URL"]


def _partner(
    database_url: str, issuer: str, *, secret: bool = False, roles: tuple[str, ...] = (),
    redirect_uri: str = "http://127.0.0.1:9/callback",
) -> tuple[PartnerClient, str, tuple[str, str]]:  # fmt: skip
    """A partner (its app authenticating with ``private_key_jwt``, or with a client secret),
    its sandbox tenant and a test customer's login."""
    engine = make_engine(database_url)
    key = new_key()
    tag = "-".join(roles) if roles else "secret" if secret else "jwt"
    with Session(engine) as session, session.begin():
        developer = services.sign_up(
            session, email=f"e2e-{tag}@tpp.example", name="E2E",
            password="e2e correct horse battery", legal_name="E2E Partner Ltd", country="GB",
            registration_number="07654321", roles=list(roles or ("AISP", "CBPII")),
        )  # fmt: skip
        organisation = session.get_one(Organisation, developer.organisation_id)
        app, client_secret = services.create_app(
            session, organisation, name="E2E App", redirect_uris=[redirect_uri],
            token_endpoint_auth_method="client_secret_basic" if secret else "private_key_jwt",
            jwks=None if secret else {"keys": [public(key)]}, dpop_bound=True,
        )  # fmt: skip
        sandbox_core(session).ensure_tenant(organisation.id)
        customer = session.scalars(
            select(Customer).where(Customer.tenant_id == organisation.id).order_by(Customer.pk)
        ).first()
        assert customer is not None
        login = (customer.username, customer.password)
        client = PartnerClient(issuer, app.client_id, redirect_uri, {} if secret else key,
                               client_secret=client_secret)  # fmt: skip
        tenant = organisation.id
    engine.dispose()
    return client, tenant, login


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Follow the bank's own redirects, stop at the one to the partner's redirect URI."""

    def __init__(self, stop_at: str) -> None:
        self.stop_at = stop_at

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if newurl.startswith(self.stop_at):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _customer_approves(url: str, login: tuple[str, str], redirect_uri: str) -> str:
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), _NoRedirect(redirect_uri)
    )
    with browser.open(url) as response:
        page = response.read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    login_form = {"csrf_token": csrf.group(1), "username": login[0], "password": login[1]}
    with browser.open(
        url.split("/authorize")[0] + "/authorize/login",
        urllib.parse.urlencode(login_form).encode(),
    ) as response:
        consent_page = response.read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', consent_page)
    accounts = re.findall(r'name="account" value="([^"]+)"', consent_page)
    # A funds-confirmation consent names its account: the page offers none to choose.
    assert csrf is not None and (accounts or 'id="funds-account"' in consent_page)
    answer = {"csrf_token": csrf.group(1), "decision": "approve"}
    decision = urllib.parse.urlencode({**answer, "account": accounts[:1]}, doseq=True).encode()
    with pytest.raises(urllib.error.HTTPError) as answer:
        browser.open(url.split("/authorize")[0] + "/authorize/consent", decision)
    answer.value.close()
    assert answer.value.code == 303
    return str(answer.value.headers["Location"])


def test_example_client_completes_the_flow(server: tuple[str, str]) -> None:
    issuer, database_url = server
    client, _tenant, login = _partner(database_url, issuer)
    consent = client.create_account_access_consent(
        ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits",
         "ReadTransactionsDebits", "ReadTransactionsDetail"]
    )  # fmt: skip
    consent_id = consent["Data"]["ConsentId"]
    # The standard form: scope openid accounts, the consent in the claims parameter.
    request_uri, verifier, state = client.push_authorization_request(consent_id, nonce="n-form")
    location = _customer_approves(client.authorization_url(request_uri), login, client.redirect_uri)
    code = parse_redirect(location, state, issuer)
    tokens = client.exchange_code(code, verifier)
    assert tokens["token_type"] == "DPoP"
    identity = client.verify_id_token(tokens["id_token"], consent_id, "n-form")
    assert identity["sub"] == consent_id and identity["acr"] and identity["auth_time"]
    accounts = client.get("/open-banking/v4.0/aisp/accounts", tokens["access_token"])
    assert len(accounts["Data"]["Account"]) == 1
    assert accounts["Links"]["Self"] == f"{issuer}/open-banking/v4.0/aisp/accounts"
    account_id = accounts["Data"]["Account"][0]["AccountId"]
    history = client.get(
        f"/open-banking/v4.0/aisp/accounts/{account_id}/transactions", tokens["access_token"]
    )
    assert history["Data"]["Transaction"], "the test customer's transactions are reachable"
    # gunicorn passes the target as sent (RAW_URI): a proof for it passes (an unknown account,
    # 400), a proof for its decoded form (another URL) does not (401).
    encoded = f"/open-banking/v4.0/aisp/accounts/{account_id}%3Fx"
    for signed_for, status in ((encoded, 400), (encoded.replace("%3F", "?"), 401)):
        url = issuer + encoded
        headers = client.resource_headers("GET", issuer + signed_for, tokens["access_token"])
        answer, _headers, _body = client.transport("GET", url, headers, None)
        assert answer == status, signed_for

    # Confirmation of funds on the account the customer shared, named as the accounts API gave
    # it: a consent, the customer's approval, then yes or no for two amounts.
    named = accounts["Data"]["Account"][0]["Account"][0]
    debtor = {"SchemeName": named["SchemeName"], "Identification": named["Identification"]}
    funds_consent = client.create_funds_confirmation_consent(debtor)["Data"]["ConsentId"]
    # The same inside a signed request object.
    request_uri, verifier, state = client.push_authorization_request(
        funds_consent, "fundsconfirmations", nonce="n-signed", signed=True
    )
    location = _customer_approves(client.authorization_url(request_uri), login, client.redirect_uri)
    funds_tokens = client.exchange_code(parse_redirect(location, state, issuer), verifier)
    client.verify_id_token(funds_tokens["id_token"], funds_consent, "n-signed")
    small = client.confirm_funds(funds_tokens["access_token"], funds_consent, "0.01", "GBP")
    assert small["Data"]["FundsAvailable"] is True
    huge = client.confirm_funds(funds_tokens["access_token"], funds_consent, "9999999999", "GBP")
    assert huge["Data"]["FundsAvailable"] is False


def test_a_secret_app_configured_in_client_json_reads_accounts(
    server: tuple[str, str], tmp_path: Path
) -> None:
    # The getting-started guide's "just exploring" path: client_secret in client.json.
    issuer, database_url = server
    made, _tenant, login = _partner(database_url, issuer, secret=True)
    config = tmp_path / "client.json"
    config.write_text(json.dumps({"issuer": issuer + "/", "client_id": made.client_id,
                                  "redirect_uri": made.redirect_uri,
                                  "client_secret": made.client_secret}))  # fmt: skip
    client = PartnerClient.from_files(str(config))
    consent = client.create_account_access_consent(["ReadAccountsBasic"])
    request_uri, verifier, state = client.push_authorization_request(consent["Data"]["ConsentId"])
    location = _customer_approves(client.authorization_url(request_uri), login, client.redirect_uri)
    tokens = client.exchange_code(parse_redirect(location, state, issuer), verifier)
    accounts = client.get("/open-banking/v4.0/aisp/accounts", tokens["access_token"])
    assert len(accounts["Data"]["Account"]) == 1


def test_the_guides_registration_script_registers_a_client(
    server: tuple[str, str], tmp_path: Path
) -> None:
    # The getting-started guide's dynamic registration script, as printed, against the server.
    issuer, database_url = server
    guide = (Path(__file__).resolve().parents[2] / "docs" / "getting-started.md").read_text()
    script = re.search(r"```python\n(# register\.py.*?)```", guide, re.DOTALL)
    assert script is not None, "the guide lost its registration script"
    engine = make_engine(database_url)
    key = new_key()
    with Session(engine) as session, session.begin():
        developer = services.sign_up(
            session, email="e2e-dcr@tpp.example", name="E2E", password="e2e correct horse battery",
            legal_name="E2E DCR Ltd", country="GB", registration_number="07654322", roles=["AISP"],
        )  # fmt: skip
        organisation = session.get_one(Organisation, developer.organisation_id)
        app, _ = services.create_app(
            session, organisation, name="E2E DCR", redirect_uris=["http://127.0.0.1:9/callback"],
            token_endpoint_auth_method="private_key_jwt", jwks={"keys": [public(key)]},
        )  # fmt: skip
        _software_id, statement = portal_services.software_statement(session, app)
        own_client_id = app.client_id
    engine.dispose()
    (tmp_path / "private_jwk.json").write_text(json.dumps(key))
    (tmp_path / "software_statement.jwt").write_text(statement)
    code = script.group(1).replace('"http://127.0.0.1:5000"', json.dumps(issuer))
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    registered = json.loads(ran.stdout)
    assert registered["client_id"] and registered["client_id"] != own_client_id
    assert registered["redirect_uris"] == ["http://127.0.0.1:9/callback"]


def test_the_pay_command_pays_and_sees_it_settle(server: tuple[str, str], tmp_path: Path) -> None:
    # ``example_client.py pay``, run unchanged as a partner runs it: it stages the consent,
    # prints the bank's authorization URL and listens on its redirect URI; the test customer
    # approves (this test plays the browser); it pays with an idempotency key, moves the
    # sandbox clock to the settlement and prints ACSC. Every answer's signature is checked.
    issuer, database_url = server
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    made, _tenant, login = _partner(database_url, issuer, roles=("PISP",),
                                    redirect_uri=redirect_uri)  # fmt: skip
    config = tmp_path / "client.json"
    config.write_text(json.dumps({"issuer": issuer, "client_id": made.client_id,
                                  "redirect_uri": redirect_uri,
                                  "private_jwk": made.private_jwk}))  # fmt: skip
    command = [sys.executable, str(Path(example_client.__file__)), "--config", str(config),
               "pay", "12.50", "--reference", "INV-2026-0042"]  # fmt: skip
    # BROWSER: the "browser" the client opens is a no-op; the test plays it.
    environ = {**os.environ, "BROWSER": "true"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=environ) as process:  # fmt: skip
        assert process.stdout is not None
        printed = [process.stdout.readline(), process.stdout.readline(), process.stdout.readline()]
        url = printed[-1].strip()
        assert url.startswith(f"{issuer}/authorize?"), printed
        location = _customer_approves(url, login, redirect_uri)
        assert location.startswith(redirect_uri)
        with urllib.request.urlopen(location, timeout=10) as back:  # noqa: S310
            assert back.status == 200
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    lines = [*printed, *out.splitlines()]
    assert "AWAU; response signature verified" in lines[0]
    assert "12.50 GBP to ACME Inc (08080021325698)" in lines[0]
    paid = next(line for line in lines if line.startswith("4. payment "))
    assert ": ACSP, expected to settle " in paid and "x-idempotency-key" in paid
    assert any(line.startswith("   moved the sandbox clock ") for line in lines), lines
    assert re.match(r"5\. payment dp-\S+: ACSC since ", lines[-1]), lines
