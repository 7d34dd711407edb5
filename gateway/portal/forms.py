"""Reading the portal's HTML forms into the arguments of the partner services, and showing the
services' errors next to the fields they are about."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from partners import passwords
from partners.apps import text_field
from partners.errors import PartnerError
from partners.models import ROLES
from partners.services import SIGN_UP_TEXT_LIMITS

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


def labelled(exc: PartnerError, labels: Mapping[str, str]) -> dict[str, str]:
    """Like :func:`field_errors`, with the message naming its field by the label the page shows
    (``legal_name must be ...`` becomes ``Legal name must be ...``)."""
    errors = field_errors(exc, labels)
    field, message = next(iter(errors.items()))
    if field == "form":
        return errors
    label = labels[field]
    if message.startswith(f"{field} "):
        message = label + message[len(field) :]
    elif label.casefold() not in message.casefold():
        message = f"{label}: {message[:1].lower()}{message[1:]}"
    return {field: message}


# The sign-up form's fields in the order the page shows them: each one's label, and what to ask
# for when it is left blank.
SIGN_UP_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("Your name", "Enter your name"),
    "email": ("E-mail address", "Enter your e-mail address"),
    "password": ("Password", "Enter a password"),
    "legal_name": ("Legal name", "Enter your organisation's legal name"),
    "country": ("Country of registration", "Choose the country of registration"),
    "registration_number": ("Company registration number", "Enter the company registration number"),
    "roles": ("Roles you will use", "Choose one or more roles you will use"),
}
SIGN_UP_LABELS = {field: label for field, (label, _missing) in SIGN_UP_FIELDS.items()}


def _check_sign_up_field(field: str, form: Mapping[str, Any]) -> None:
    """Raise the error :func:`partners.services.sign_up` raises for ``field``, if any; the country
    and the roles must also be ones the page offers."""
    value = form[field]
    if field in SIGN_UP_TEXT_LIMITS:
        text_field(value, field, SIGN_UP_TEXT_LIMITS[field])
    elif field == "email":
        passwords.normalise_email(value)
    elif field == "password":
        try:
            address: str | None = passwords.normalise_email(form.get("email", ""))
        except PartnerError:
            address = None
        passwords.check_password(value, email=address)
    elif field == "country" and value not in COUNTRIES:
        raise PartnerError("invalid_field", "Choose a country of registration from the list", field)
    elif field == "roles" and not set(value) <= set(ROLES):
        raise PartnerError("invalid_roles", "Choose the roles you will use from the list", field)


def sign_up_errors(form: Mapping[str, Any]) -> dict[str, str]:
    """Check every field of the sign-up form at once (the service stops at the first problem);
    return each faulty field's message, naming the field as the page does, in page order."""
    errors: dict[str, str] = {}
    for field, (_label, missing) in SIGN_UP_FIELDS.items():
        value = form.get(field) or ""
        # A password of spaces is the password policy's to judge, not blank.
        if not (value if field in ("password", "roles") else value.strip()):
            errors[field] = missing
            continue
        try:
            _check_sign_up_field(field, form)
        except PartnerError as exc:
            errors |= labelled(exc, SIGN_UP_LABELS)
    return errors


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
