"""Deterministic synthetic data for sandbox tenants: customers, accounts, instructions and a
history of a year or three, the same for the same seed and anchor day.

It writes the bank's tables directly (in bulk, for speed) and knows nothing of HTTP; the bank
itself never imports it: whoever builds the sandbox bank hands it :func:`populate`
(:mod:`sandbox.synth.population`) as the way to make a new tenant's data set.
"""
