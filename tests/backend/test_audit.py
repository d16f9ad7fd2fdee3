"""The audit trail is a keyed hash chain: edits, deletions and forks are detected, a rewrite
needs AUDIT_KEY, and anchors kept elsewhere detect truncation."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from backend import audit, db
from backend.db import utcnow
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


# --- keyed chain and anchors (issue 9) ---------------------------------------------------------

def _rewrite_from(session, first_id: int, key: bytes) -> None:
    """What someone with write access to the database does to hide an edit: recompute the digest
    and hash of every event from ``first_id`` on, here with ``key`` (they do not have AUDIT_KEY)."""
    prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.id < first_id)
                          .order_by(AuditEvent.id.desc()).limit(1)) or audit.GENESIS
    for event in session.scalars(select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)).all():
        digest = audit.detail_digest(key, event.detail)
        new_hash = audit.compute_keyed_hash(key, prev, event.at, event.actor, event.action,
                                            event.case_reference, digest)
        session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                        .values(prev_hash=prev, detail_digest=digest, hash=new_hash))
        prev = new_hash
    session.commit()
    session.expire_all()


def test_editing_an_event_and_recomputing_later_hashes_fails_verify_without_the_key(db_session):
    _three(db_session)
    db_session.execute(text("""UPDATE audit_events SET detail = '{"decision": "negative", "n": 1}' WHERE id = 2"""))
    _rewrite_from(db_session, 2, b"the attacker's best guess at the key")
    problems = audit.verify(db_session)
    assert {p.split(":")[0] for p in problems} == {"event 2", "event 3"}
    assert sum("another AUDIT_KEY" in p for p in problems) == 2


def test_rewriting_the_whole_chain_as_plain_sha256_fails_verify_against_the_anchor(db_session):
    _three(db_session)
    anchor = audit.make_anchor(db_session)
    db_session.execute(text("""UPDATE audit_events SET detail = '{"decision": "negative", "n": 1}' WHERE id = 2"""))
    prev = audit.GENESIS
    for event in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all():
        new_hash = audit.compute_hash(prev, event.at, event.actor, event.action, event.case_reference, event.detail)
        db_session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                           .values(version=audit.PLAIN, detail_digest=None, prev_hash=prev, hash=new_hash))
        prev = new_hash
    db_session.commit()
    db_session.expire_all()
    assert audit.verify(db_session) == []  # a consistent plain chain: only an anchor can tell
    problems = audit.verify(db_session, [anchor])
    assert len(problems) == 1 and "hash changed" in problems[0]


def test_deleting_the_latest_event_fails_verify_against_the_anchor(db_session):
    _three(db_session)
    anchor = audit.make_anchor(db_session)
    assert anchor.event_id == 3 and audit.verify(db_session, [anchor]) == []
    db_session.execute(text("DELETE FROM audit_events WHERE id = 3"))
    db_session.commit()
    db_session.expire_all()
    assert audit.verify(db_session) == []  # the shorter chain is consistent in itself
    problems = audit.verify(db_session, [audit.parse_anchor(anchor.line())])
    assert len(problems) == 1 and "truncated" in problems[0]


def test_truncation_below_an_older_anchor_is_detected(db_session):
    _three(db_session)
    older = audit.make_anchor(db_session)
    audit.record(db_session, "user:3", "case.read", "NRM-2026-000001", {"via": "page"})
    newer = audit.make_anchor(db_session)
    db_session.commit()
    db_session.execute(text("DELETE FROM audit_events WHERE id >= 2"))
    db_session.commit()
    db_session.expire_all()
    problems = audit.verify(db_session, [older, newer])
    assert len(problems) == 2 and all("truncated" in p for p in problems)


def test_an_altered_or_foreign_anchor_is_refused(db_session):
    _three(db_session)
    anchor = audit.make_anchor(db_session)
    forged = audit.Anchor(2, anchor.hash, anchor.taken_at, anchor.signature)
    foreign = audit.Anchor(anchor.event_id, anchor.hash, anchor.taken_at, "0" * 64)
    for bad in (forged, foreign):
        problems = audit.verify(db_session, [bad])
        assert len(problems) == 1 and "signature does not match" in problems[0]
    with pytest.raises(ValueError):
        audit.parse_anchor("3 abc 2026-01-01T00:00:00Z def")


def test_plain_sha256_events_from_before_the_keyed_chain_still_verify(db_session):
    prev = audit.GENESIS
    for number in (1, 2):  # as migration 0009 finds them: version 1, no digest
        at = utcnow()
        event = AuditEvent(at=at, actor="user:1", action="case.claimed", case_reference="NRM-2025-000001",
                           detail={"n": number}, prev_hash=prev, version=audit.PLAIN,
                           hash=audit.compute_hash(prev, at, "user:1", "case.claimed", "NRM-2025-000001", {"n": number}))
        db_session.add(event)
        db_session.flush()
        prev = event.hash
    keyed = audit.record(db_session, "user:2", "case.released", "NRM-2025-000001")
    db_session.commit()
    assert keyed.version == audit.KEYED and keyed.prev_hash == prev
    assert audit.verify(db_session) == []
    db_session.execute(text("UPDATE audit_events SET actor = 'user:9' WHERE id = 1"))
    db_session.commit()
    db_session.expire_all()
    assert audit.verify(db_session)[0].startswith("event 1:")


def test_a_plain_event_after_keyed_ones_is_reported(db_session):
    _three(db_session)
    head = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    at = utcnow()
    db_session.add(AuditEvent(at=at, actor="user:9", action="case.read", detail={}, prev_hash=head.hash,
                              version=audit.PLAIN, hash=audit.compute_hash(head.hash, at, "user:9", "case.read", None, {})))
    db_session.commit()
    problems = audit.verify(db_session)
    assert len(problems) == 1 and "plain (unkeyed) event after keyed ones" in problems[0]


def test_removing_detail_of_a_case_that_was_not_erased_is_reported(db_session):
    _three(db_session)
    assert audit.redact_case(db_session, "NRM-2026-000001") == 2
    db_session.commit()
    problems = audit.verify(db_session)
    assert len(problems) == 2 and all("without a later erasure" in p for p in problems)
    audit.record(db_session, "cli:ops", audit.ERASED, "NRM-2026-000001", {"redacted_events": 2})
    db_session.commit()
    assert audit.verify(db_session) == []


def test_cli_anchor_then_verify_detects_the_deleted_latest_event(app, cli_runner, tmp_path):
    with app.app_context(), db.get_db(app).transaction() as session:
        _three(session)
    anchored = cli_runner.invoke(args=["audit", "anchor"])
    assert anchored.exit_code == 0
    line = anchored.output.strip()
    assert line.startswith(audit.ANCHOR_PREFIX + " 3 ")
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# kept off the database server\n{line}\n", encoding="utf-8")
    intact = cli_runner.invoke(args=["audit", "verify", "--anchor-file", str(anchors)])
    assert intact.exit_code == 0 and "reaches all 1 anchor(s)" in intact.output
    with app.app_context(), db.get_db(app).transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = 3"))
    assert cli_runner.invoke(args=["audit", "verify"]).exit_code == 0
    truncated = cli_runner.invoke(args=["audit", "verify", "--anchor", line])
    assert truncated.exit_code == 1 and "truncated" in truncated.output
