"""The expected settlement date of each corridor: the cut-off in the corridor's own time zone,
weekends (Friday and Saturday in Kuwait) and both currencies' holidays move it."""

from __future__ import annotations

import datetime as dt

from gateway.core.fx_corridors import BY_ID, CORRIDORS, business_day, find

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_before_the_cut_off_a_t_plus_one_corridor_settles_the_next_day() -> None:
    # Wednesday 11:00 in Brussels, before its 16:00 cut-off.
    assert BY_ID["GBP-EUR"].settlement_date(at("2026-03-04T10:00:00")) == dt.date(2026, 3, 5)


def test_after_the_cut_off_in_the_corridor_zone_the_date_moves_a_day() -> None:
    # 15:30 UTC is 16:30 in Brussels: past the cut-off, traded Thursday, settled Friday.
    eur = BY_ID["GBP-EUR"]
    assert eur.trade_date(at("2026-03-04T15:30:00")) == dt.date(2026, 3, 5)
    assert eur.settlement_date(at("2026-03-04T15:30:00")) == dt.date(2026, 3, 6)
    # The same instant is before New York's 17:00 cut-off (10:30 there).
    assert BY_ID["GBP-USD"].settlement_date(at("2026-03-04T15:30:00")) == dt.date(2026, 3, 5)


def test_a_friday_instruction_settles_after_the_weekend() -> None:
    assert BY_ID["GBP-EUR"].settlement_date(at("2026-03-06T09:00:00")) == dt.date(2026, 3, 9)


def test_easter_holidays_move_the_settlement_date() -> None:
    # Good Friday (3 April 2026) and Easter Monday (6 April) close TARGET2 and England.
    assert not business_day(dt.date(2026, 4, 3), ("GBP", "EUR"))
    assert not business_day(dt.date(2026, 4, 6), ("GBP", "EUR"))
    assert BY_ID["GBP-EUR"].settlement_date(at("2026-04-02T09:00:00")) == dt.date(2026, 4, 7)


def test_a_holiday_of_the_buy_currency_alone_moves_it() -> None:
    # 4 July 2025 (a Friday) is a Federal Reserve holiday, not a British one.
    assert business_day(dt.date(2025, 7, 4), ("GBP",))
    assert not business_day(dt.date(2025, 7, 4), ("GBP", "USD"))
    assert BY_ID["GBP-USD"].settlement_date(at("2025-07-03T12:00:00")) == dt.date(2025, 7, 7)


def test_kuwait_rests_on_friday_and_saturday() -> None:
    kwd = BY_ID["GBP-KWD"]
    # Thursday 12:00 in Kuwait, before its 13:00 cut-off: T+2 skips Friday to Sunday.
    assert kwd.trade_date(at("2026-03-05T09:00:00")) == dt.date(2026, 3, 5)
    assert kwd.settlement_date(at("2026-03-05T09:00:00")) == dt.date(2026, 3, 10)
    # 14:00 in Kuwait: traded Monday (Friday and Saturday there, Sunday in London).
    assert kwd.trade_date(at("2026-03-05T11:00:00")) == dt.date(2026, 3, 9)


def test_find_matches_pair_and_country() -> None:
    assert find(CORRIDORS, "GBP", "EUR", "DE") is BY_ID["GBP-EUR"]
    assert find(CORRIDORS, "GBP", "EUR", None) is BY_ID["GBP-EUR"]
    assert find(CORRIDORS, "GBP", "EUR", "US") is None
    assert find(CORRIDORS, "EUR", "GBP", None) is None
