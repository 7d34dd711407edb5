"""The statement file: a statement as a printable PDF, the way the bank would post it.

It shows the period, the starting and closing balances and the period's totals, then the entries
booked in the period when the consent shares transactions (``None`` when it does not): with
``ReadTransactionsDetail`` their narrative and running balance, otherwise their reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gateway.api.aisp.pdf import text_pdf
from gateway.core.accounts import Account, Statement, Transaction
from gateway.core.money import Money

MEDIA_TYPE = "application/pdf"
BANK = "Sandbox Bank"
_TEXT = 40  # characters of an entry's description (a line fits the page)


def _money(value: Money) -> str:
    """An amount with thousands separators and its sign as CR / DR."""
    sign = "DR" if value.amount < 0 else "CR"
    return f"{abs(value.amount):,f} {sign}"


def _figure(value: Money | None) -> str:
    return "" if value is None else f"{abs(value.amount):,f}"


def _date(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).date().isoformat()


def _entry(t: Transaction, detail: bool) -> str:
    text = t.information if detail else (t.reference or t.proprietary_code or "")
    paid_in = _figure(t.amount) if t.credit_debit == "Credit" else ""
    paid_out = _figure(t.amount) if t.credit_debit == "Debit" else ""
    balance = _money(t.balance_after) if detail and t.balance_after is not None else ""
    return (
        f"{_date(t.booking_datetime)}  {text[:_TEXT]:<{_TEXT}} "
        f"{paid_in:>12} {paid_out:>12} {balance:>16}"
    )


def statement_lines(
    account: Account,
    statement: Statement,
    entries: Sequence[Transaction] | None,
    *,
    detail: bool,
) -> list[str]:
    """The statement as lines of text; ``entries`` oldest first."""
    lines = [
        f"{BANK} - Account statement",
        "",
        f"Account    {account.nickname} ({account.id})",
        f"Currency   {account.currency}",
        f"Statement  {statement.id}",
        f"Period     {_date(statement.start)} to {_date(statement.end)}",
        f"Issued     {_date(statement.creation)}",
        "",
        f"Starting balance  {_money(statement.opening_balance):>24}",
        f"Total paid in     {_figure(statement.total_credits):>21}",
        f"Total paid out    {_figure(statement.total_debits):>21}",
        f"Closing balance   {_money(statement.closing_balance):>24}",
        "",
    ]
    if entries is None:
        lines.append("Transactions are not included: the consent does not share them.")
        return lines
    balance = "Balance" if detail else ""
    lines.append(f"{'Date':<10}  {'Description':<{_TEXT}} {'Paid in':>12} {'Paid out':>12} "
                 f"{balance:>16}")  # fmt: skip
    lines.extend(_entry(t, detail) for t in entries)
    if not entries:
        lines.append("No transactions in this period.")
    return lines


def statement_pdf(
    account: Account,
    statement: Statement,
    entries: Sequence[Transaction] | None,
    *,
    detail: bool,
) -> bytes:
    """The statement file."""
    lines = statement_lines(account, statement, entries, detail=detail)
    return text_pdf(lines, title=f"Statement {statement.id}")
