"""Reading the portal's HTML forms into the arguments of the partner services, and showing the
services' errors next to the fields they are about."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from partners.errors import PartnerError

# ISO 3166-1 alpha-2 codes offered at sign-up, by English short name.
COUNTRIES: dict[str, str] = dict(
    sorted(
        {
            "AE": "United Arab Emirates",
            "AT": "Austria",
            "AU": "Australia",
            "BE": "Belgium",
            "BR": "Brazil",
            "CA": "Canada",
            "CH": "Switzerland",
            "CN": "China",
            "CY": "Cyprus",
            "CZ": "Czechia",
            "DE": "Germany",
            "DK": "Denmark",
            "EE": "Estonia",
            "ES": "Spain",
            "FI": "Finland",
            "FR": "France",
            "GB": "United Kingdom",
            "GG": "Guernsey",
            "GI": "Gibraltar",
            "GR": "Greece",
            "HK": "Hong Kong",
            "HU": "Hungary",
            "IE": "Ireland",
            "IM": "Isle of Man",
            "IN": "India",
            "IT": "Italy",
            "JE": "Jersey",
            "JP": "Japan",
            "KR": "South Korea",
            "LT": "Lithuania",
            "LU": "Luxembourg",
            "LV": "Latvia",
            "MT": "Malta",
            "MY": "Malaysia",
            "NL": "Netherlands",
            "NO": "Norway",
            "NZ": "New Zealand",
            "PL": "Poland",
            "PT": "Portugal",
            "RO": "Romania",
            "SE": "Sweden",
            "SG": "Singapore",
            "US": "United States",
            "ZA": "South Africa",
        }.items(),
        key=lambda item: item[1],
    )
)


def field_errors(exc: PartnerError, fields: Collection[str]) -> dict[str, str]:
    """Map a service error to the form field it names, or to ``form`` when the form has no such
    field (the page shows those above the form)."""
    field = exc.field if exc.field is not None and exc.field in fields else "form"
    return {field: exc.message}


def lines(text: str) -> list[str]:
    """Return the non-blank lines of a textarea, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def optional(text: str) -> str | None:
    """Return ``text`` stripped, or ``None`` if it is blank."""
    return text.strip() or None


def jwks(text: str) -> dict[str, Any] | None:
    """Parse a pasted JWKS (``None`` if blank); raise ``invalid_jwks`` if it is not JSON."""
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise PartnerError("invalid_jwks", "The JWKS is not valid JSON", field="jwks") from None
    if isinstance(data, dict) and "keys" not in data and "kty" in data:
        # A single key pasted on its own: wrap it, the checks still apply to it.
        data = {"keys": [data]}
    if not isinstance(data, dict):
        raise PartnerError("invalid_jwks", 'A JWKS is a JSON object with a "keys" array', "jwks")
    return data
