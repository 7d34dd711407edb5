"""The bank-core contracts: what the gateway asks of a bank, one module per domain.

``accounts`` (what account information reads), ``payments`` (instructions, their lifecycle,
execution, funds checks), ``lending`` (loan products and quotes, priced by ``loan_quotes`` with
``loan_schedule`` and ``apr``; credit decisions, their types in ``credit``; ``memory_lending``
its double), ``fx`` (a place for the
cross-border contract), ``administration`` (sandbox tenants, seed, reset, clock and test logins:
what ops and partners' sandboxes use, never the resource APIs), with the value types they share
(``money``, ``values``), their errors (``errors``), how a core reports what it changed
(``changes``) and an in-memory double of the account and payment contracts for service tests
(``memory``).

Nothing here imports Flask or SQLAlchemy: the sandbox implements these contracts, and a real bank
would implement them over its own systems.
"""
