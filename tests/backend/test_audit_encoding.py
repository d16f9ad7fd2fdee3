"""What every keyed audit hash covers is fixed: the event's time written as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and its detail's canonical JSON, exactly as the JSON column gives
the detail back. Claim-next encodes them faster (issue 14); events written before and after
must hash the same, or ``nrm audit verify`` would report every older event."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from backend import audit
from backend.models import AuditEvent

KEY = b"k" * 32
HEAD = audit.Head(4, "a" * 64)
LONDON_SUMMER = timezone(timedelta(hours=1))


def _as_before(detail):
    """The detail and digest as ``event_row`` computed them before: a JSON round trip, then a
    digest of the round-tripped detail (``json.dumps`` with the canonical options)."""
    stored = json.loads(json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    text = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return stored, audit.mac(KEY, "detail|" + text)


@pytest.mark.parametrize("at", [
    datetime(2026, 11, 30, 18, 5, 7, 123456, tzinfo=timezone.utc),
    datetime(2026, 11, 30, 18, 5, 7, tzinfo=timezone.utc),  # no microseconds: still six digits
    datetime(2026, 6, 30, 0, 30, tzinfo=LONDON_SUMMER),  # another zone: written in UTC (the day before)
    datetime(1000, 1, 1, tzinfo=timezone.utc),
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),  # strftime leaves such years unpadded
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
])
def test_the_time_an_audit_hash_covers_is_written_as_before_whatever_the_year_or_zone(at):
    assert audit._timestamp(at) == at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("detail", [
    {"expires_at": "2026-11-30T19:05:07+00:00", "renewed": False, "stage": "rg"},  # a claim's
    {"stage": "cg", "renewed": True, "expires_at": "2026-11-30T19:05:07+00:00"},  # keys given in another order
    {},
    {"n": 10 ** 30, "none": None, "yes": True, "zero": 0},
    {"reasons": "نص عربي", "nul": "a\x00b", "control": "\x1b[2J"},
    {"ratio": 0.1, "big": 1e400, "nested": {"b": [1, (2, 3)], "a": {}}},  # floats, nesting: round-tripped
    {"tuple": ("x", "y")},
])
def test_an_events_detail_and_digest_are_what_the_json_column_gives_back_as_before(detail):
    row = audit.event_row(KEY, "NRM-2026-000001", HEAD, "user:7", "case.claimed", "NRM-2026-000001", detail,
                          datetime(2026, 11, 30, 18, 5, tzinfo=timezone.utc))
    stored, digest = _as_before(detail)
    assert row["detail"] == stored and type(row["detail"]) is dict
    assert list(row["detail"]) == list(stored)  # keys in the same order: the stored JSON text is the same
    assert row["detail_digest"] == digest
    assert row["detail"] is not detail  # a copy: the caller's dict may change afterwards


def test_a_lone_surrogate_in_a_detail_is_still_refused_before_anything_is_written():
    """Text no encoding can store (a lone surrogate) raises, as it did: nothing half-hashed."""
    with pytest.raises(UnicodeEncodeError):
        audit.event_row(KEY, "NRM-2026-000001", HEAD, "user:7", "case.claimed", None, {"x": "\ud800"},
                        datetime(2026, 11, 30, tzinfo=timezone.utc))


def test_a_claims_event_verifies_after_a_round_trip_through_the_database(db_session):
    """Written, read back and checked by ``nrm audit verify``, with text no encoding should alter."""
    audit.record(db_session, "user:7", "case.claimed", "NRM-2026-000001",
                 {"stage": "rg", "renewed": False, "note": "Ελληνικά \u2028 \x00", "n": 2 ** 40})
    db_session.commit()
    assert audit.verify(db_session) == []
    assert db_session.scalars(select(AuditEvent.detail)).one()["n"] == 2 ** 40
