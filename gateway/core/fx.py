"""The foreign-exchange contract (a place kept for it): rates, quotes and their locks.

The cross-border work fills this in: mid rates per currency pair on the bank's clock, quotes with
a spread, fees and a lock (none, 5 minutes, 1 hour or 24 hours) identified by a contract id that
an international payment cites, and the rate applied when it executes. Amounts will be
:class:`gateway.core.money.Money` in each currency's own precision; the sandbox's rate feed
implements it beside the ledger that settles the payments (nostro, vostro and FX position
accounts per currency).
"""

from __future__ import annotations
