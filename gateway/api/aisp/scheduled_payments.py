"""``/accounts/{AccountId}/scheduled-payments`` and ``/scheduled-payments``: one-off payments
booked for a future date that have not been made (executed, rejected or cancelled ones are no
longer scheduled and are not listed)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from gateway.api.aisp import bp, listing
from gateway.api.aisp.schemas import cash_account, day
from gateway.api.common import amount
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account, ScheduledPayment

SCHEDULED_PAYMENT_PERMISSIONS = ("ReadScheduledPaymentsBasic", "ReadScheduledPaymentsDetail")


def scheduled_payment_body(payment: ScheduledPayment, permissions: list[str]) -> dict[str, Any]:
    """``OBScheduledPayment3Detail`` (with ``ReadScheduledPaymentsDetail``) or
    ``OBScheduledPayment3Basic``; the date is the day the bank executes the payment."""
    body: dict[str, Any] = {
        "AccountId": payment.account_id,
        "ScheduledPaymentId": payment.id,
        "ScheduledPaymentDateTime": day(payment.execution_date),
        "ScheduledType": "Execution",
    }
    if payment.reference:
        body["Reference"] = payment.reference[:35]
    body["InstructedAmount"] = amount(payment.amount)
    if "ReadScheduledPaymentsDetail" in permissions:
        creditor = cash_account(payment.creditor, permissions)
        if creditor is not None:
            body["CreditorAccount"] = creditor
    return body


def _read(grant: Grant, account: Account) -> list[dict[str, Any]]:
    payments = grant.bank.scheduled_payments(grant.tenant, account.id)
    return [
        scheduled_payment_body(p, grant.permissions) for p in payments if p.status == "Scheduled"
    ]


@bp.get("/accounts/<account_id>/scheduled-payments")
def account_scheduled_payments(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdScheduledPayments."""
    return listing.one_account(SCHEDULED_PAYMENT_PERMISSIONS, "ScheduledPayment", account_id, _read)


@bp.get("/scheduled-payments")
def all_scheduled_payments() -> ResponseReturnValue:
    """GetScheduledPayments: the scheduled payments of every consented account."""
    return listing.every_account(SCHEDULED_PAYMENT_PERMISSIONS, "ScheduledPayment", _read)
