"""Offers of a decided loan application, and their acceptance.

Once an application is decided, the consent's data holds the decision under ``"Decision"``
(``Outcome``, ``DecisionDateTime``, ``Reasons``, ``Conditions``). Its offers follow from it:

* ``Approve``: one offer, the loan applied for (``Kind`` ``AsApplied``);
* ``ApproveWithConditions``: one offer per condition, the loan with the condition's amount and
  term (``Kind`` ``LowerAmount`` or ``LongerTerm``);
* ``Refer`` and ``Decline``: none.

Each offer is priced when it is first made (the priced quote the customer is shown, kept in the
consent's data under ``"Offers"``) and is valid for :data:`OFFER_VALIDITY` from the decision, on
the tenant's clock. Accepting one draws the loan down at the bank, priced again on the day of
the drawdown with the offer's terms (the rate, fees and amortisation of the offer; the
instalment dates run from the drawdown), and closes the others: the consent's data keeps the
acceptance under ``"Acceptance"`` and :class:`gateway.consents.models.FinancedLoan` ties the loan
to the partner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway.consents.models import Consent, FinancedLoan
from gateway.consents.services import AUTHORISED

# How long an offer stands, from the decision (a personal loan offer is commonly held a month).
OFFER_VALIDITY = dt.timedelta(days=30)
APPROVED = ("Approve", "ApproveWithConditions")

# What an offer's quote is: the priced terms, or None when the product no longer lends them.
Pricer = Callable[[Mapping[str, Any]], dict[str, Any] | None]


def offer_id(consent_id: str, number: int) -> str:
    """The stable id of the ``number``-th offer of an application."""
    digest = hashlib.blake2b(f"{consent_id}:{number}".encode(), digest_size=12).hexdigest()
    return f"ofr-{digest}"


def terms(data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The kind and the loan terms of each offer the decision in ``data`` makes (none before a
    decision, or for ``Refer`` and ``Decline``)."""
    decision = data.get("Decision")
    if not decision or decision.get("Outcome") not in APPROVED:
        return []
    loan = dict(data["Loan"])
    if decision["Outcome"] == "Approve":
        return [("AsApplied", loan)]
    return [
        (condition["Kind"], loan | {"Amount": dict(condition["Amount"]), "Term": condition["Term"]})
        for condition in decision.get("Conditions", ())
    ]


def expiry(data: Mapping[str, Any]) -> dt.datetime:
    """When the offers of the decision in ``data`` lapse."""
    return dt.datetime.fromisoformat(data["Decision"]["DecisionDateTime"]) + OFFER_VALIDITY


def make_offers(consent: Consent, price: Pricer) -> list[dict[str, Any]]:
    """The application's offers, made and kept in its data the first time they are asked for
    once it is decided (the same offers every later time)."""
    kept = consent.data.get("Offers")
    if kept is not None or not consent.data.get("Decision"):
        return list(kept or [])
    lapses = expiry(consent.data).isoformat(timespec="seconds")
    offers = []
    for number, (kind, loan) in enumerate(terms(consent.data), start=1):
        quote = price(loan)
        if quote is not None:
            offers.append({"OfferId": offer_id(consent.id, number), "Kind": kind, "Loan": loan,
                           "Quote": quote, "ExpirationDateTime": lapses})  # fmt: skip
    consent.data = {**consent.data, "Offers": offers}
    return offers


def offer_status(offer: Mapping[str, Any], data: Mapping[str, Any], now: dt.datetime) -> str:
    """``Accepted``, ``Withdrawn`` (another was accepted), ``Expired`` or ``Available``."""
    accepted = data.get("Acceptance")
    if accepted is not None:
        return "Accepted" if accepted["OfferId"] == offer["OfferId"] else "Withdrawn"
    lapses = dt.datetime.fromisoformat(offer["ExpirationDateTime"])
    return "Expired" if lapses <= now else "Available"


def shown(data: Mapping[str, Any], now: dt.datetime) -> list[dict[str, Any]]:
    """The offers as the application shows them, each with its status now."""
    return [offer | {"Status": offer_status(offer, data, now)} for offer in data.get("Offers", ())]


@dataclass(frozen=True)
class AcceptanceRefused(Exception):
    """Why an offer cannot be accepted: an OB internal ``code``, the HTTP ``status``, the
    ``message`` and the field at fault."""

    code: str
    message: str
    status: int = 400
    path: str | None = None


def acceptable(consent: Consent, status: str, wanted: str, now: dt.datetime) -> dict[str, Any]:
    """The offer ``wanted`` when it can be accepted now, else :class:`AcceptanceRefused`."""
    if "Acceptance" in consent.data:
        # OB internal code U029 (409): "a resource ... in a state that doesn't allow requested
        # operation": one offer of an application can be accepted, once.
        raise AcceptanceRefused("U029", "An offer of this application was accepted already",
                                status=409)  # fmt: skip
    if status != AUTHORISED or not consent.account_ids:
        # U009 Resource.InvalidConsentStatus: the consent must be AUTH to act on it.
        raise AcceptanceRefused("U009", f"The application is {status}, not AUTH")
    decision = consent.data.get("Decision")
    if not decision:
        raise AcceptanceRefused("U009", "The application has not been decided yet")
    if decision.get("Outcome") not in APPROVED:
        raise AcceptanceRefused("U009", f"The application was not approved: {decision['Outcome']}")
    for offer in consent.data.get("Offers", ()):
        if offer["OfferId"] == wanted:
            if offer_status(offer, consent.data, now) == "Expired":
                lapsed = f"The offer expired at {offer['ExpirationDateTime']}"
                # U003 Field.InvalidDate: the offer's date has passed.
                raise AcceptanceRefused("U003", lapsed, path="Data.OfferId")
            return dict(offer)
    # OBIE Read/Write Data API Profile v4.0: an unknown resource id is 400 U011.
    raise AcceptanceRefused("U011", f"No offer {wanted!r} in this application", path="Data.OfferId")


def accept(session: Session, consent: Consent, offer: Mapping[str, Any], loan_id: str,
           now: dt.datetime) -> None:  # fmt: skip
    """Record that ``offer`` was accepted and drawn down as ``loan_id``."""
    acceptance = {"OfferId": offer["OfferId"], "LoanId": loan_id,
                  "AcceptanceDateTime": now.isoformat(timespec="seconds")}  # fmt: skip
    consent.data = {**consent.data, "Acceptance": acceptance}
    session.add(FinancedLoan(loan_id=loan_id, consent_id=consent.id, client_id=consent.client_id,
                             tenant_id=consent.tenant_id, offer_id=offer["OfferId"],
                             created_at=now))  # fmt: skip
    session.flush()
