"""Funds-confirmation consents and funds confirmations (OBIE Confirmation of Funds API v4.0): the
rules a consent request must follow, which of a customer's accounts it names, and the answer a
token that carries an authorised consent gets.

Plain functions over plain values and a bank's contracts (:class:`gateway.core.bank.BankCore`):
the CBPII views call them with the request's token and bank; the tests with the in-memory bank
(``gateway.core.memory``). Only :func:`confirm` writes (the record of an answer, flushed in the
request's unit of work); the bank is only asked, never changed: a confirmation reserves nothing.

What the OBIE v4.0 documents say, and where it is enforced:

* Confirmation of Funds API Profile, Consent Elements: ``DebtorAccount`` is "the account to
  which the consent has been applied ... a specific account known to the PSU and the CBPII";
  ``ExpirationDateTime`` is optional ("the consent ... may be indefinite"). The customer agrees
  or declines "in its entirety (but not selectively)": the consent page shows the one account,
  and a customer who does not hold it cannot give the consent (:func:`owned_account`).
* Profile, Grants Types: "the intent-id in the token must match the ConsentId in the message
  payload" (:func:`authorise`).
* Funds Confirmation resource: "Funds can only be confirmed against the currency of the account,
  ASPSP must reject the request when Amount is in a different currency" (:meth:`Grant.answer`).
* Profile, Idempotency: the endpoints "are not idempotent": a retry is a new request, "where the
  availability of funds may have changed". ``Reference`` is the CBPII's "unique reference ... to
  unambiguously refer to the request", and the code set gives ``U013``
  (``UK.OBIE.Rules.DuplicateReference``) for "a duplicate reference ... used for a CBPII
  confirmation of funds request": a reference is used once per consent (:func:`confirm`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.consents.models import FundsConfirmation
from gateway.core.accounts import Account
from gateway.core.bank import BankCore
from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.money import Money, from_minor, to_minor
from gateway.edge.errors import ApiError

KIND = "fundsconfirmations"
SCAN = "UK.OBIE.SortCodeAccountNumber"
IBAN = "UK.OBIE.IBAN"
PAN = "UK.OBIE.PAN"
# The schemes of OBInternalAccountIdentification4Code that the bank identifies its accounts by,
# with the shape of an identification in each (a UK sort code and account number is 14 digits;
# an IBAN is ISO 13616: country, check digits, up to 30 letters and digits; a card number 12 to
# 19 digits). UK.OBIE.BBAN, UK.OBIE.Paym and UK.OBIE.Wallet name no account of this bank.
SCHEMES: dict[str, re.Pattern[str]] = {
    SCAN: re.compile(r"[0-9]{14}"),
    IBAN: re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}"),
    PAN: re.compile(r"[0-9]{12,19}"),
}
_SCHEME_WORDS = {SCAN: "sort code and account number (14 digits)", IBAN: "IBAN",
                 PAN: "card number (12 to 19 digits)"}  # fmt: skip
DEBTOR = "Data.DebtorAccount"
AMOUNT = "Data.InstructedAmount"


def check_consent_request(data: Mapping[str, Any], now: dt.datetime) -> None:
    """Apply the rules of a funds-confirmation consent request beyond its schema: an expiry in
    the future on the bank's clock, and a debtor account named in a way this bank can match."""
    expiry = data.get("ExpirationDateTime")
    if expiry is not None and expiry <= now:
        raise ApiError.one(
            "U003", "ExpirationDateTime must be in the future", path="Data.ExpirationDateTime"
        )
    debtor = data["DebtorAccount"]
    scheme = debtor["SchemeName"]
    shape = SCHEMES.get(scheme)
    if shape is None:
        # U027 UK.OBIE.Unsupported.Scheme: "The path element should be populated with the path
        # of the scheme."
        raise ApiError.one(
            "U027",
            f"SchemeName {scheme} is not supported: use one of {', '.join(SCHEMES)}",
            path=f"{DEBTOR}.SchemeName",
        )
    identification = normalised(debtor["Identification"])
    if not shape.fullmatch(identification) or (scheme == IBAN and not _iban_checks(identification)):
        # U021 UK.OBIE.Unsupported.AccountIdentifier: "the account identifier is unsupported for
        # the given scheme", with the path of the identifier.
        raise ApiError.one(
            "U021",
            f"Identification is not a valid {_SCHEME_WORDS[scheme]}",
            path=f"{DEBTOR}.Identification",
        )


def normalised(identification: str) -> str:
    """An identification as it is compared: without spaces, in capitals (an IBAN is often
    written in groups of four)."""
    return identification.replace(" ", "").upper()


def _iban_checks(iban: str) -> bool:
    """ISO 13616 / ISO 7064 MOD 97-10: the IBAN, its first four characters moved to the end and
    each letter read as two digits (A is 10), leaves 1 divided by 97."""
    return int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1


def owned_account(accounts: Sequence[Account], debtor: Mapping[str, Any]) -> Account | None:
    """The account of ``accounts`` (a customer's) that ``debtor`` (a consent's
    ``DebtorAccount``) names, or ``None`` when it names none of them.

    An account is named by one of its identifications: the same scheme and identification
    (spaces and case aside) and, when the request gives a ``SecondaryIdentification`` (a
    building society roll number), the same one. The account name is not compared: the
    customer, who sees the account on the consent page, is the judge of that.
    """
    scheme = debtor.get("SchemeName")
    wanted = normalised(str(debtor.get("Identification", "")))
    secondary = debtor.get("SecondaryIdentification")
    for account in accounts:
        for ident in account.identifiers:
            if (
                ident.scheme == scheme
                and normalised(ident.identification) == wanted
                and (secondary is None or ident.secondary_identification == secondary)
            ):
                return account
    return None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bank said about one amount: whether it is available in the consent's account
    now, on the bank's clock."""

    account_id: str
    amount: Money
    available: bool
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Grant:
    """An authorised funds-confirmation consent, as a request's token carries it."""

    consent: consents.Snapshot
    bind: Callable[[], BankCore]
    now: dt.datetime

    @property
    def account_id(self) -> str:
        """The account the customer gave the consent for."""
        return self.consent.account_ids[0]

    def answer(self, instructed: Mapping[str, str]) -> Answer:
        """Ask the bank whether ``instructed`` (``InstructedAmount``: ``Amount`` and
        ``Currency``, as sent) is available in the consent's account; nothing is reserved."""
        bank, tenant = self.bind(), self.consent.tenant_id
        try:
            account = bank.account(tenant, self.account_id)
        except UnknownResource:
            # The account went (a sandbox reset to another seed): no consent reaches it now.
            raise ApiError.one(
                "U009", "The account of this consent no longer exists", path="Data.ConsentId"
            ) from None
        if instructed["Currency"] != account.currency:
            # Funds Confirmation: "ASPSP must reject the request when Amount is in a different
            # currency than the currency of the underlying account."
            raise ApiError.one(
                "U002",
                f"Funds can only be confirmed in the account's currency, {account.currency}",
                path=f"{AMOUNT}.Currency",
            )
        amount = _money(instructed["Amount"], account.currency)
        available = bank.funds_available(tenant, account.id, amount)
        return Answer(account.id, amount, available, self.now)


def _money(amount: str, currency: str) -> Money:
    """``amount`` (the decimal string of the request) in ``currency``: no more decimal places
    than ISO 4217 gives it, and more than zero."""
    try:
        minor = to_minor(Decimal(amount), currency)
    except InvalidInstruction as exc:
        raise ApiError.one("U002", str(exc), path=f"{AMOUNT}.Amount") from None
    if minor <= 0:
        raise ApiError.one("U002", "Amount must be more than zero", path=f"{AMOUNT}.Amount")
    return from_minor(minor, currency)


def authorise(
    consent: consents.Snapshot | None, consent_id: str, bind: Callable[[], BankCore]
) -> Grant:
    """What a funds-confirmation request may ask: the token's consent must be a
    funds-confirmation consent (403 U042 otherwise), the one ``consent_id`` names (400 U008
    otherwise), and authorised on the bank's clock (400 U009 otherwise)."""
    if consent is None or consent.kind != KIND:
        raise ApiError.one("U042", "The token carries no funds-confirmation consent", status=403)
    if consent_id != consent.id:
        # Profile, Grants Types: "the intent-id in the token must match the ConsentId in the
        # message payload". U008 UK.OBIE.Resource.ConsentMismatch, with the field's path.
        raise ApiError.one(
            "U008", "ConsentId is not the consent this token was issued for",
            path="Data.ConsentId",
        )  # fmt: skip
    now = bind().now(consent.tenant_id)
    status = consents.effective_status(consent, now)
    if status != consents.AUTHORISED:
        # U009 UK.OBIE.Resource.InvalidConsentStatus (400 in the code set): "the resource's
        # associated consent is not in a status that would allow the resource to be created".
        raise ApiError.one("U009", f"The consent is {status}", path="Data.ConsentId")
    return Grant(consent, bind, now)


def confirm(
    session: Session, grant: Grant, reference: str, instructed: Mapping[str, str]
) -> FundsConfirmation:
    """Answer a funds-confirmation request and record the answer (flushed, not committed).

    A ``reference`` this consent used before is refused with 400 U013 before the bank is asked.
    The record is what PSD2 Art. 65(4) lets the payer ask the bank for (which CBPII asked, and
    what it was told); its unique (consent, reference) key settles two requests that race with
    one reference: the second is refused the same way.
    """
    used = select(FundsConfirmation.id).where(
        FundsConfirmation.consent_id == grant.consent.id, FundsConfirmation.reference == reference
    )
    if session.scalar(used) is not None:
        raise _duplicate()
    answer = grant.answer(instructed)
    row = FundsConfirmation(
        id="fc-" + secrets.token_hex(16),
        consent_id=grant.consent.id,
        reference=reference,
        amount_minor=to_minor(answer.amount.amount, answer.amount.currency),
        currency=answer.amount.currency,
        funds_available=answer.available,
        created_at=answer.at,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise _duplicate() from None
    return row


def _duplicate() -> ApiError:
    return ApiError.one(
        "U013", "This Reference was used before with this consent: send a new one",
        path="Data.Reference",
    )  # fmt: skip
