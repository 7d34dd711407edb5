"""VRP control parameters: what a payment under a consent may be, each limit alone and together,
at the edges of its periods, and the sum of allowed payments in any period (a property)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.consents.vrp_limits import (
    AMOUNT_PATH,
    ControlParameters,
    PeriodicLimit,
    VrpPayment,
    breaches,
    check,
    consent_start,
    spent,
)
from gateway.consents.vrp_periods import PERIOD_TYPES, period
from gateway.core.money import Money
from gateway.edge.errors import ApiError

UTC = dt.UTC
TICK = dt.timedelta(microseconds=1)
CREATED = dt.datetime(2026, 3, 4, 14, 30, tzinfo=UTC)


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def pay(amount: str, at: dt.datetime, currency: str = "GBP") -> VrpPayment:
    return VrpPayment(Money(Decimal(amount), currency), at)


def control(
    *limits: tuple[str, str, str], maximum: str = "1000.00", **window: dt.datetime
) -> ControlParameters:
    periodic = tuple(PeriodicLimit(t, a, gbp(amount)) for t, a, amount in limits)
    return ControlParameters(gbp(maximum), periodic, window.get("valid_from"), window.get("to"))


def test_the_maximum_individual_amount_is_allowed_and_a_penny_more_is_not() -> None:
    limits = control(("Year", "Calendar", "10000.00"), maximum="50.00")
    assert breaches(limits, CREATED, [], pay("50.00", CREATED)) == ()
    found = breaches(limits, CREATED, [], pay("50.01", CREATED))
    assert [b.parameter for b in found] == ["Data.ControlParameters.MaximumIndividualAmount"]
    assert found[0].message == (
        "The payment of 50.01 GBP exceeds the MaximumIndividualAmount of 50.00 GBP"
    )


KINDS = [(t, a) for t in PERIOD_TYPES for a in ("Consent", "Calendar")]
KINDS.remove(("Fortnight", "Calendar"))


@pytest.mark.parametrize(("type_", "alignment"), KINDS)
def test_each_period_holds_its_limit_to_its_last_instant_and_frees_it_at_the_next(
    type_: str, alignment: str
) -> None:
    limits = control((type_, alignment, "100.00"))
    window = period(type_, alignment, CREATED, CREATED + dt.timedelta(days=40))
    last, next_first = window.end - TICK, window.end
    made = [pay("60.00", window.start), pay("30.00", last)]
    assert breaches(limits, CREATED, made[:1], made[1]) == ()
    refused = breaches(limits, CREATED, made, pay("10.01", last))
    assert len(refused) == 1
    assert refused[0].remaining == gbp("10.00") and refused[0].period == window
    assert f"{type_} limit ({alignment} alignment)" in refused[0].message
    assert "90.00 GBP paid, 10.00 GBP remaining" in refused[0].message
    assert breaches(limits, CREATED, made, pay("10.00", last)) == ()  # exactly what remains
    # The next period starts empty.
    assert breaches(limits, CREATED, made, pay("100.00", next_first)) == ()


def test_a_consent_month_started_on_31_january() -> None:
    created = dt.datetime(2026, 1, 31, 9, tzinfo=UTC)
    limits = control(("Month", "Consent", "100.00"))
    first_end = dt.datetime(2026, 2, 28, 9, tzinfo=UTC)
    second_end = dt.datetime(2026, 3, 31, 8, tzinfo=UTC)  # 09:00 BST
    made = [pay("100.00", first_end - TICK)]
    # The first month ends at 09:00 on 28 February; the second runs to 09:00 BST on 31 March.
    assert breaches(limits, created, made, pay("0.01", first_end - TICK))
    made.append(pay("100.00", first_end))
    assert breaches(limits, created, made[:1], made[1]) == ()
    assert breaches(limits, created, made, pay("0.01", second_end - TICK))
    assert breaches(limits, created, made, pay("100.00", second_end)) == ()


def test_a_calendar_day_follows_london_across_the_autumn_clock_change() -> None:
    limits = control(("Day", "Calendar", "50.00"))
    # 23:30 UTC on 24 October is 00:30 BST on the 25th; 23:30 UTC on the 25th is 23:30 GMT,
    # the same 25-hour London day.
    made = [pay("40.00", dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC))]
    late = dt.datetime(2026, 10, 25, 23, 30, tzinfo=UTC)
    assert breaches(limits, CREATED, made, pay("10.01", late))
    assert breaches(limits, CREATED, made, pay("10.00", late)) == ()
    # 22:59 UTC on the 24th is 23:59 BST on the 24th: the day before.
    assert not breaches(limits, CREATED, made, pay("50.00", made[0].at - dt.timedelta(minutes=31)))


def test_several_limits_at_once_each_breach_named() -> None:
    limits = control(
        ("Day", "Calendar", "50.00"),
        ("Week", "Consent", "120.00"),
        ("Month", "Calendar", "300.00"),
        maximum="40.00",
    )
    day = dt.datetime(2026, 3, 5, 12, tzinfo=UTC)
    made = [pay("40.00", day), pay("40.00", day + dt.timedelta(days=1)),
            pay("30.00", day + dt.timedelta(days=2))]  # fmt: skip
    proposed = pay("45.00", day + dt.timedelta(days=2, hours=1))
    found = breaches(limits, CREATED, made, proposed)
    assert [b.parameter.rsplit(".", 1)[1] for b in found] == [
        "MaximumIndividualAmount", "PeriodicLimits[0]", "PeriodicLimits[1]",
    ]  # fmt: skip
    assert [b.remaining for b in found[1:]] == [gbp("20.00"), gbp("10.00")]
    with pytest.raises(ApiError) as refused:
        check(limits, CREATED, made, proposed)
    assert refused.value.status == 400
    assert [d.code for d in refused.value.details] == ["U014"] * 3
    assert {d.path for d in refused.value.details} == {AMOUNT_PATH}
    check(limits, CREATED, made, pay("10.00", proposed.at))  # allowed: nothing raised


def test_the_validity_window_includes_both_ends() -> None:
    start = dt.datetime(2026, 4, 1, tzinfo=UTC)
    end = dt.datetime(2026, 5, 1, tzinfo=UTC)
    limits = control(("Month", "Calendar", "100.00"), valid_from=start, to=end)
    assert breaches(limits, CREATED, [], pay("1.00", start)) == ()
    assert breaches(limits, CREATED, [], pay("1.00", end)) == ()
    before = breaches(limits, CREATED, [], pay("1.00", start - TICK))
    after = breaches(limits, CREATED, [], pay("1.00", end + TICK))
    assert [b.parameter for b in before + after] == [
        "Data.ControlParameters.ValidFromDateTime", "Data.ControlParameters.ValidToDateTime",
    ]  # fmt: skip
    assert [b.detail().path for b in before + after] == [None, None]  # the time, not the amount


def test_consent_periods_start_at_valid_from_when_given_else_at_creation() -> None:
    valid_from = dt.datetime(2026, 3, 10, 8, tzinfo=UTC)
    with_start = control(("Week", "Consent", "10.00"), valid_from=valid_from)
    assert consent_start(with_start, CREATED) == valid_from
    assert consent_start(control(("Week", "Consent", "10.00")), CREATED) == CREATED
    made = [pay("10.00", valid_from + dt.timedelta(days=6, hours=23))]
    # The week from 10 March 08:00 ends at 17 March 08:00, not on CREATED's weekday.
    assert breaches(
        with_start, CREATED, made, pay("0.01", valid_from + dt.timedelta(days=7) - TICK)
    )
    assert (
        breaches(with_start, CREATED, made, pay("10.00", valid_from + dt.timedelta(days=7))) == ()
    )


def test_a_payment_in_another_currency_breaks_every_limit() -> None:
    limits = control(("Day", "Calendar", "50.00"))
    found = breaches(limits, CREATED, [], pay("1.00", CREATED, "EUR"))
    assert [b.message for b in found] == [
        "The payment is in EUR; the consent's limits are in GBP",
        "The payment is in EUR; the Day limit (Calendar alignment) is in GBP",
    ]
    # A payment in another currency is not counted in a limit's sum.
    window, total = spent(limits.periodic_limits[0], CREATED, [pay("9.00", CREATED, "EUR")],
                          CREATED)  # fmt: skip
    assert total == Decimal(0) and CREATED in window


def test_a_naive_payment_time_is_refused() -> None:
    with pytest.raises(ValueError):
        breaches(
            control(("Day", "Calendar", "1.00")), CREATED, [], pay("1.00", dt.datetime(2026, 1, 1))
        )


# The property: whatever is proposed, in whatever order, the payments allowed in any period of a
# limit never add up to more than the limit.

LIMITS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.decimals(Decimal("0.01"), Decimal("500"), places=2)),
    min_size=1,
    max_size=3,
)
PROPOSALS = st.lists(
    st.tuples(
        st.decimals(Decimal("0.01"), Decimal("200"), places=2),
        st.integers(-3 * 86400, 400 * 86400),  # seconds from the consent's creation
    ),
    max_size=40,
)


@settings(deadline=None)
@given(LIMITS, st.decimals(Decimal("1"), Decimal("300"), places=2), PROPOSALS)
def test_allowed_payments_never_add_up_past_a_limit_in_any_period(
    limits: list[tuple[tuple[str, str], Decimal]], maximum: Decimal, proposals: list[Any]
) -> None:
    consent = ControlParameters(
        Money(maximum, "GBP"),
        tuple(PeriodicLimit(t, a, Money(amount, "GBP")) for (t, a), amount in limits),
    )
    made: list[VrpPayment] = []
    for amount, seconds in proposals:
        proposed = VrpPayment(Money(amount, "GBP"), CREATED + dt.timedelta(seconds=seconds))
        if not breaches(consent, CREATED, made, proposed):
            made.append(proposed)
        else:
            assert amount > maximum or any(
                spent(limit, CREATED, made, proposed.at)[1] + amount > limit.amount.amount
                for limit in consent.periodic_limits
            )
    for payment in made:
        assert payment.amount.amount <= maximum
        for limit in consent.periodic_limits:
            _window, total = spent(limit, CREATED, made, payment.at)
            assert total <= limit.amount.amount
