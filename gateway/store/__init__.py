"""Where the gateway keeps things, without Flask: database engines and their settings, the
declarative base of the gateway's and partners' tables, reads outside a transaction, and the
shared key-value store (Redis, or an in-process stand-in)."""
