"""VRP consents updated for a version migration (PUT with a full body, PATCH with a JSON Patch),
and what every VRP request must carry: an idempotency key on each POST, PUT and PATCH, a
signature on each body."""

from __future__ import annotations

import copy

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.common.oauth import Partner, register_partner
from tests.common.pisp import staged
from tests.common.vrp import (
    CONSENTS,
    PAYMENTS,
    authorised_vrp,
    consent_body,
    first_error,
    payment_body,
    reader,
    send,
    vrps_of,
)
from tests.functional.test_pisp_domestic import orders_of


@pytest.fixture
def pisp(oauth_app: Flask, http: FlaskClient) -> Partner:
    return register_partner(oauth_app, http, roles=("PISP",))


def test_a_put_may_add_what_v4_adds_and_change_nothing_approved(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, _token = authorised_vrp(oauth_app, pisp, body)
    url = f"{CONSENTS}/{consent_id}"
    migrated = copy.deepcopy(body)
    migrated["Data"]["ControlParameters"]["PSUInteractionTypes"] = ["OffSession", "InSession"]
    migrated["Risk"]["ContractPresentIndicator"] = True
    answer = send(http, pisp, "PUT", url, reader(pisp), migrated, x_idempotency_key="put-1")
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()["Data"]
    assert data["ControlParameters"]["PSUInteractionTypes"] == ["OffSession", "InSession"]
    assert data["Status"] == "AUTH" and "DebtorAccount" in data
    assert answer.get_json()["Risk"]["ContractPresentIndicator"] is True
    changed = copy.deepcopy(migrated)
    changed["Data"]["ControlParameters"]["MaximumIndividualAmount"]["Amount"] = "250.00"
    refused = send(http, pisp, "PUT", url, reader(pisp), changed, x_idempotency_key="put-2")
    assert refused.status_code == 400
    assert first_error(refused.get_json()) == (
        "U008",
        "Data.ControlParameters.MaximumIndividualAmount.Amount",
    )
    kept = pisp.client.get(url, reader(pisp))["Data"]["ControlParameters"]
    assert kept["MaximumIndividualAmount"]["Amount"] == "25.00"


def test_a_put_body_is_checked_against_the_reference(http: FlaskClient, pisp: Partner) -> None:
    body = consent_body()
    consent_id = staged(pisp, body, CONSENTS)["Data"]["ConsentId"]
    broken = copy.deepcopy(body)
    del broken["Data"]["Initiation"]
    answer = send(http, pisp, "PUT", f"{CONSENTS}/{consent_id}", reader(pisp), broken,
                  x_idempotency_key="put-3")  # fmt: skip
    assert answer.status_code == 400
    assert first_error(answer.get_json()) == ("U004", "Data.Initiation")


def test_a_json_patch_migrates_the_consent(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    url = f"{CONSENTS}/{consent_id}"
    patch = [
        {"op": "test", "path": "/Data/ReadRefundAccount", "value": "Yes"},
        {"op": "replace", "path": "/Data/ReadRefundAccount", "value": "No"},
        {"op": "add", "path": "/Data/ControlParameters/PSUInteractionTypes",
         "value": ["InSession"]},
    ]  # fmt: skip
    answer = send(http, pisp, "PATCH", url, reader(pisp), patch,
                  "application/json-patch+json", x_idempotency_key="patch-1")  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["Data"]["ReadRefundAccount"] == "No"
    # The new interaction type holds from now on; no refund account is returned any more.
    paid = pisp.client.post_signed(
        PAYMENTS, token, payment_body(consent_id, body, PSUInteractionType="InSession")
    )
    assert "Refund" not in paid["Data"]
    cases = [
        ([{"op": "replace", "path": "/Data/ControlParameters/PeriodicLimits/0/Amount",
           "value": "1000.00"}], ("U008", "Data.ControlParameters.PeriodicLimits[0].Amount")),
        ([{"op": "remove", "path": "/Data/Nope"}], ("U002", "[0].path")),
        ([{"op": "test", "path": "/Data/ReadRefundAccount", "value": "Yes"}],
         ("U002", "[0].value")),
        ([{"op": "move", "from": "/Risk", "path": "/Data/Risk"}], ("U002", "[0].op")),
        ([{"op": "remove", "path": "/Data/Initiation"}], ("U004", "Data.Initiation")),
        ({"op": "add"}, ("U010", None)),
    ]  # fmt: skip
    for number, (operations, expected) in enumerate(cases):
        key = f"patch-x{number}"
        answer = send(http, pisp, "PATCH", url, reader(pisp), operations,
                      "application/json-patch+json", x_idempotency_key=key)  # fmt: skip
        assert answer.status_code == 400, operations
        assert first_error(answer.get_json()) == expected
    plain = send(http, pisp, "PATCH", url, reader(pisp), patch, x_idempotency_key="patch-2")
    assert plain.status_code == 415


def test_a_consent_no_longer_in_force_cannot_be_updated(
    oauth_app: Flask, http: FlaskClient, pisp: Partner
) -> None:
    body = consent_body()
    consent_id, _token = authorised_vrp(oauth_app, pisp, body)
    url = f"{CONSENTS}/{consent_id}"
    assert send(http, pisp, "DELETE", url, reader(pisp)).status_code == 204
    answer = send(http, pisp, "PUT", url, reader(pisp), body, x_idempotency_key="put-4")
    assert answer.status_code == 400 and first_error(answer.get_json())[0] == "U009"


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_every_body_needs_an_idempotency_key_and_a_signature(
    oauth_app: Flask, http: FlaskClient, pisp: Partner, method: str
) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    if method == "POST":
        url, sent, used = PAYMENTS, payment_body(consent_id, body), token
    else:
        url, sent, used = f"{CONSENTS}/{consent_id}", body, reader(pisp)
    no_key = send(http, pisp, method, url, used, sent)
    assert no_key.status_code == 400
    assert first_error(no_key.get_json()) == ("U007", "x-idempotency-key")
    unsigned = send(http, pisp, method, url, used, sent, x_idempotency_key="k-1",
                    x_jws_signature="")  # fmt: skip
    assert unsigned.status_code == 400 and first_error(unsigned.get_json())[0] == "U019"
    assert vrps_of(oauth_app, consent_id) == 0
    assert orders_of(oauth_app, consent_id) == 0


def test_a_retried_payment_pays_once(oauth_app: Flask, http: FlaskClient, pisp: Partner) -> None:
    body = consent_body()
    consent_id, token = authorised_vrp(oauth_app, pisp, body)
    sent = payment_body(consent_id, body, "3.00")
    first = send(http, pisp, "POST", PAYMENTS, token, sent, x_idempotency_key="vrp-once")
    again = send(http, pisp, "POST", PAYMENTS, token, sent, x_idempotency_key="vrp-once")
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert vrps_of(oauth_app, consent_id) == 1
    # Another key is another payment: a VRP consent pays many times.
    third = send(http, pisp, "POST", PAYMENTS, token, sent, x_idempotency_key="vrp-twice")
    assert third.status_code == 201 and vrps_of(oauth_app, consent_id) == 2
