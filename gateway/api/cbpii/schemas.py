"""Request schemas and response shapes of the Confirmation of Funds API (OBIE v4.0)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from gateway.api.aisp.schemas import UtcDateTime
from gateway.api.common import iso
from gateway.consents import services as consents
from gateway.consents.models import Consent, FundsConfirmation

# ExternalProxyAccountType1Code (the reference's enumeration for OBProxy1.Code).
PROXY_CODES = (
    "TELE", "EMAL", "DNAM", "CINC", "COTX", "COID", "CUST", "DRLC", "EIDN", "EWAL", "PVTX",
    "LEIC", "MBNO", "NIDN", "CCPT", "SHID", "SOSE", "TOKN", "UBIL", "VIPN", "BIID",
)  # fmt: skip
# OBFundsConfirmation1.Data.InstructedAmount, as the reference's patterns have them.
AMOUNT_PATTERN = r"^\d{1,13}$|^\d{1,13}\.\d{1,5}$"
CURRENCY_PATTERN = r"^[A-Z]{3,3}$"


def pattern(regex: str) -> list[Callable[[str], Any]]:
    """Validators of a pattern of the reference: published as it is (apispec reads the
    ``Regexp``), and matched as JSON Schema means it, ASCII digits and the whole string
    (Python's ``\\d`` also takes other scripts' digits, and its ``$`` a trailing newline)."""
    loose, strict = re.compile(regex), re.compile(regex, re.ASCII)

    def whole(value: str) -> None:
        # What the Regexp refuses it says itself; this refuses what it lets through.
        if loose.match(value) is not None and strict.fullmatch(value) is None:
            raise ValidationError(f"String does not match expected pattern {regex}.")

    return [validate.Regexp(regex), whole]


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class Proxy(_Strict):
    """``OBProxy1``: another name the account is known by (kept as sent; not used to match)."""

    Identification = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    Code = fields.String(required=True, validate=validate.OneOf(PROXY_CODES))
    Type = fields.String(validate=validate.Length(min=1, max=35))


class DebtorAccount(_Strict):
    """The account a funds-confirmation consent is for."""

    # OBInternalAccountIdentification4Code; the schemes this bank matches are checked by the
    # consent rules (400 U027 for another).
    SchemeName = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"example": "UK.OBIE.SortCodeAccountNumber"},
    )
    Identification = fields.String(
        required=True,
        validate=validate.Length(min=1, max=256),
        metadata={"example": "40000012345678"},
    )
    Name = fields.String(validate=validate.Length(min=1, max=350))
    SecondaryIdentification = fields.String(validate=validate.Length(min=1, max=34))
    Proxy = fields.Nested(Proxy)


class FundsConfirmationConsentData(_Strict):
    """``OBFundsConfirmationConsent1.Data``."""

    ExpirationDateTime = UtcDateTime(metadata={"example": "2099-12-31T23:59:59+00:00"})
    DebtorAccount = fields.Nested(DebtorAccount, required=True)


class FundsConfirmationConsentRequest(_Strict):
    """``OBFundsConfirmationConsent1``: the body of a new funds-confirmation consent."""

    Data = fields.Nested(FundsConfirmationConsentData, required=True)


class InstructedAmount(_Strict):
    """The amount to confirm: a decimal string and an ISO 4217 currency (the account's)."""

    Amount = fields.String(
        required=True, validate=pattern(AMOUNT_PATTERN), metadata={"example": "20.00"}
    )
    Currency = fields.String(
        required=True, validate=pattern(CURRENCY_PATTERN), metadata={"example": "GBP"}
    )


class FundsConfirmationData(_Strict):
    """``OBFundsConfirmation1.Data``."""

    ConsentId = fields.String(required=True, validate=validate.Length(min=1, max=128))
    Reference = fields.String(required=True, validate=validate.Length(min=1, max=35))
    InstructedAmount = fields.Nested(InstructedAmount, required=True)


class FundsConfirmationRequest(_Strict):
    """``OBFundsConfirmation1``: a request to confirm that funds are available."""

    Data = fields.Nested(FundsConfirmationData, required=True)


def consent_body(consent: Consent, status: str) -> dict[str, Any]:
    """``OBFundsConfirmationConsentResponse1.Data`` of a consent whose status is ``status`` now."""
    updated = consent.status_updated_at
    if status != consent.status and status == consents.EXPIRED and consent.expires_at:
        # Expiry is read, not written: the status changed at ExpirationDateTime.
        updated = consent.expires_at
    data: dict[str, Any] = {
        "ConsentId": consent.id,
        "CreationDateTime": iso(consent.created_at),
        "Status": status,
        "StatusUpdateDateTime": iso(updated),
        "DebtorAccount": dict(consent.data["DebtorAccount"]),
    }
    if consent.expires_at is not None:
        data["ExpirationDateTime"] = iso(consent.expires_at)
    return data


def confirmation_body(row: FundsConfirmation, request: dict[str, Any]) -> dict[str, Any]:
    """``OBFundsConfirmationResponse1.Data``: the answer, with the request's reference and
    amount as the CBPII sent them."""
    return {
        "FundsConfirmationId": row.id,
        "ConsentId": row.consent_id,
        "CreationDateTime": iso(row.created_at),
        "FundsAvailable": row.funds_available,
        "Reference": row.reference,
        "InstructedAmount": dict(request["InstructedAmount"]),
    }
