"""Multiple authorisation of a payment (OBIE v4.0 Payment Initiation: ``Data.MultiAuthorisation``
of ``OBWriteDomesticResponse5`` and the consent's ``Authorisation``).

A business customer's payment needs two of its authorisers (in the sandbox, the business's own
login and its second authoriser, :data:`sandbox.accounts.SECOND_AUTHORISER`). The first approves
on the consent page: the consent is ``AUTH`` and the partner may submit the order, which is
``PDNG`` with ``MultiAuthorisation`` ``AWAF`` (AwaitingFurtherAuthorisation), ``NumberRequired``
2, ``NumberReceived`` 1; the bank is not asked to pay. The second authoriser approves (or
refuses) on the bank's approval page of that payment: the order is then executed
(``MultiAuthorisation`` ``AUTH``) or rejected (``RJCT``, and ``RJCT`` in ``MultiAuthorisation``).

A consent whose ``Authorisation.AuthorisationType`` is ``Single`` asks that one authoriser be
enough: the bank cannot honour it for a customer who needs more, so the consent is rejected when
such a customer approves it (the partner gets ``access_denied``). ``CompletionDateTime``, when
given, is the flow's ``ExpirationDateTime``: an order still awaiting an authoriser then is read
as rejected, and a later approval is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.consents.models import Consent
from gateway.payments.models import PaymentOrder

# How many authorisers a customer of each kind needs for a payment.
REQUIRED = {"Personal": 1, "Business": 2}
SINGLE_REFUSED = "This customer's payments need more than one authoriser; the consent asks for one"
REFUSED_REASON = ("MS02", "An authoriser of the business refused the payment")
_KEY = "MultiAuthorisation"
# The consent families whose orders wait for every authoriser (their submission calls
# :func:`awaiting` and :func:`hold`; the approval page executes them). Others are authorised by
# one authoriser.
FAMILIES = ("domestic-payment-consents",)


def iso(value: dt.datetime) -> str:
    """An ISO 8601 date-time in UTC, to the second (as the responses show it)."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def required(kind: str) -> int:
    """How many authorisers a payment of a customer of ``kind`` needs."""
    return REQUIRED.get(kind, 1)


def on_consent_approval(consent: Consent, kind: str, username: str, now: dt.datetime) -> str | None:
    """Record the first authoriser of a payment consent of the :data:`FAMILIES`, before it is
    authorised; return why the consent must be rejected instead (a ``Single`` authorisation
    asked of a customer who needs more), if so."""
    needed = required(kind)
    if needed == 1 or (consent.data or {}).get("family") not in FAMILIES:
        return None
    asked = (consent.data.get("Authorisation") or {}).get("AuthorisationType")
    if asked == "Single":
        return SINGLE_REFUSED
    completion = (consent.data.get("Authorisation") or {}).get("CompletionDateTime")
    flow = {"Required": needed, "Authorisers": [username], "Updated": iso(now)}
    if completion:
        flow["Expires"] = completion
    consent.data = {**consent.data, _KEY: flow}
    return None


def awaiting(consent: Consent) -> dict[str, Any] | None:
    """The consent's multiple-authorisation flow when its order must wait for more authorisers
    (``None``: one was enough)."""
    flow: dict[str, Any] | None = (consent.data or {}).get(_KEY)
    if flow is None or len(flow["Authorisers"]) >= flow["Required"]:
        return None
    return flow


def hold(row: PaymentOrder, flow: dict[str, Any]) -> None:
    """Keep the order ``PDNG`` until the other authorisers have answered."""
    row.status = "PDNG"
    row.multi_authorisation = {**flow, "Status": "AWAF"}


def expired(row: PaymentOrder, now: dt.datetime) -> bool:
    """Whether the order's flow is still awaiting an authoriser past its ExpirationDateTime."""
    flow = row.multi_authorisation or {}
    limit = flow.get("Expires")
    return bool(flow.get("Status") == "AWAF" and limit and dt.datetime.fromisoformat(limit) <= now)


def approvable(
    row: PaymentOrder, owner: str | None, customer_id: str, username: str, now: dt.datetime
) -> str | None:
    """Why this authoriser (of ``customer_id``, signed in as ``username``) cannot answer for
    this order of ``owner``'s (the customer who authorised its consent) now, if so."""
    flow = row.multi_authorisation or {}
    if flow.get("Status") != "AWAF":
        return "This payment is not awaiting an authoriser."
    if expired(row, now):
        return "The time to authorise this payment has passed."
    if customer_id != owner:
        return "Sign in as an authoriser of the business that makes this payment."
    if username in flow["Authorisers"]:
        return "You have authorised this payment already: another authoriser must answer."
    return None


def answer(row: PaymentOrder, username: str, approved: bool, now: dt.datetime) -> bool:
    """Record an authoriser's answer; return whether the order may now be executed (every
    authoriser approved). A refusal rejects the order."""
    flow = dict(row.multi_authorisation or {})
    flow["Updated"] = iso(now)
    row.status_updated_at = now
    if not approved:
        flow["Status"] = "RJCT"
        row.multi_authorisation = flow
        row.status = "RJCT"
        row.status_reason, row.status_reason_description = REFUSED_REASON
        return False
    flow["Authorisers"] = [*flow["Authorisers"], username]
    complete: bool = len(flow["Authorisers"]) >= int(flow["Required"])
    flow["Status"] = "AUTH" if complete else "AWAF"
    row.multi_authorisation = flow
    return complete


def data(row: PaymentOrder, now: dt.datetime) -> dict[str, Any] | None:
    """``Data.MultiAuthorisation`` of the order at ``now``, if it has a flow."""
    flow = row.multi_authorisation
    if flow is None:
        return None
    status = "RJCT" if expired(row, now) else flow["Status"]
    shown: dict[str, Any] = {
        "Status": status,
        "NumberRequired": flow["Required"],
        "NumberReceived": len(flow["Authorisers"]),
        "LastUpdateDateTime": flow["Expires"] if status != flow["Status"] else flow["Updated"],
    }
    if "Expires" in flow:
        shown["ExpirationDateTime"] = flow["Expires"]
    return shown
