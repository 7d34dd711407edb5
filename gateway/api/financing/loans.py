"""``/loans``: the loans a partner's accepted applications drew down, read with the partner's
client-credentials token (scope ``financing``): the loan, its schedule, its payments and its
balances, and ``POST /loans/{LoanId}/early-repayment``, which settles it from its repayment
account with interest to date (idempotent, as the acceptance)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from gateway.api.common import envelope
from gateway.api.financing import bp
from gateway.api.financing.loan_schemas import (
    balances_body,
    instalment_body,
    loan_body,
    payment_body,
)
from gateway.api.financing.views import caller, core
from gateway.api.idempotency import idempotent
from gateway.consents.models import FinancedLoan
from gateway.core import loans
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session


def _own(loan_id: str) -> tuple[FinancedLoan, str]:
    """The caller's loan ``loan_id`` and its tenant; 400 U011 for any other id."""
    client_id, tenant = caller()
    found = get_session().get(FinancedLoan, loan_id)
    if found is None or found.client_id != client_id:
        # OBIE Read/Write Data API Profile v4.0: an unknown resource id is 400 U011.
        raise ApiError.one("U011", "No loan with this id", status=400)
    return found, tenant


@bp.get("/loans")
def list_loans() -> ResponseReturnValue:
    """GetLoans: every loan the caller's applications drew down, oldest first."""
    client_id, _tenant = caller()
    rows = get_session().scalars(
        select(FinancedLoan)
        .where(FinancedLoan.client_id == client_id)
        .order_by(FinancedLoan.created_at, FinancedLoan.loan_id)
    )
    bank = core()
    found = [
        loan_body(bank.loan(row.tenant_id, row.loan_id), row.consent_id, row.offer_id)
        for row in rows
    ]
    return jsonify(envelope({"Loan": found}))


@bp.get("/loans/<loan_id>")
def get_loan(loan_id: str) -> ResponseReturnValue:
    """GetLoan: the loan as it stands on the tenant's clock."""
    row, tenant = _own(loan_id)
    loan = core().loan(tenant, loan_id)
    return jsonify(envelope({"Loan": [loan_body(loan, row.consent_id, row.offer_id)]}))


@bp.get("/loans/<loan_id>/schedule")
def get_schedule(loan_id: str) -> ResponseReturnValue:
    """GetLoanSchedule: every instalment and what was paid of it."""
    _row, tenant = _own(loan_id)
    bank = core()
    currency = bank.loan(tenant, loan_id).currency
    schedule = [instalment_body(i, currency) for i in bank.loan_schedule(tenant, loan_id)]
    return jsonify(envelope({"LoanId": loan_id, "Instalment": schedule}))


@bp.get("/loans/<loan_id>/payments")
def get_payments(loan_id: str) -> ResponseReturnValue:
    """GetLoanPayments: the drawdown and every collection tried, oldest first."""
    _row, tenant = _own(loan_id)
    bank = core()
    currency = bank.loan(tenant, loan_id).currency
    shown = (payment_body(e, currency) for e in bank.loan_events(tenant, loan_id))
    return jsonify(envelope({"LoanId": loan_id, "Payment": [p for p in shown if p]}))


@bp.get("/loans/<loan_id>/balances")
def get_balances(loan_id: str) -> ResponseReturnValue:
    """GetLoanBalances: what is owed now."""
    _row, tenant = _own(loan_id)
    bank = core()
    return jsonify(envelope(balances_body(bank.loan(tenant, loan_id), bank.now(tenant))))


@bp.post("/loans/<loan_id>/early-repayment")
@idempotent("loans/early-repayment")
def repay_early(loan_id: str) -> ResponseReturnValue:
    """RepayLoanEarly: settle the loan now with interest to date (200, the settled loan)."""
    row, tenant = _own(loan_id)
    try:
        loan = core().repay_early(tenant, loan_id)
    except loans.LoanRefused as refused:
        # U029 (409): the loan is "in a state that doesn't allow requested operation".
        raise ApiError.one("U029", str(refused), status=409) from None
    return jsonify(envelope({"Loan": [loan_body(loan, row.consent_id, row.offer_id)]}))
