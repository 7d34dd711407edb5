"""Consent resources (OBIE "intents"): what a partner asks a customer to authorise."""
