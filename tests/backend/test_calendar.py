"""Working days per UK nation around the bank holidays that differ between them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.calendar import SUBDIVISIONS, add_working_days, is_working_day, rg_due_date, uk_date

NATIONS = tuple(SUBDIVISIONS)


@pytest.mark.parametrize("nation", NATIONS)
def test_christmas_2026_everywhere(nation):
    # Thu 24 Dec; Fri 25 Christmas; Sat/Sun; Mon 28 Boxing Day (substitute): next working day Tue 29
    assert add_working_days(date(2026, 12, 24), 1, nation) == date(2026, 12, 29)


@pytest.mark.parametrize("nation, due", [
    ("england", date(2027, 1, 4)),
    ("wales", date(2027, 1, 4)),
    ("northern-ireland", date(2027, 1, 4)),
    ("scotland", date(2027, 1, 5)),  # 2 January is a holiday too, moved to Monday 4th in 2027
])
def test_five_days_over_new_year(nation, due):
    assert add_working_days(date(2026, 12, 23), 5, nation) == due


@pytest.mark.parametrize("nation, due", [
    ("england", date(2026, 4, 7)),
    ("wales", date(2026, 4, 7)),
    ("northern-ireland", date(2026, 4, 7)),
    ("scotland", date(2026, 4, 6)),  # Easter Monday is not a bank holiday in Scotland
])
def test_easter(nation, due):
    # Thu 2 April 2026; Good Friday 3 April everywhere
    assert add_working_days(date(2026, 4, 2), 1, nation) == due


@pytest.mark.parametrize("nation, due", [
    ("england", date(2026, 11, 30)),
    ("wales", date(2026, 11, 30)),
    ("northern-ireland", date(2026, 11, 30)),
    ("scotland", date(2026, 12, 1)),  # St Andrew's Day, Monday 30 November 2026
])
def test_st_andrews_day(nation, due):
    assert add_working_days(date(2026, 11, 27), 1, nation) == due


@pytest.mark.parametrize("nation, due", [
    ("england", date(2026, 3, 17)),
    ("wales", date(2026, 3, 17)),
    ("scotland", date(2026, 3, 17)),
    ("northern-ireland", date(2026, 3, 18)),  # St Patrick's Day, Tuesday 17 March 2026
])
def test_st_patricks_day(nation, due):
    assert add_working_days(date(2026, 3, 16), 1, nation) == due


def test_boyne_and_summer_holidays_differ():
    assert not is_working_day(date(2026, 7, 13), "northern-ireland")  # Boyne, observed
    assert is_working_day(date(2026, 7, 13), "england")
    assert not is_working_day(date(2026, 8, 3), "scotland")  # first Monday of August
    assert is_working_day(date(2026, 8, 3), "wales")
    assert not is_working_day(date(2026, 8, 31), "england")  # last Monday of August
    assert is_working_day(date(2026, 8, 31), "scotland")


def test_weekend_start_and_zero_days():
    assert add_working_days(date(2026, 3, 7), 5, "england") == date(2026, 3, 13)  # Sat -> next Fri
    assert add_working_days(date(2026, 3, 6), 5, "england") == date(2026, 3, 13)  # Fri -> next Fri
    assert add_working_days(date(2026, 3, 7), 0, "england") == date(2026, 3, 7)


def test_unknown_nation_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 7), 1, "cornwall")


def test_due_date_uses_uk_civil_date():
    late_summer_evening = datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc)  # 00:30 BST on 2 July
    assert uk_date(late_summer_evening) == date(2026, 7, 2)
    assert rg_due_date(late_summer_evening, "england") == date(2026, 7, 9)
    winter = datetime(2026, 1, 5, 23, 30, tzinfo=timezone.utc)  # GMT: still Monday 5th
    assert rg_due_date(winter, "england") == date(2026, 1, 12)


@settings(max_examples=150, deadline=None)
@given(start=st.dates(date(2020, 1, 1), date(2035, 12, 31)), days=st.integers(0, 25),
       nation=st.sampled_from(NATIONS))
def test_exactly_n_working_days_are_counted(start, days, nation):
    due = add_working_days(start, days, nation)
    span = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(is_working_day(day, nation) for day in span) == days
    if days:
        assert is_working_day(due, nation)
