"""Intake: a confirmed referral becomes exactly one case, or nothing is stored at all."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from backend import audit
from backend.intake import IntakeError, submit, validate
from backend.models import AuditEvent, Case, Conversation, ReferenceCounter
from tests.conftest import TINY_SCHEMA, tiny_payload

REFERENCE = re.compile(r"^(NRM|DTN)-\d{4}-\d{6}$")


def _conversation(session, channel="sms", address="+447700900123") -> Conversation:
    conversation = Conversation(channel=channel, address=address, status="draft",
                                state={"answers": {"pv-name-first-name": {"value": "Zbigniew"}}})
    session.add(conversation)
    session.commit()
    return conversation


def _counts(session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count(Case.id))),
            session.scalar(select(func.count(AuditEvent.id))),
            session.scalar(select(func.count()).select_from(ReferenceCounter)))


@pytest.mark.parametrize("route, series, status", [("nrm", "NRM", "awaiting_rg"), ("dtn", "DTN", "dtn_recorded")])
def test_submit_creates_case_and_closes_conversation(db_session, referral_payload, route, series, status):
    payload, schema = referral_payload(route)
    conversation = _conversation(db_session)
    case = submit(db_session, payload, conversation.id, "responder:1", schema=schema)
    db_session.commit()

    assert REFERENCE.match(case.reference) and case.reference.startswith(f"{series}-")
    assert case.series == series and case.route == route and case.status == status
    assert case.payload == payload
    assert case.fr_location == payload["answers"]["fr-location"]
    assert case.organisation == payload["answers"]["user-organisation"]
    assert (case.rg_due_date is not None) == (route == "nrm")

    db_session.expire_all()
    stored = db_session.get(Conversation, conversation.id)
    assert stored.status == "submitted" and stored.submitted_at is not None
    assert stored.state is None
    events = db_session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.case_reference, e.actor) for e in events] == [
        ("referral.submitted" if route == "nrm" else "dtn.recorded", case.reference, "responder:1")]
    assert audit.verify(db_session) == []


def test_rg_due_date_and_priority(db_session):
    submitted = datetime(2026, 12, 23, 10, 0, tzinfo=timezone.utc)
    adult = submit(db_session, tiny_payload(fr_location="scotland"), None, "t", schema=TINY_SCHEMA,
                   now=submitted)
    child = submit(db_session, tiny_payload(age_route="unknown"), None, "t", schema=TINY_SCHEMA, now=submitted)
    assert adult.rg_due_date == date(2027, 1, 5) and not adult.priority
    assert child.rg_due_date == date(2027, 1, 4) and child.priority
    assert adult.reference == "NRM-2026-000001" and child.reference == "NRM-2026-000002"


def test_second_submit_of_a_conversation_is_refused_and_changes_nothing(db_session, referral_payload):
    payload, schema = referral_payload("nrm")
    conversation = _conversation(db_session)
    first = submit(db_session, payload, conversation.id, "responder:1", schema=schema)
    db_session.commit()
    before = _counts(db_session)
    counter = db_session.get(ReferenceCounter, ("NRM", int(first.reference[4:8]))).last

    with pytest.raises(IntakeError) as refused:
        submit(db_session, payload, conversation.id, "responder:1", schema=schema)
    assert refused.value.code == "already_submitted"
    assert "already submitted" in str(refused.value)
    db_session.commit()
    db_session.expire_all()
    assert _counts(db_session) == before
    assert db_session.get(ReferenceCounter, ("NRM", int(first.reference[4:8]))).last == counter


def test_unique_conversation_id_backs_the_check(db_session):
    """Even if the status check were bypassed (a racing writer), the database refuses a 2nd case."""
    conversation = _conversation(db_session)
    submit(db_session, tiny_payload(), conversation.id, "t", schema=TINY_SCHEMA)
    db_session.commit()
    db_session.execute(Conversation.__table__.update().values(status="draft"))  # simulate the race
    db_session.commit()
    db_session.expire_all()
    with pytest.raises(IntakeError) as refused:
        submit(db_session, tiny_payload(), conversation.id, "t", schema=TINY_SCHEMA)
    assert refused.value.code == "already_submitted"


def test_invalid_payload_refused_with_readable_errors_and_nothing_stored(db_session, referral_payload):
    payload, schema = referral_payload("nrm")
    conversation = _conversation(db_session)
    bad = {**payload, "route": "sideways", "answers": {**payload["answers"]}}
    del bad["answers"]["fr-location"]
    with pytest.raises(IntakeError) as refused:
        submit(db_session, bad, conversation.id, "responder:1", schema=schema)
    messages = refused.value.errors
    assert refused.value.code == "invalid"
    assert any(m.startswith("route:") for m in messages)
    assert any("fr-location" in m for m in messages)
    assert all(len(m) < 400 for m in messages)
    db_session.commit()
    assert _counts(db_session) == (0, 0, 0)
    db_session.expire_all()
    assert db_session.get(Conversation, conversation.id).status == "draft"
    assert db_session.get(Conversation, conversation.id).state is not None


def test_validate_messages():
    assert validate(tiny_payload(), TINY_SCHEMA) == []
    assert validate(["not", "an", "object"], TINY_SCHEMA)
    errors = validate(tiny_payload(**{"pv-dob": "1990-02-31", "surprise": "x"}), TINY_SCHEMA)
    assert any(e.startswith("answers.pv-dob:") for e in errors)
    assert any("surprise" in e for e in errors)


def test_unknown_and_cancelled_conversations(db_session):
    with pytest.raises(IntakeError) as unknown:
        submit(db_session, tiny_payload(), "no-such-id", "t", schema=TINY_SCHEMA)
    assert unknown.value.code == "unknown_conversation"
    conversation = _conversation(db_session)
    conversation.status = "cancelled"
    db_session.commit()
    with pytest.raises(IntakeError) as cancelled:
        submit(db_session, tiny_payload(), conversation.id, "t", schema=TINY_SCHEMA)
    assert cancelled.value.code == "cancelled"


def test_real_flows_schema_is_used_by_default(db_session):
    """Without a schema argument intake validates against flows.schema.payload_schema()."""
    with pytest.raises(IntakeError):
        submit(db_session, {"route": "nrm"}, None, "t")


def test_a_person_still_being_exploited_goes_to_the_front_of_the_queue(db_session, referral_payload):
    calm, _ = referral_payload("nrm")
    urgent, _ = referral_payload("nrm")
    answers = urgent["answers"]
    answers["still-in-exploitative-situation"] = "yes"
    del answers["how-why-did-they-leave-the-situation"]
    answers["what-is-keeping-them-in-situation"] = "Debt to the gang master"
    assert not submit(db_session, calm, None, "t").priority
    assert submit(db_session, urgent, None, "t").priority
