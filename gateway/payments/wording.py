"""A payment consent in the customer's words, for the consent page: who is paid, how much, with
what reference, when; and which of the customer's accounts can pay it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from gateway.core.accounts import Account
from gateway.core.money import EXPONENTS

LONDON = ZoneInfo("Europe/London")
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def amount(instructed: Mapping[str, str]) -> str:
    """``£1,234.50``; a currency without a symbol here is written after: ``1,000 JPY``."""
    value, currency = Decimal(instructed["Amount"]), instructed["Currency"]
    shown = f"{value:,f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{shown}" if symbol else f"{shown} {currency}"


def _account(account: Mapping[str, str]) -> str:
    ident = account["Identification"]
    if account["SchemeName"] == "UK.OBIE.BBAN":
        return f"account {ident}"
    if account["SchemeName"] == "UK.OBIE.SortCodeAccountNumber" and len(ident) == 14:
        return f"sort code {ident[:2]}-{ident[2:4]}-{ident[4:6]}, account {ident[6:]}"
    return f"IBAN {' '.join(ident[i : i + 4] for i in range(0, len(ident), 4))}"


def lines(data: Mapping[str, Any], created: dt.datetime | None = None) -> list[str]:
    """What the customer approves, one plain line each: payee, amount, reference, when (for a
    VRP consent, created at ``created``: :func:`vrp_lines`; for a file: :func:`file_lines`)."""
    if "ControlParameters" in data:
        return vrp_lines(data, created.isoformat() if created else None)
    if "File" in data:
        return file_lines(data)
    initiation = data["Initiation"]
    creditor = initiation["CreditorAccount"]
    remittance = initiation.get("RemittanceInformation") or {}
    reference = remittance.get("Reference") or initiation.get("EndToEndIdentification") or "none"
    shown = [
        f"Pay {amount(_instructed(initiation))} to {creditor['Name']}",
        f"Into {_account(creditor)}",
        f"Reference: {reference}",
        _when(initiation),
    ]
    if "fx" in data:
        shown[1:1] = _converted(data["fx"])
    return shown


def _converted(fx: Mapping[str, Any]) -> list[str]:
    """An international payment's conversion: what is received, what leaves, at what rate."""
    received, total = fx["AmountReceived"], fx["TotalDebited"]
    agreed = fx["RateType"] == "Agreed"
    rate = f"1 {total['Currency']} = {fx['ExchangeRate']} {received['Currency']}"
    return [
        f"They receive {amount(received)}" + ("" if agreed else " (about: the rate may move)"),
        f"{amount(total)} leaves your account, including {amount(fx['Fee'])} in fees",
        f"Exchange rate: {rate}"
        + (", agreed" if agreed else ", as now; the rate when paid applies"),
    ]


def file_lines(data: Mapping[str, Any]) -> list[str]:
    """A file payment in words: how many payments, their total, to whom, from which account
    (when the partner named one), and when."""
    initiation, summary = data["Initiation"], data["File"]
    count = int(initiation["NumberOfTransactions"])
    places = Decimal(1).scaleb(-EXPONENTS.get(summary["Currency"], 2))
    total = {
        "Amount": str(Decimal(str(initiation["ControlSum"])).quantize(places)),
        "Currency": summary["Currency"],
    }
    payees = ", ".join(summary["Payees"])
    more = summary.get("MorePayees") or 0
    found = [
        f"{count} payment{'s' if count != 1 else ''} from a file, {amount(total)} in total",
        f"To {payees}{f' and {more} more' if more else ''}",
    ]
    if "DebtorAccount" in initiation:
        found.append(f"From {_account(initiation['DebtorAccount'])}")
    reference = initiation.get("FileReference")
    if reference:
        found.append(f"File reference: {reference}")
    found.append("Once, as soon as you approve")
    return found


def currency(data: Mapping[str, Any]) -> str:
    """The currency a payment consent pays in (a VRP consent's: that of its limits; a file's:
    that of its transactions)."""
    if "ControlParameters" in data:
        return str(data["ControlParameters"]["MaximumIndividualAmount"]["Currency"])
    if "File" in data:
        found: str = data["File"]["Currency"]
        return found
    if "fx" in data:  # an international payment's: the currency it is converted from
        return str(data["fx"]["SellCurrency"])
    return _instructed(data["Initiation"])["Currency"]


def _instructed(initiation: Mapping[str, Any]) -> Mapping[str, str]:
    found: Mapping[str, str] = (
        initiation.get("InstructedAmount") or initiation["FirstPaymentAmount"]
    )
    return found


# How often, in words, for the frequencies customers meet most; the rest by their code.
OFTEN = {"EvryDay": "every day", "DAIL": "every day", "EvryWorkgDay": "every working day",
         "WODL": "every working day", "WEEK": "every week", "FRTN": "every two weeks",
         "MNTH": "every month", "QURT": "every quarter", "MIAN": "every six months",
         "YEAR": "every year"}  # fmt: skip


def _when(initiation: Mapping[str, Any]) -> str:
    mandate = initiation.get("MandateRelatedInformation")
    if mandate is not None:
        kind = mandate["Frequency"]["Type"]
        first = dt.datetime.fromisoformat(mandate["FirstPaymentDateTime"]).astimezone(LONDON)
        count = initiation.get("NumberOfPayments")
        times = f", {count} payments" if count else ", until you cancel it"
        return f"{OFTEN.get(kind, f'on the schedule {kind}').capitalize()}, from " \
            f"{first.day} {first:%B %Y}{times}"  # fmt: skip
    requested = initiation.get("RequestedExecutionDateTime")
    if requested is None:
        return "Once, as soon as you approve"
    day = dt.datetime.fromisoformat(requested).astimezone(LONDON)
    return f"Once, on {day.day} {day:%B %Y}"


def payable_from(accounts: Sequence[Account], data: Mapping[str, Any]) -> list[Account]:
    """The accounts that can make this payment: enabled, in its currency, and the one the
    partner named as the debtor account when it named one."""
    initiation = data["Initiation"]
    paid_in = currency(data)
    named = initiation.get("DebtorAccount")
    found = [a for a in accounts if a.status == "Enabled" and a.currency == paid_in]
    if named is not None:
        wanted = (named["SchemeName"], named["Identification"].replace(" ", "").upper())
        found = [
            a for a in found
            if any((i.scheme, i.identification.replace(" ", "").upper()) == wanted
                   for i in a.identifiers)
        ]  # fmt: skip
    return found


# A VRP consent (OBIE VRP v4.0): the payee, the limits, the validity ----------------------------

PERIODS = {"Day": "day", "Week": "week", "Fortnight": "fortnight", "Month": "month",
           "Half-year": "half-year", "Year": "year"}  # fmt: skip


def _day(value: str) -> str:
    moment = dt.datetime.fromisoformat(value).astimezone(LONDON)
    return f"{moment.day} {moment:%B %Y}"


def limit_line(limit: Mapping[str, str], start: str | None) -> str:
    """A periodic limit in words: "At most £100.00 per calendar month", or for one aligned on
    the consent "At most £100.00 per month, counted from 1 March 2027" (from ``start``, the
    consent's ValidFromDateTime or creation)."""
    period = PERIODS.get(limit["PeriodType"], limit["PeriodType"].lower())
    most = f"At most {amount(limit)}"
    if limit["PeriodAlignment"] == "Calendar":
        week = " (Monday to Sunday)" if period == "week" else ""
        return f"{most} per calendar {period}{week}"
    return f"{most} per {period}, counted from {_day(start)}" if start else f"{most} per {period}"


def vrp_lines(data: Mapping[str, Any], created: str | None = None) -> list[str]:
    """What the customer approves when they give a VRP consent, one plain line each: who may be
    paid, each payment's maximum, the limit of each period, the reference, how long."""
    initiation, control = data["Initiation"], data["ControlParameters"]
    creditor = initiation.get("CreditorAccount")
    found = (
        [f"Payments to {creditor['Name']}, whenever the app asks", f"Into {_account(creditor)}"]
        if creditor
        else ["Payments to the payees the app chooses, whenever it asks"]
    )
    found.append(f"Each payment at most {amount(control['MaximumIndividualAmount'])}")
    start = control.get("ValidFromDateTime") or created
    found += [limit_line(limit, start) for limit in control["PeriodicLimits"]]
    reference = (initiation.get("RemittanceInformation") or {}).get("Reference")
    if reference:
        found.append(f"Reference: {reference}")
    since = control.get("ValidFromDateTime")
    until = control.get("ValidToDateTime")
    when = f"From {_day(since)}" if since else "From today"
    found.append(f"{when} until {_day(until)}" if until else f"{when} until you cancel it")
    return found
