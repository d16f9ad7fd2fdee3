"""The audit trail is hash-chained: edits, deletions and forks are detected."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backend import audit
from backend.models import AuditEvent


def _three(session):
    audit.record(session, "user:1", "case.claimed", "NRM-2026-000001", {"queue": "decision"})
    audit.record(session, "user:2", "decision.made", "NRM-2026-000001", {"decision": "positive", "n": 1})
    audit.record(session, "system", "stats.published", None, {})
    session.commit()


def test_intact_chain_verifies(db_session):
    assert audit.verify(db_session) == []
    _three(db_session)
    events = db_session.query(AuditEvent).order_by(AuditEvent.id).all()
    assert events[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert audit.verify(db_session) == []


def test_edited_row_is_caught(db_session):
    _three(db_session)
    db_session.execute(text("UPDATE audit_events SET actor = 'user:9' WHERE id = 2"))
    db_session.commit()
    db_session.expire_all()
    problems = audit.verify(db_session)
    assert len(problems) == 1 and problems[0].startswith("event 2:") and "edited" in problems[0]


def test_edited_detail_is_caught(db_session):
    _three(db_session)
    db_session.execute(text("""UPDATE audit_events SET detail = '{"decision": "negative", "n": 1}' WHERE id = 2"""))
    db_session.commit()
    db_session.expire_all()
    assert any(p.startswith("event 2:") for p in audit.verify(db_session))


def test_deleted_row_is_caught(db_session):
    _three(db_session)
    db_session.execute(text("DELETE FROM audit_events WHERE id = 2"))
    db_session.commit()
    db_session.expire_all()
    problems = audit.verify(db_session)
    assert problems and problems[0].startswith("event 3:") and "removed" in problems[0]


def test_chain_cannot_fork(db_session):
    first = audit.record(db_session, "a", "x")
    db_session.add(AuditEvent(at=first.at, actor="b", action="y", detail={}, prev_hash=first.prev_hash,
                              hash="f" * 64))
    with pytest.raises(IntegrityError):
        db_session.flush()
