"""Response shapes of the account-information API that the sandbox's data does not reach (card
numbers of creditors, expired standing orders, unknown product types) and the PDF writer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from gateway.api.aisp.parties import address_body
from gateway.api.aisp.pdf import COLUMNS, LINES_PER_PAGE, text_pdf
from gateway.api.aisp.products import product_body
from gateway.api.aisp.schemas import cash_account
from gateway.api.aisp.standing_orders import order_status, standing_order_body
from gateway.api.common import iso
from gateway.core.accounts import Account, Product, StandingOrder
from gateway.core.money import Money
from gateway.core.values import Address, Counterparty
from tests.common.obie import conforms_to

PAN = "4000001234567899"


BASE = StandingOrder(
    id="sto_1",
    account_id="acc_1",
    frequency="MNTH",
    reference="RENT",
    amount=Money(Decimal("900.00"), "GBP"),
    creditor=Counterparty("Landlord", "UK.OBIE.PAN", PAN),
    first_payment_date=dt.date(2025, 1, 1),
    next_payment_date=dt.date(2025, 6, 1),
    last_payment_date=dt.date(2025, 5, 1),
    final_payment_date=None,
    status="Active",
)


def _order(**changes: Any) -> StandingOrder:
    return dataclasses.replace(BASE, **changes)


def test_card_numbers_of_creditors_are_masked_without_read_pan() -> None:
    card = Counterparty("Card", "UK.OBIE.PAN", PAN)
    masked, shown = cash_account(card, []), cash_account(card, ["ReadPAN"])
    assert masked is not None and masked["Identification"] == "************7899"
    assert shown is not None and shown["Identification"] == PAN
    assert cash_account(Counterparty("No account"), ["ReadPAN"]) is None


def test_standing_order_status_codes() -> None:
    assert order_status(_order()) == "ACTV"
    assert order_status(_order(status="Inactive")) == "CANC"
    finished = _order(next_payment_date=None, final_payment_date=dt.date(2025, 5, 1))
    assert order_status(finished) == "EXPI"
    body = standing_order_body(finished, ["ReadStandingOrdersDetail"])
    conforms_to("OBStandingOrder6Detail", body)
    assert "NextPaymentDateTime" not in body and body["FinalPaymentAmount"]["Amount"] == "900.00"
    assert body["MandateRelatedInformation"]["FinalPaymentDateTime"].startswith("2025-05-01")
    assert body["CreditorAccount"]["Identification"].endswith("7899")


def test_a_frequency_outside_the_code_set_and_the_patterns_is_not_known() -> None:
    body = standing_order_body(_order(frequency="Every day"), [])
    conforms_to("OBStandingOrder6Basic", body)
    assert body["MandateRelatedInformation"]["Frequency"] == {"Type": "NotKnown"}


@pytest.mark.parametrize("frequency", ["EvryDay", "IntrvlMnthDay:01:-01", "QtrDay:ENGLISH"])
def test_a_frequency_pattern_is_reported_as_it_is(frequency: str) -> None:
    body = standing_order_body(_order(frequency=frequency), [])
    conforms_to("OBStandingOrder6Basic", body)
    assert body["MandateRelatedInformation"]["Frequency"] == {"Type": frequency}


def test_an_unlisted_product_type_is_other_with_a_description() -> None:
    account = Account("acc_1", "cus_1", "GBP", "Personal", "Savings", "Pot", dt.date(2024, 1, 1),
                      "Enabled", "SAV", "Easy Saver", ())  # fmt: skip
    body = product_body(Product("SAV", "Easy Saver", "Savings"), account)
    assert body["ProductType"] == "Other"
    assert body["OtherProductType"] == {"Name": "Easy Saver", "Description": "Savings account"}


def test_long_address_lines_are_split_to_fit() -> None:
    line = "Flat 12, " + "Very Long Building Name " * 4 + ", 1 High Street"
    body = address_body(Address((line,), "Leeds", "LS1 1AA", "gb"), "UK.OBIE.Individual")
    assert body["AddressType"] == "HOME" and "Country" not in body
    assert body["AddressLine"][0] == "Flat 12"
    assert all(0 < len(part) <= 70 for part in body["AddressLine"])


def test_pdf_cross_reference_points_at_every_object() -> None:
    lines = [f"line {n} (with parentheses) \\ £" for n in range(LINES_PER_PAGE + 5)]
    pdf = text_pdf([*lines, "x" * (COLUMNS + 20)], title="Statement stm_1")
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    xref = pdf[startxref:].split(b"trailer")[0].split(b"\n")
    assert xref[0] == b"xref"
    count = int(xref[1].split()[1])
    offsets = [int(entry[:10]) for entry in xref[3 : 2 + count]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj" % number)
    assert b"/Count 2" in pdf  # two pages
    assert b"(line 0 \\(with parentheses\\) \\\\ \xa3)" in pdf
    assert b"x" * (COLUMNS + 1) not in pdf
    for match in re.finditer(rb"/Length (\d+) >>\nstream\n", pdf):
        end = match.end() + int(match.group(1))
        assert pdf[end : end + 10] == b"\nendstream"


def test_times_are_written_in_utc_to_the_second() -> None:
    utc = dt.datetime(2026, 3, 29, 0, 30, 15, 999_999, tzinfo=dt.UTC)
    london = utc.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert iso(utc) == iso(london) == "2026-03-29T00:30:15+00:00"
    # A naive time is one the sandbox wrote in UTC (SQLite keeps no zone).
    assert iso(utc.replace(tzinfo=None)) == "2026-03-29T00:30:15+00:00"
