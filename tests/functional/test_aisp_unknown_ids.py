"""An id that does not exist, for the consent, is a 400; a URL that is not served is a 404.

OBIE Read/Write Data API Profile v4.0, "400 (Bad Request) v/s 404 (Not Found)": "When a TPP
tries to request a resource URL with a resource Id that does not exist, the ASPSP must respond
with a 400 (Bad Request) rather than a 404", and the code set gives U011
(UK.OBIE.Resource.NotFound) 400. An account the consent does not cover (one the customer did
not share, another customer's, one never issued) and a statement it does not reach are such ids,
on every per-account and per-statement operation, although the reference file lists 404 for most
of them (it lists 400 for all, so the conforming test client accepts these answers as they are).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.store.database import Database
from sandbox.models import Account, Statement
from tests.common.ais import AIS, Consented, authorised, refusal
from tests.common.obie import conforms_to

# Every cluster a per-account or per-statement operation needs (the statement file needs
# ReadStatementsDetail, a statement's transactions a transactions permission too).
EVERYTHING = ["ReadAccountsDetail", "ReadBalances", "ReadBeneficiariesDetail", "ReadDirectDebits",
              "ReadStandingOrdersDetail", "ReadScheduledPaymentsDetail", "ReadStatementsDetail",
              "ReadTransactionsDetail", "ReadTransactionsCredits", "ReadTransactionsDebits",
              "ReadParty", "ReadProducts", "ReadOffers"]  # fmt: skip
# The operations under /accounts/{AccountId}, by what follows the account id.
PER_ACCOUNT = ["", "/balances", "/transactions", "/beneficiaries", "/direct-debits", "/offers",
               "/party", "/parties", "/product", "/scheduled-payments", "/standing-orders",
               "/statements"]  # fmt: skip
# The operations under /accounts/{AccountId}/statements/{StatementId}.
PER_STATEMENT = ["", "/transactions", "/file"]
# Ids of the right shape that were never issued.
NEVER_ISSUED_ACCOUNT = "acc_000000000000000000000000"
NEVER_ISSUED_STATEMENT = "stm_000000000000000000000000"

# Accounts the consent does not cover.
ACCOUNT_CASES = ["not shared", "another customer's", "never issued"]
# (account, statement) pairs the consent does not reach, by which account each id is of.
STATEMENT_CASES = [
    ("shared", "never issued"),
    ("shared", "the other shared account's"),
    ("shared", "not shared"),
    ("shared", "another customer's"),
    ("not shared", "not shared"),
    ("another customer's", "another customer's"),
    ("never issued", "never issued"),
]


@pytest.fixture(scope="module")
def consented(oauth_app: Flask) -> Consented:
    """A partner whose customer shared every cluster of two of their three accounts."""
    return authorised(oauth_app, oauth_app.test_client(), EVERYTHING, accounts=2)


@pytest.fixture(scope="module")
def ids(oauth_app: Flask, consented: Consented) -> dict[str, tuple[str, str]]:
    """(account id, the id of one of its statements) by whose account it is."""
    database: Database = oauth_app.extensions["database"]
    shared, other_shared = consented[2]
    with database.sessions() as session:
        owner = session.scalars(select(Account).where(Account.public_id == shared)).one()
        customers = select(Account).where(
            Account.tenant_id == owner.tenant_id, Account.customer_pk.is_not(None)
        )
        accounts = session.scalars(customers.order_by(Account.pk)).all()

        def with_statement(account: Account) -> tuple[str, str]:
            newest = select(Statement.public_id).where(Statement.account_pk == account.pk)
            statement = session.scalars(newest.order_by(Statement.start.desc())).first()
            assert statement is not None, account.public_id
            return account.public_id, statement

        by_id = {a.public_id: a for a in accounts}
        not_shared = [a for a in accounts if a.customer_pk == owner.customer_pk
                      and a.public_id not in consented[2]]  # fmt: skip
        others = [a for a in accounts if a.customer_pk != owner.customer_pk]
        assert not_shared and others
        return {
            "shared": with_statement(by_id[shared]),
            "the other shared account's": with_statement(by_id[other_shared]),
            "not shared": with_statement(not_shared[0]),
            "another customer's": with_statement(others[0]),
            "never issued": (NEVER_ISSUED_ACCOUNT, NEVER_ISSUED_STATEMENT),
        }


def assert_unknown_id(status: int, body: dict[str, Any]) -> None:
    assert status == 400, body
    conforms_to("OBErrorResponse1", body)
    assert body["Code"] == "400 BadRequest"
    assert body["Errors"][0]["ErrorCode"] == "U011"


@pytest.mark.parametrize("case", ACCOUNT_CASES)
@pytest.mark.parametrize("operation", PER_ACCOUNT)
def test_an_account_the_consent_does_not_cover_is_400(
    consented: Consented, ids: dict[str, tuple[str, str]], operation: str, case: str
) -> None:
    account, _statement = ids[case]
    assert_unknown_id(*refusal(consented, f"/accounts/{account}{operation}"))


@pytest.mark.parametrize(("account_case", "statement_case"), STATEMENT_CASES)
@pytest.mark.parametrize("operation", PER_STATEMENT)
def test_a_statement_the_consent_does_not_reach_is_400(
    consented: Consented,
    ids: dict[str, tuple[str, str]],
    operation: str,
    account_case: str,
    statement_case: str,
) -> None:
    account, _ = ids[account_case]
    _, statement = ids[statement_case]
    path = f"/accounts/{account}/statements/{statement}{operation}"
    assert_unknown_id(*refusal(consented, path))


@pytest.mark.parametrize("operation", PER_ACCOUNT)
def test_the_answer_does_not_tell_whose_account_it_is(
    consented: Consented, ids: dict[str, tuple[str, str]], operation: str
) -> None:
    # A partner must not learn that an id is another customer's, or one its customer kept back.
    errors = [
        refusal(consented, f"/accounts/{ids[case][0]}{operation}")[1]["Errors"]
        for case in ACCOUNT_CASES
    ]
    assert errors[0] == errors[1] == errors[2]


def test_the_ids_read_are_served_to_the_consent(
    consented: Consented, ids: dict[str, tuple[str, str]]
) -> None:
    # The refusals above are about the ids, not about the consent or the operations.
    partner, token, _accounts = consented
    account, statement = ids["shared"]
    for operation in PER_ACCOUNT:
        assert partner.client.get(f"{AIS}/accounts/{account}{operation}", token)["Data"]
    path = f"{AIS}/accounts/{account}/statements/{statement}"
    assert partner.client.get(path, token)["Data"]["Statement"][0]["StatementId"] == statement
    assert partner.client.get(f"{path}/transactions", token)["Data"]


@pytest.mark.parametrize(
    "path",
    ["/nosuch", "/accounts/{account}/nosuch", "/accounts/{account}/statements/{statement}/nosuch",
     "/accounts/{account}/statements/{statement}/file/nosuch"],
)  # fmt: skip
def test_a_url_that_is_not_served_is_still_404(
    oauth_app: Flask, consented: Consented, ids: dict[str, tuple[str, str]], path: str
) -> None:
    # With a token that may read everything under it. (No operation of the reference has these
    # paths: the plain test client, which validates nothing.)
    partner, token, _accounts = consented
    account, statement = ids["shared"]
    url = f"{AIS}{path.format(account=account, statement=statement)}"
    headers = partner.client.resource_headers("GET", partner.client.issuer + url, token)
    answer = FlaskClient(oauth_app).get(url, headers=headers)
    assert answer.status_code == 404
    assert answer.json is not None
    conforms_to("OBErrorResponse1", answer.json)
    assert answer.json["Errors"][0]["ErrorCode"] == "U011"
