"""The audit trail is a set of keyed hash chains, one per case (or actor): edits, deletions,
reorderings and forks are detected, a rewrite needs AUDIT_KEY, and anchors (stored, and lines kept
elsewhere) detect events removed from the end of a chain and whole chains removed."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from backend import audit, audit_anchors, db
from backend.db import utcnow
from backend.models import AuditAnchor, AuditEvent

CASE = "NRM-2026-000001"
OTHER = "NRM-2026-000002"


def _three(session):
    audit.record(session, "user:1", "case.claimed", CASE, {"queue": "decision"})
    audit.record(session, "user:2", "decision.made", CASE, {"decision": "positive", "n": 1})
    audit.record(session, "system", "stats.published", None, {})
    session.commit()


def _tamper(session, statement) -> None:
    """What someone with write access to the database (but not AUDIT_KEY) does."""
    session.execute(text(statement) if isinstance(statement, str) else statement)
    session.commit()
    session.expire_all()


def _hide_the_stored_anchors(session) -> None:
    """Remove the anchors kept in the database and unseal every event: only a line kept
    elsewhere can tell now."""
    _tamper(session, delete(AuditAnchor))
    _tamper(session, update(AuditEvent).values(epoch=None))


def test_intact_chains_verify_each_case_on_its_own_chain(db_session):
    assert audit.verify(db_session) == []
    _three(db_session)
    first, second, third = db_session.query(AuditEvent).order_by(AuditEvent.id).all()
    assert [(e.chain, e.seq) for e in (first, second, third)] == [(CASE, 1), (CASE, 2), ("actor:system", 1)]
    assert first.prev_hash == third.prev_hash == audit.GENESIS and second.prev_hash == first.hash
    assert audit.verify(db_session) == []


def test_edited_row_is_caught(db_session):
    _three(db_session)
    _tamper(db_session, "UPDATE audit_events SET actor = 'user:9' WHERE id = 2")
    problems = audit.verify(db_session)
    assert len(problems) == 1 and problems[0].startswith("event 2:") and "edited" in problems[0]


def test_edited_detail_is_caught(db_session):
    _three(db_session)
    _tamper(db_session, """UPDATE audit_events SET detail = '{"decision": "negative", "n": 1}' WHERE id = 2""")
    assert any(p.startswith("event 2:") for p in audit.verify(db_session))


def test_deleted_row_in_a_case_chain_is_caught(db_session):
    _three(db_session)
    _tamper(db_session, "DELETE FROM audit_events WHERE id = 1")
    problems = audit.verify(db_session)
    assert len(problems) == 1 and problems[0].startswith("event 2:") and "removed" in problems[0]


def test_reordering_events_of_a_case_chain_is_caught(db_session):
    _three(db_session)
    for statement in ("UPDATE audit_events SET seq = seq + 10 WHERE chain = 'NRM-2026-000001'",
                      "UPDATE audit_events SET seq = 13 - seq WHERE chain = 'NRM-2026-000001'"):
        _tamper(db_session, statement)  # the two events swap places
    problems = audit.verify(db_session)
    assert {p.split(":")[0] for p in problems} == {"event 1", "event 2"}
    assert any("reordered" in p for p in problems)


def test_an_event_moved_to_another_cases_chain_is_caught(db_session):
    _three(db_session)
    audit.record(db_session, "user:1", "case.claimed", OTHER)
    db_session.commit()
    _tamper(db_session, f"UPDATE audit_events SET chain = '{OTHER}', case_reference = '{OTHER}', seq = 2 "
                        "WHERE id = 2")
    problems = audit.verify(db_session)
    assert problems and all(p.startswith("event 2:") for p in problems)


def test_a_case_chain_cannot_fork(db_session):
    first = audit.record(db_session, "a", "x", CASE)
    db_session.add(AuditEvent(chain=CASE, seq=first.seq, at=first.at, actor="b", action="y", detail={},
                              prev_hash=first.prev_hash, hash="f" * 64))
    with pytest.raises(IntegrityError):
        db_session.flush()


# --- keyed chains -------------------------------------------------------------------------------

def _rewrite_from(session, first_id: int, key: bytes) -> None:
    """What someone with write access to the database does to hide an edit: recompute the digest
    and hash of every event of that chain from ``first_id`` on, here with ``key`` (they do not
    have AUDIT_KEY)."""
    chain = session.get(AuditEvent, first_id).chain
    events = session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)).all()
    prev = audit.GENESIS
    for event in events:
        if event.id >= first_id:
            digest = audit.detail_digest(key, event.detail)
            new_hash = audit.compute_keyed_hash(key, prev, event.at, event.actor, event.action,
                                                event.case_reference, digest, (event.chain, event.seq))
            session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                            .values(prev_hash=prev, detail_digest=digest, hash=new_hash))
        prev = session.get(AuditEvent, event.id).hash if event.id < first_id else new_hash
    session.commit()
    session.expire_all()


def test_editing_an_event_and_recomputing_later_hashes_fails_verify_without_the_key(db_session):
    _three(db_session)
    db_session.execute(text("""UPDATE audit_events SET detail = '{"queue": "review"}' WHERE id = 1"""))
    _rewrite_from(db_session, 1, b"the attacker's best guess at the key")
    problems = audit.verify(db_session)
    assert {p.split(":")[0] for p in problems} == {"event 1", "event 2"}
    assert sum("another AUDIT_KEY" in p for p in problems) == 2


def test_a_legacy_version_event_on_a_case_chain_is_reported(db_session):
    """Plain SHA-256 needs no key: an attacker could write it anywhere, so only the legacy chain may hold it."""
    _three(db_session)
    at = utcnow()
    head = db_session.get(AuditEvent, 2)
    db_session.add(AuditEvent(chain=CASE, seq=3, at=at, actor="user:9", action="case.read", case_reference=CASE,
                              detail={}, prev_hash=head.hash, version=audit.PLAIN,
                              hash=audit.compute_hash(head.hash, at, "user:9", "case.read", CASE, {})))
    db_session.commit()
    problems = audit.verify(db_session)
    assert len(problems) == 1 and "exist only on the legacy chain" in problems[0]


# --- the legacy chain (events written before migration 0013) ------------------------------------

def _legacy(session, versions: tuple[int, ...]) -> list[AuditEvent]:
    """Events on the one legacy chain as migrations 0009 and 0013 leave them (seq = id)."""
    key = audit.session_key(session)
    prev, events = audit.GENESIS, []
    for number, version in enumerate(versions, start=1):
        at, detail = utcnow(), {"n": number}
        digest = audit.detail_digest(key, detail) if version == audit.KEYED else None
        event_hash = (audit.compute_keyed_hash(key, prev, at, "user:1", "case.claimed", "NRM-2025-000001", digest)
                      if digest else audit.compute_hash(prev, at, "user:1", "case.claimed", "NRM-2025-000001", detail))
        event = AuditEvent(chain=audit.LEGACY_CHAIN, seq=number, at=at, actor="user:1", action="case.claimed",
                           case_reference="NRM-2025-000001", detail=detail, prev_hash=prev, version=version,
                           detail_digest=digest, hash=event_hash)
        session.add(event)
        session.flush()
        events.append(event)
        prev = event.hash
    return events


def test_the_legacy_chain_of_plain_and_keyed_events_still_verifies(db_session):
    legacy = _legacy(db_session, (audit.PLAIN, audit.PLAIN, audit.KEYED))
    new = audit.record(db_session, "user:2", "case.released", "NRM-2025-000001")
    db_session.commit()
    assert new.version == audit.CHAINED and new.prev_hash == legacy[-1].hash  # starts where the legacy chain ends
    assert audit.verify(db_session) == []
    _tamper(db_session, "UPDATE audit_events SET actor = 'user:9' WHERE id = 1")
    assert audit.verify(db_session)[0].startswith("event 1:")


def test_a_plain_event_after_keyed_ones_on_the_legacy_chain_is_reported(db_session):
    _legacy(db_session, (audit.KEYED, audit.PLAIN))
    db_session.commit()
    problems = audit.verify(db_session)
    assert len(problems) == 1 and "plain (unkeyed) event after keyed ones" in problems[0]


def test_removing_detail_of_a_case_that_was_not_erased_is_reported(db_session):
    _three(db_session)
    assert audit.redact_case(db_session, CASE) == 2
    db_session.commit()
    problems = audit.verify(db_session)
    assert len(problems) == 2 and all("without a later erasure" in p for p in problems)
    audit.record(db_session, "cli:ops", audit.ERASED, CASE, {"redacted_events": 2})
    db_session.commit()
    assert audit.verify(db_session) == []


def test_an_erasure_on_the_case_chain_allows_redacting_its_legacy_events_too(db_session):
    _legacy(db_session, (audit.PLAIN, audit.KEYED))
    audit.record(db_session, "user:1", "case.claimed", "NRM-2025-000001")
    assert audit.redact_case(db_session, "NRM-2025-000001") == 2  # the keyed legacy one and the new one
    audit.record(db_session, "cli:ops", audit.ERASED, "NRM-2025-000001", {"redacted_events": 2})
    db_session.commit()
    assert audit.verify(db_session) == []


# --- anchors ------------------------------------------------------------------------------------

def test_deleting_the_newest_event_of_one_case_chain_is_reported_against_the_anchor_taken_before(db_session):
    _three(db_session)
    anchor = audit_anchors.make_anchor(db_session)
    db_session.commit()
    assert (anchor.epoch, anchor.events) == (1, 3) and audit.verify(db_session, [anchor]) == []
    _tamper(db_session, "DELETE FROM audit_events WHERE id = 2")  # the case chain's newest event
    problems = audit.verify(db_session)  # the anchor stored in the database sees it
    assert len(problems) == 1 and "1 of the 3 events sealed in that epoch are missing" in problems[0]
    _hide_the_stored_anchors(db_session)
    assert audit.verify(db_session) == []  # what is left is consistent in itself
    problems = audit.verify(db_session, [audit_anchors.parse_anchor(anchor.line())])
    assert len(problems) == 1 and "truncated" in problems[0]


def test_deleting_a_whole_case_chain_is_reported_against_the_anchor_taken_before(db_session):
    _three(db_session)
    anchor = audit_anchors.make_anchor(db_session)
    db_session.commit()
    _tamper(db_session, f"DELETE FROM audit_events WHERE chain = '{CASE}'")
    assert "2 of the 3 events sealed in that epoch are missing" in audit.verify(db_session)[0]
    _tamper(db_session, delete(AuditAnchor))
    problems = audit.verify(db_session, [anchor])
    assert len(problems) == 2 and "no anchor of that epoch is stored" in problems[0]
    assert "2 of the 3 events sealed by then are missing" in problems[1]


def test_replacing_the_whole_trail_by_a_consistent_plain_chain_is_reported_against_the_anchor(db_session):
    _three(db_session)
    anchor = audit_anchors.make_anchor(db_session)
    db_session.commit()
    prev = audit.GENESIS
    for event in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all():
        new_hash = audit.compute_hash(prev, event.at, event.actor, event.action, event.case_reference, event.detail)
        db_session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                           .values(chain=audit.LEGACY_CHAIN, seq=event.id, version=audit.PLAIN,
                                   detail_digest=None, prev_hash=prev, hash=new_hash))
        prev = new_hash
    db_session.commit()
    problems = audit.verify(db_session)
    assert len(problems) == 1 and "replaced or rewritten" in problems[0]  # the stored anchor
    _hide_the_stored_anchors(db_session)
    assert audit.verify(db_session) == []  # a consistent plain chain: only the line kept elsewhere can tell
    problems = audit.verify(db_session, [anchor])
    assert len(problems) == 1 and "truncated" in problems[0]


def test_events_written_after_an_anchor_are_sealed_by_the_next_one(db_session):
    _three(db_session)
    first = audit_anchors.make_anchor(db_session)
    assert audit_anchors.make_anchor(db_session) == first  # nothing new: the same anchor again
    audit.record(db_session, "user:3", "case.read", CASE, {"via": "page"})
    second = audit_anchors.make_anchor(db_session)
    db_session.commit()
    assert (second.epoch, second.events) == (2, 4)
    assert db_session.scalar(select(func.count()).where(AuditEvent.epoch.is_(None))) == 0
    assert audit.verify(db_session, [first, second]) == []
    _tamper(db_session, "DELETE FROM audit_events WHERE id = 4")  # written after the first anchor
    problems = audit.verify(db_session, [first, second])
    assert len(problems) == 2 and all("anchor of epoch 2" in p and "missing" in p for p in problems)


def test_an_altered_or_foreign_anchor_is_refused(db_session):
    _three(db_session)
    anchor = audit_anchors.make_anchor(db_session)
    forged = audit_anchors.SealAnchor(anchor.epoch, 2, anchor.digest, anchor.taken_at, anchor.signature)
    foreign = audit_anchors.SealAnchor(anchor.epoch, anchor.events, anchor.digest, anchor.taken_at, "0" * 64)
    for bad in (forged, foreign):
        problems = audit.verify(db_session, [bad])
        assert len(problems) == 1 and "signature does not match" in problems[0]
    for malformed in ("3 abc 2026-01-01T00:00:00Z def", "nrm-audit-anchor v2 x 3 d t s"):
        with pytest.raises(ValueError):
            audit_anchors.parse_anchor(malformed)


def test_an_altered_stored_anchor_is_reported_and_not_built_on(db_session):
    _three(db_session)
    audit_anchors.make_anchor(db_session)
    db_session.commit()
    _tamper(db_session, update(AuditAnchor).values(events=2))
    problems = audit.verify(db_session)
    assert len(problems) == 1 and "signature does not match" in problems[0]
    audit.record(db_session, "user:3", "case.read", CASE)
    with pytest.raises(audit_anchors.AnchorAltered):
        audit_anchors.make_anchor(db_session)


def test_an_anchor_line_of_the_single_chain_trail_still_verifies(db_session):
    """Lines printed before migration 0013 (``nrm-audit-anchor ID HASH TIME SIGNATURE``)."""
    legacy = _legacy(db_session, (audit.PLAIN, audit.KEYED))
    db_session.commit()
    key, head = audit.session_key(db_session), legacy[-1]
    taken_at = "2026-11-01T00:00:00Z"
    line = (f"nrm-audit-anchor {head.id} {head.hash} {taken_at} "
            f"{audit.mac(key, f'nrm-audit-anchor|{head.id}|{head.hash}|{taken_at}')}")
    assert audit.verify(db_session, [audit_anchors.parse_anchor(line)]) == []
    _tamper(db_session, f"DELETE FROM audit_events WHERE id = {head.id}")
    problems = audit.verify(db_session, [audit_anchors.parse_anchor(line)])
    assert len(problems) == 1 and "truncated" in problems[0]


def test_cli_anchor_then_verify_detects_the_deleted_latest_event(app, cli_runner, tmp_path):
    with app.app_context(), db.get_db(app).transaction() as session:
        _three(session)
    anchored = cli_runner.invoke(args=["audit", "anchor"])
    assert anchored.exit_code == 0
    line = anchored.output.strip()
    assert line.startswith(audit_anchors.ANCHOR_PREFIX + " v2 1 3 ")
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# kept off the database server\n{line}\n", encoding="utf-8")
    intact = cli_runner.invoke(args=["audit", "verify", "--anchor-file", str(anchors)])
    assert intact.exit_code == 0 and "reaches all 1 anchor(s)" in intact.output
    with app.app_context(), db.get_db(app).transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = 3"))
    assert cli_runner.invoke(args=["audit", "verify"]).exit_code == 1  # the stored anchor
    with app.app_context(), db.get_db(app).transaction() as session:
        session.execute(delete(AuditAnchor))
        session.execute(update(AuditEvent).values(epoch=None))
    assert cli_runner.invoke(args=["audit", "verify"]).exit_code == 0
    truncated = cli_runner.invoke(args=["audit", "verify", "--anchor", line])
    assert truncated.exit_code == 1 and "truncated" in truncated.output


def test_jobs_run_anchors_the_trail_and_prints_the_line(app, cli_runner):
    assert "audit anchor: none" in cli_runner.invoke(args=["jobs", "run"]).output
    with app.app_context(), db.get_db(app).transaction() as session:
        _three(session)
    result = cli_runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0
    line = next(row for row in result.output.splitlines() if row.startswith("audit anchor: "))
    anchor = audit_anchors.parse_anchor(line.removeprefix("audit anchor: "))
    assert (anchor.epoch, anchor.events) == (1, 3)
    assert cli_runner.invoke(args=["audit", "verify", "--anchor", anchor.line()]).exit_code == 0


def test_an_event_appended_at_a_stale_head_goes_after_the_event_that_took_its_place(db_session):
    """Claim-next reads its case's chain head before it holds the chain's lock; if another event
    took that place meanwhile, its event is written after that one instead of forking or failing."""
    start = audit.chain_start(db_session)
    stale = audit.head_of(db_session.connection(), CASE)
    assert stale == audit.Head(1, start)
    audit.record(db_session, "user:2", "case.read", CASE, {"via": "page"})  # takes seq 1 meanwhile
    audit.append(db_session.connection(), audit.session_key(db_session), stale, "user:1", "case.claimed", CASE,
                 {"renewed": False}, utcnow())
    db_session.commit()
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.chain == CASE).order_by(AuditEvent.seq)).all()
    assert [(e.seq, e.action) for e in events] == [(1, "case.read"), (2, "case.claimed")]
    assert events[0].prev_hash == start and events[1].prev_hash == events[0].hash
    assert audit.verify(db_session) == []
