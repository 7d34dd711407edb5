"""Reading an applicant's account histories through the account-information contract.

The decision reads what the customer agreed to show: every account they hold, its balances now,
and its transactions booked since the start of the decision's window (twelve whole months).
"""

from __future__ import annotations

import datetime as dt

from gateway.core.accounts import AccountsCore, Transaction
from sandbox.lending.measures import AccountHistory, window

PAGE = 1000


def read_histories(
    accounts: AccountsCore, tenant: str, customer_id: str, as_of: dt.date
) -> list[AccountHistory]:
    """Every account of ``customer_id`` with its balances and its transactions (newest first)
    booked from the start of the window :func:`~sandbox.lending.measures.window` gives for
    ``as_of``."""
    start, _end = window(as_of)
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    histories = []
    for account in accounts.accounts(tenant, customer_id):
        items: list[Transaction] = []
        page = accounts.transactions(tenant, account.id, booked_from=since, limit=PAGE)
        items.extend(page.items)
        while page.next_cursor is not None:
            page = accounts.transactions(
                tenant, account.id, booked_from=since, after=page.next_cursor, limit=PAGE
            )
            items.extend(page.items)
        histories.append(
            AccountHistory(account, accounts.balances(tenant, account.id), tuple(items))
        )
    return histories
