"""``/accounts/{AccountId}/direct-debits`` and ``/direct-debits``: direct debit mandates."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from gateway.api.aisp import bp, listing
from gateway.api.aisp.schemas import day
from gateway.api.common import amount
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account, DirectDebit

DIRECT_DEBIT_PERMISSIONS = ("ReadDirectDebits",)
# ExternalMandateStatus1Code of our mandate statuses: an inactive mandate was cancelled.
MANDATE_STATUS = {"Active": "ACTV", "Inactive": "CANC"}


def direct_debit_body(mandate: DirectDebit) -> dict[str, Any]:
    """``OBReadDirectDebit2.Data.DirectDebit`` entry.

    The payer's bank does not know how often the originator collects, so the mandate's
    frequency (required once ``MandateRelatedInformation`` carries the reference) is
    ``NotKnown``.
    """
    body: dict[str, Any] = {
        "AccountId": mandate.account_id,
        "DirectDebitId": mandate.id,
        "DirectDebitStatusCode": MANDATE_STATUS.get(mandate.status, "CANC"),
    }
    if mandate.mandate_reference:
        body["MandateRelatedInformation"] = {
            "MandateIdentification": mandate.mandate_reference[:35],
            "Frequency": {"Type": "NotKnown"},
        }
    body["Name"] = mandate.name[:70]
    if mandate.previous_payment_date is not None:
        body["PreviousPaymentDateTime"] = day(mandate.previous_payment_date)
    if mandate.previous_payment_amount is not None:
        body["PreviousPaymentAmount"] = amount(mandate.previous_payment_amount)
    return body


def _read(grant: Grant, account: Account) -> list[dict[str, Any]]:
    return [direct_debit_body(d) for d in grant.bank.direct_debits(grant.tenant, account.id)]


@bp.get("/accounts/<account_id>/direct-debits")
def account_direct_debits(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdDirectDebits."""
    return listing.one_account(DIRECT_DEBIT_PERMISSIONS, "DirectDebit", account_id, _read)


@bp.get("/direct-debits")
def all_direct_debits() -> ResponseReturnValue:
    """GetDirectDebits: the mandates of every consented account."""
    return listing.every_account(DIRECT_DEBIT_PERMISSIONS, "DirectDebit", _read)
