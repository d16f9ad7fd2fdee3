"""Reference numbers: per series and year, consecutive, formatted NRM-2026-000123."""

from __future__ import annotations

from datetime import datetime, timezone

from backend.references import allocate, format_reference, is_reference


def _at(year, month=6, day=1, hour=12):
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


def test_numbers_increment_per_series_and_year(db_session):
    taken = [allocate(db_session, "NRM", _at(2026)), allocate(db_session, "NRM", _at(2026)),
             allocate(db_session, "DTN", _at(2026)), allocate(db_session, "NRM", _at(2027)),
             allocate(db_session, "NRM", _at(2026)), allocate(db_session, "DTN", _at(2026))]
    assert taken == ["NRM-2026-000001", "NRM-2026-000002", "DTN-2026-000001", "NRM-2027-000001",
                     "NRM-2026-000003", "DTN-2026-000002"]
    db_session.commit()
    assert allocate(db_session, "NRM", _at(2026)) == "NRM-2026-000004"


def test_rollback_gives_the_number_back(db_session):
    assert allocate(db_session, "NRM", _at(2026)) == "NRM-2026-000001"
    db_session.commit()
    assert allocate(db_session, "NRM", _at(2026)) == "NRM-2026-000002"
    db_session.rollback()
    assert allocate(db_session, "NRM", _at(2026)) == "NRM-2026-000002"


def test_year_is_the_uk_year():
    # 31 Dec 23:30 UTC is still 31 Dec in London (GMT), so the year does not jump early
    from backend.calendar import UK_TIME
    assert datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc).astimezone(UK_TIME).year == 2026


def test_format_and_recognise():
    assert format_reference("DTN", 2026, 7) == "DTN-2026-000007"
    assert format_reference("NRM", 2026, 1234567) == "NRM-2026-1234567"
    assert is_reference("nrm-2026-000123") and not is_reference("NRM-26-1")
