"""The sandbox's rate feed: each currency's value in US dollars, deterministic from the tenant's
seed and moving with its clock (see :mod:`sandbox.fx`)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

# Each currency's value in US dollars before the feed moves it.
BASE_USD_VALUES = {
    "GBP": Decimal("1.27"), "EUR": Decimal("1.08"), "USD": Decimal("1"), "CNY": Decimal("0.138"),
    "JPY": Decimal("0.0066"), "HKD": Decimal("0.128"), "SGD": Decimal("0.745"),
    "CHF": Decimal("1.13"), "KWD": Decimal("3.25"), "BHD": Decimal("2.65"),
}  # fmt: skip
# The largest move of a currency's value, in millionths (0.2 %).
SWING_PPM = 2_000


def usd_values(seed: int, at: dt.datetime) -> dict[str, Decimal]:
    """Each currency's value in US dollars at ``at`` (aware) for a tenant of ``seed``."""
    minute = int(at.timestamp()) // 60
    values = {}
    for currency, base in BASE_USD_VALUES.items():
        if currency == "USD":
            values[currency] = base
            continue
        digest = hashlib.blake2b(f"{seed}:{currency}:{minute}".encode(), digest_size=8).digest()
        move = int.from_bytes(digest, "big") % (2 * SWING_PPM + 1) - SWING_PPM
        values[currency] = base * (1_000_000 + move) / 1_000_000
    return values
