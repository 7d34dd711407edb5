"""``/accounts/{AccountId}/beneficiaries`` and ``/beneficiaries``: the customer's saved payees.

``ReadBeneficiariesBasic`` shows who they are by id, type and reference; ``Detail`` adds the
creditor's account (``OBBeneficiary5Detail`` requires it).
"""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from gateway.api.aisp import bp, listing
from gateway.api.aisp.schemas import cash_account
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account, Beneficiary

BENEFICIARY_PERMISSIONS = ("ReadBeneficiariesBasic", "ReadBeneficiariesDetail")


def beneficiary_body(beneficiary: Beneficiary, permissions: list[str]) -> dict[str, Any]:
    """``OBBeneficiary5Detail`` (with ``ReadBeneficiariesDetail``) or ``OBBeneficiary5Basic``."""
    body: dict[str, Any] = {
        "AccountId": beneficiary.account_id,
        "BeneficiaryId": beneficiary.id,
        "BeneficiaryType": "Trusted" if beneficiary.trusted else "Ordinary",
    }
    if beneficiary.reference:
        body["Reference"] = beneficiary.reference[:35]
    if "ReadBeneficiariesDetail" in permissions:
        creditor = cash_account(beneficiary.creditor, permissions)
        if creditor is not None:
            body["CreditorAccount"] = creditor
    return body


def _read(grant: Grant, account: Account) -> list[dict[str, Any]]:
    payees = grant.bank.beneficiaries(grant.tenant, account.id)
    return [beneficiary_body(b, grant.permissions) for b in payees]


@bp.get("/accounts/<account_id>/beneficiaries")
def account_beneficiaries(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdBeneficiaries."""
    return listing.one_account(BENEFICIARY_PERMISSIONS, "Beneficiary", account_id, _read)


@bp.get("/beneficiaries")
def all_beneficiaries() -> ResponseReturnValue:
    """GetBeneficiaries: the payees of every consented account."""
    return listing.every_account(BENEFICIARY_PERMISSIONS, "Beneficiary", _read)
