"""Parties: ``/party`` (the customer who authorised, ``ReadPartyPSU``), and with ``ReadParty``
``/accounts/{AccountId}/party`` (the account's owner) and ``/accounts/{AccountId}/parties``
(owners and operators, such as a business's delegates)."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from gateway.api.aisp import access, bp, listing
from gateway.api.common import check_fapi_headers, envelope, public_url
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account, Party
from gateway.core.values import Address
from gateway.edge.errors import ApiError

PARTY_PERMISSIONS = ("ReadParty",)
PSU_PERMISSIONS = ("ReadPartyPSU",)
_LINE = 70  # OBPostalAddress7.AddressLine items
_PERSON = "UK.OBIE.Individual"
# OBIE PhoneNumber: +{country code}-{number}.
_PHONE = re.compile(r"\+[0-9]{1,3}-[0-9()+\-]{1,30}")


def _address_lines(address: Address) -> list[str]:
    """The address's lines, split on commas to fit OBIE's 70 characters (at most 7 lines)."""
    lines: list[str] = []
    for line in address.lines:
        for part in (p.strip() for p in line.split(",")):
            if part:
                lines.append(part[:_LINE])
    return lines[:7]


def address_body(address: Address, legal_structure: str | None) -> dict[str, Any]:
    """``OBPostalAddress7``: a home address for a person, a business address otherwise."""
    body: dict[str, Any] = {"AddressType": "HOME" if legal_structure == _PERSON else "BIZZ"}
    lines = _address_lines(address)
    if lines:
        body["AddressLine"] = lines
    if address.town:
        body["TownName"] = address.town[:140]
    if address.post_code:
        body["PostCode"] = address.post_code[:16]
    if len(address.country) == 2 and address.country.isalpha() and address.country.isupper():
        body["Country"] = address.country
    return body


def party_body(party: Party, account: Account | None = None) -> dict[str, Any]:
    """``OBParty2``; with ``account``, related to that account."""
    body: dict[str, Any] = {
        "PartyId": party.id,
        "PartyNumber": party.party_number[:35],
        "PartyType": party.party_type,
        "Name": party.name[:350],
    }
    if party.legal_structure:
        body["LegalStructure"] = party.legal_structure
    if party.email:
        body["EmailAddress"] = party.email[:256]
    if party.phone and _PHONE.fullmatch(party.phone):
        body["Phone"] = party.phone
    if account is not None:
        # An absolute URI on the public base URL, as Links are (not the listening address).
        related = public_url(f"{bp.url_prefix}/accounts/{account.id}")
        body["Relationships"] = {"Account": {"Related": related, "Id": account.id}}
    if party.address is not None:
        body["Address"] = [address_body(party.address, party.legal_structure)]
    return body


def _owner(grant: Grant, account: Account) -> Party:
    return grant.bank.customer_party(grant.tenant, account.customer_id)


@bp.get("/party")
def psu_party() -> ResponseReturnValue:
    """GetParty: the customer who authorised the consent."""
    grant = access.grant(PSU_PERMISSIONS)
    check_fapi_headers()
    if not grant.consent.customer_id:
        # Not reached for an authorised consent (authorising records the customer); were it,
        # the answer is the AIS views' U011, a 400 (OB internal code set), not a 404.
        raise ApiError.one("U011", "The consent names no customer", status=400)
    party = grant.bank.customer_party(grant.tenant, grant.consent.customer_id)
    return jsonify(envelope({"Party": party_body(party)}))


@bp.get("/accounts/<account_id>/party")
def account_party(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdParty: the account's owner (for a business account, the business)."""
    grant = access.grant(PARTY_PERMISSIONS)
    check_fapi_headers()
    account = grant.account(account_id)
    return jsonify(envelope({"Party": party_body(_owner(grant, account), account)}))


def _parties(grant: Grant, account: Account) -> list[dict[str, Any]]:
    return [party_body(p, account) for p in grant.bank.parties(grant.tenant, account.id)]


@bp.get("/accounts/<account_id>/parties")
def account_parties(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdParties: the account's owners and operators."""
    return listing.one_account(PARTY_PERMISSIONS, "Party", account_id, _parties)
