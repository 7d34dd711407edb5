"""Reading a VRP consent request's ControlParameters: the OBIE example reads, and every rule the
schema's types do not catch is refused with its code and path."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from gateway.consents.vrp_limits import ControlParameters, PeriodicLimit, control_parameters
from gateway.core.money import Money
from gateway.edge.errors import ApiError

# The control parameters of the OBIE VRP usage example (a sweeping consent).
EXAMPLE: dict[str, Any] = {
    "PSUAuthenticationMethods": ["UK.OBIE.SCA"],
    "VRPType": ["UK.OBIE.VRPType.Sweeping"],
    "ValidFromDateTime": "2017-06-05T15:15:13+00:00",
    "ValidToDateTime": "2020-06-05T15:15:13+00:00",
    "MaximumIndividualAmount": {"Amount": "100.00", "Currency": "GBP"},
    "PeriodicLimits": [
        {"Amount": "200.00", "Currency": "GBP", "PeriodAlignment": "Consent", "PeriodType": "Week"}
    ],
}


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_the_obie_example_reads() -> None:
    assert control_parameters(EXAMPLE) == ControlParameters(
        Money(Decimal("100.00"), "GBP"),
        (PeriodicLimit("Week", "Consent", Money(Decimal("200.00"), "GBP")),),
        dt.datetime(2017, 6, 5, 15, 15, 13, tzinfo=dt.UTC),
        dt.datetime(2020, 6, 5, 15, 15, 13, tzinfo=dt.UTC),
    )


def test_amounts_are_kept_to_the_currencys_exponent() -> None:
    data = _with(["MaximumIndividualAmount"], {"Amount": "7", "Currency": "JPY"})
    data["PeriodicLimits"][0].update(Amount="10.5", Currency="GBP")
    del data["ValidToDateTime"]
    read = control_parameters(data)
    assert read.maximum_individual_amount == Money(Decimal("7"), "JPY")
    assert str(read.periodic_limits[0].amount.amount) == "10.50"
    assert read.valid_to is None


LIMIT, MAXIMUM = ["PeriodicLimits", 0], ["MaximumIndividualAmount"]
L0 = "PeriodicLimits[0]"


@pytest.mark.parametrize(
    ("path", "value", "code", "error_path"),
    [
        ([*LIMIT, "PeriodType"], "Quarter", "U002", f"{L0}.PeriodType"),
        ([*LIMIT, "PeriodAlignment"], "Rolling", "U002", f"{L0}.PeriodAlignment"),
        ([*LIMIT, "Amount"], "1,000.00", "U002", f"{L0}.Amount"),
        ([*LIMIT, "Amount"], "10.005", "U002", f"{L0}.Amount"),
        ([*LIMIT, "Amount"], "-1.00", "U002", f"{L0}.Amount"),
        ([*LIMIT, "Amount"], 10, "U002", f"{L0}.Amount"),
        ([*LIMIT, "Amount"], "1e3", "U002", f"{L0}.Amount"),
        ([*LIMIT, "Amount"], "\u0661\u0660", "U002", f"{L0}.Amount"),  # Arabic-Indic digits
        ([*LIMIT, "Currency"], "gbp", "U002", f"{L0}.Currency"),
        ([*LIMIT, "Currency"], "XYZ", "U023", f"{L0}.Currency"),
        (LIMIT, "Week", "U002", L0),
        (["PeriodicLimits"], [], "U002", "PeriodicLimits"),
        (["PeriodicLimits"], KeyError, "U002", "PeriodicLimits"),
        (MAXIMUM, KeyError, "U002", "MaximumIndividualAmount"),
        ([*MAXIMUM, "Amount"], "12345678901234", "U002", "MaximumIndividualAmount.Amount"),
        (["ValidFromDateTime"], "2017-06-05", "U002", "ValidFromDateTime"),
        (["ValidFromDateTime"], "2017-06-05T15:15:13", "U002", "ValidFromDateTime"),
        (["ValidToDateTime"], "tomorrow", "U002", "ValidToDateTime"),
        (["ValidToDateTime"], 20200605, "U002", "ValidToDateTime"),
        (["ValidToDateTime"], "2017-06-05T15:15:13+00:00", "U003", "ValidToDateTime"),
        (["ValidToDateTime"], "2017-06-05T16:15:12+01:00", "U003", "ValidToDateTime"),
    ],
)
def test_what_the_types_do_not_catch_is_refused(
    path: list[Any], value: Any, code: str, error_path: str
) -> None:
    with pytest.raises(ApiError) as refused:
        control_parameters(_with(path, value))
    (detail,) = refused.value.details
    assert (detail.code, detail.path) == (code, f"Data.ControlParameters.{error_path}")


def test_a_fortnight_must_be_aligned_on_the_consent() -> None:
    data = _with(["PeriodicLimits", 0, "PeriodType"], "Fortnight")
    assert control_parameters(data).periodic_limits[0].period_type == "Fortnight"
    data["PeriodicLimits"][0]["PeriodAlignment"] = "Calendar"
    with pytest.raises(ApiError) as refused:
        control_parameters(data)
    assert "Fortnight must have the PeriodAlignment Consent" in refused.value.details[0].message


def test_a_valid_to_already_past_is_refused_given_now() -> None:
    now = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
    with pytest.raises(ApiError) as refused:
        control_parameters(EXAMPLE, now=now)
    assert refused.value.details[0].code == "U003"
    later = _with(["ValidToDateTime"], "2026-03-04T10:00:01+00:00")
    assert control_parameters(later, now=now).valid_to == now + dt.timedelta(seconds=1)
