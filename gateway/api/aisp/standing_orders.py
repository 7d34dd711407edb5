"""``/accounts/{AccountId}/standing-orders`` and ``/standing-orders``: recurring payments.

OBIE v4.0 carries the schedule in ``MandateRelatedInformation`` (first and final payment dates,
an ``OBFrequency6`` frequency) and the payment reference in ``RemittanceInformation``;
``ReadStandingOrdersDetail`` adds the creditor's account.
"""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from gateway.api.aisp import bp, listing
from gateway.api.aisp.schemas import cash_account, day
from gateway.api.common import amount
from gateway.consents.account_access import Grant
from gateway.core.accounts import Account, StandingOrder
from gateway.core.frequency import is_type

STANDING_ORDER_PERMISSIONS = ("ReadStandingOrdersBasic", "ReadStandingOrdersDetail")


def order_status(order: StandingOrder) -> str:
    """``ExternalMandateStatus1Code``: an order past its final payment has expired, another
    inactive one was cancelled."""
    if order.next_payment_date is None and order.final_payment_date is not None:
        return "EXPI"
    return "ACTV" if order.status == "Active" else "CANC"


def standing_order_body(order: StandingOrder, permissions: list[str]) -> dict[str, Any]:
    """``OBStandingOrder6Detail`` (with ``ReadStandingOrdersDetail``) or
    ``OBStandingOrder6Basic``. Every payment of an order is of the same amount."""
    money = amount(order.amount)
    status = order_status(order)
    body: dict[str, Any] = {"AccountId": order.account_id, "StandingOrderId": order.id}
    if order.next_payment_date is not None and status == "ACTV":
        body["NextPaymentDateTime"] = day(order.next_payment_date)
    if order.last_payment_date is not None:
        body["LastPaymentDateTime"] = day(order.last_payment_date)
    body["StandingOrderStatusCode"] = status
    body["FirstPaymentAmount"] = money
    if "NextPaymentDateTime" in body:
        body["NextPaymentAmount"] = money
    if order.last_payment_date is not None:
        body["LastPaymentAmount"] = money
    if order.final_payment_date is not None:
        body["FinalPaymentAmount"] = money
    if "ReadStandingOrdersDetail" in permissions:
        creditor = cash_account(order.creditor, permissions)
        if creditor is not None:
            body["CreditorAccount"] = creditor
    # OBFrequency6.Type: a code or a Frequency_1 pattern; anything else is "NotKnown".
    frequency = order.frequency if is_type(order.frequency) else "NotKnown"
    mandate: dict[str, Any] = {
        "FirstPaymentDateTime": day(order.first_payment_date),
        "Frequency": {"Type": frequency},
    }
    if order.final_payment_date is not None:
        mandate["FinalPaymentDateTime"] = day(order.final_payment_date)
    body["MandateRelatedInformation"] = mandate
    if order.reference:
        creditor_reference = {"CreditorReferenceInformation": {"Reference": order.reference[:35]}}
        body["RemittanceInformation"] = {"Structured": [creditor_reference]}
    return body


def _read(grant: Grant, account: Account) -> list[dict[str, Any]]:
    orders = grant.bank.standing_orders(grant.tenant, account.id)
    return [standing_order_body(o, grant.permissions) for o in orders]


@bp.get("/accounts/<account_id>/standing-orders")
def account_standing_orders(account_id: str) -> ResponseReturnValue:
    """GetAccountsAccountIdStandingOrders."""
    return listing.one_account(STANDING_ORDER_PERMISSIONS, "StandingOrder", account_id, _read)


@bp.get("/standing-orders")
def all_standing_orders() -> ResponseReturnValue:
    """GetStandingOrders: the standing orders of every consented account."""
    return listing.every_account(STANDING_ORDER_PERMISSIONS, "StandingOrder", _read)
