"""Request schemas and response shapes of the Account Information API (OBIE v4.0)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from gateway.api.common import iso
from gateway.consents import services as consents
from gateway.consents.account_access import PERMISSIONS
from gateway.consents.models import Consent
from gateway.core.accounts import Account
from gateway.core.values import Counterparty

# OBExternalAccountSubType1Code of our account subtypes.
ACCOUNT_TYPE_CODES = {
    "CurrentAccount": "CACC",
    "Savings": "SVGS",
    "CreditCard": "CARD",
    "Loan": "LOAN",
}
SERVICER = {"SchemeName": "UK.OBIE.BICFI", "Identification": "OBSBGB2L"}


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time with its offset, held in UTC; one that UTC cannot hold (the first or
    last hours of years 1 and 9999 at an offset) is not a valid date-time."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        moment: dt.datetime = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class ConsentData(Schema):
    """``OBReadConsent1.Data``."""

    class Meta:
        unknown = RAISE

    Permissions = fields.List(
        fields.String(validate=validate.OneOf(PERMISSIONS)),
        required=True,
        validate=validate.Length(min=1),
    )
    # Examples that a request made from the API reference can send as they are.
    ExpirationDateTime = UtcDateTime(metadata={"example": "2099-12-31T23:59:59+00:00"})
    TransactionFromDateTime = UtcDateTime(metadata={"example": "2020-01-01T00:00:00+00:00"})
    TransactionToDateTime = UtcDateTime(metadata={"example": "2099-12-31T23:59:59+00:00"})


class ConsentRequest(Schema):
    """``OBReadConsent1``: the body of a new account-access consent."""

    class Meta:
        unknown = RAISE

    Data = fields.Nested(ConsentData, required=True)
    Risk = fields.Dict(required=True)


def consent_body(consent: Consent, status: str) -> dict[str, Any]:
    """``OBReadConsentResponse1.Data`` of a consent, whose status is ``status`` now."""
    updated = consent.status_updated_at
    if status != consent.status and status == consents.EXPIRED and consent.expires_at:
        # Expiry is read, not written: the status changed at ExpirationDateTime.
        updated = consent.expires_at
    data: dict[str, Any] = {
        "ConsentId": consent.id,
        "CreationDateTime": iso(consent.created_at),
        "Status": status,
        "StatusUpdateDateTime": iso(updated),
        "Permissions": list(consent.permissions),
    }
    if consent.expires_at is not None:
        data["ExpirationDateTime"] = iso(consent.expires_at)
    for name in ("TransactionFromDateTime", "TransactionToDateTime"):
        if consent.data.get(name):
            data[name] = consent.data[name]
    return data


def mask(identification: str) -> str:
    """A card number as shown without ``ReadPAN``: the last four digits only."""
    return "*" * (len(identification) - 4) + identification[-4:]


def day(value: dt.date) -> str:
    """A calendar date as the OBIE date-time of its start, in UTC."""
    return f"{value.isoformat()}T00:00:00+00:00"


def cash_account(party: Counterparty, permissions: list[str]) -> dict[str, str] | None:
    """``OBCashAccount5`` of a creditor (card numbers masked without ``ReadPAN``), or ``None``
    when the bank holds no scheme and identification for it."""
    if not party.scheme or not party.identification:
        return None
    value = party.identification
    if party.scheme == "UK.OBIE.PAN" and "ReadPAN" not in permissions:
        value = mask(value)
    body = {"SchemeName": party.scheme, "Identification": value[:256]}
    if party.name:
        body["Name"] = party.name[:350]
    return body


def account_body(account: Account, permissions: list[str]) -> dict[str, Any]:
    """``OBAccount6`` (with ``ReadAccountsDetail``) or ``OBAccount6Basic``."""
    body: dict[str, Any] = {
        "AccountId": account.id,
        "Status": account.status,
        "Currency": account.currency,
        "AccountCategory": account.account_type,
        "AccountTypeCode": ACCOUNT_TYPE_CODES[account.account_subtype],
        "Description": account.product_name[:35],
        "Nickname": account.nickname,
        "OpeningDate": day(account.opening_date),
    }
    if "ReadAccountsDetail" in permissions:
        identifiers = []
        for ident in account.identifiers:
            value = ident.identification
            if ident.scheme == "UK.OBIE.PAN" and "ReadPAN" not in permissions:
                value = mask(value)
            entry = {"SchemeName": ident.scheme, "Identification": value}
            if ident.name:
                entry["Name"] = ident.name[:350]
            identifiers.append(entry)
        body["Account"] = identifiers
        body["Servicer"] = dict(SERVICER)
    return body
