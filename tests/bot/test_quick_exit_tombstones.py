"""The quick exit is final: after SAFE, a Twilio retry of an earlier MessageSid of the deleted
draft opens nothing and sends nothing, and what is kept of those messages holds no text."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from backend import db
from backend.db import utcnow
from backend.models import Conversation, InboundMessage
from bot.purge import REPLY_RETENTION, purge
from tests.bot.sms_support import SmsPhone, new_sid, row_counts


def _draft_with_sids(phone: SmsPhone) -> list[str]:
    """A draft past the language list and one answer; the MessageSids it was built from."""
    sids = [new_sid() for _ in range(3)]
    phone.send("hello", sid=sids[0])
    phone.send("1", sid=sids[1])
    phone.send("Ref A", sid=sids[2])
    assert phone.draft() is not None
    return sids


def test_a_retry_of_an_earlier_message_after_the_quick_exit_opens_no_draft_and_sends_nothing(
        phone: SmsPhone) -> None:
    sids = _draft_with_sids(phone)
    assert phone.send("SAFE") == ["OK."]
    assert phone.draft() is None

    for sid in sids:  # Twilio retries each earlier message late (a lost 200, a timeout)
        assert phone.send("hello" if sid == sids[0] else "1", sid=sid) == []
        assert phone.draft() is None
    assert "Choose a language" not in phone.text


def test_quick_exit_tombstones_hold_no_text_and_no_draft(sms_app: Flask, phone: SmsPhone) -> None:
    sids = _draft_with_sids(phone)
    phone.send("SAFE")
    with sms_app.app_context(), db.get_db(sms_app).transaction(readonly=True) as session:
        rows = session.scalars(select(InboundMessage).where(InboundMessage.id.in_(sids))).all()
        assert sorted(row.id for row in rows) == sorted(sids)
        assert all(row.reply is None and row.conversation_id is None for row in rows)
        raw = session.execute(select(func.count()).select_from(InboundMessage)
                              .where(InboundMessage.reply.is_not(None))).scalar_one()
        assert raw == 0
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0
    counts = row_counts(sms_app)
    assert counts["conversations"] == 0 and counts["inbound_messages"] == len(sids)


def test_new_keeps_the_old_drafts_message_ids_so_a_retry_is_not_applied_to_the_new_draft(
        phone: SmsPhone) -> None:
    sids = _draft_with_sids(phone)
    phone.age_draft(utcnow() - timedelta(hours=3))
    phone.send("hi")  # the offer to carry on
    phone.send("NEW")
    fresh = phone.draft()
    assert fresh is not None
    assert phone.send("Ref A", sid=sids[2]) == []
    assert phone.draft().state == fresh.state


def test_tombstones_are_purged_after_the_retry_window(sms_app: Flask, phone: SmsPhone) -> None:
    sids = _draft_with_sids(phone)
    phone.send("SAFE")
    with sms_app.app_context(), db.get_db(sms_app).transaction() as session:
        assert purge(session, expiry_days=30).replies == 0  # still within the window
        session.execute(update(InboundMessage).values(received_at=utcnow() - REPLY_RETENTION
                                                      - timedelta(minutes=1)))
        assert purge(session, expiry_days=30).replies == len(sids)
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
