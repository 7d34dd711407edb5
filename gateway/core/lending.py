"""The lending contract (a place kept for it): products, quotes, decisions, loans.

The financing work fills this in: loan products with pricing bands and fees, quotes with their
instalment schedules and APR, credit decisions from the applicant's own transactions, offers,
drawdown into the customer's account through the ledger, and servicing on the bank's clock
(instalments, arrears). Loans then appear to account information as accounts of their own
(``AccountSubType`` ``Loan``) through :mod:`gateway.core.accounts`.
"""

from __future__ import annotations
