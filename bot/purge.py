"""``nrm purge``: delete what must not be kept (DESIGN.md §5 "abandoned drafts expire").

- Drafts (any channel) not touched for ``DRAFT_EXPIRY_DAYS`` days, with the stored replies of their
  messages. The SMS channel also deletes an expired draft as soon as its sender writes again.
- Stored replies (``inbound_messages`` of SMS, ``chat_replies`` of web chat) older than
  :data:`REPLY_RETENTION` that no longer belong to a draft: they exist only to answer a retry
  (Twilio's, or the chat page's after a lost response), which comes within minutes, and a reply can
  quote answers (a review summary) of a referral that has since been submitted. SMS tombstones
  (the MessageSids of a draft deleted by the quick exit, without text) go the same way.
- Web chat transcripts (``chat_messages``, with the replies a draft's turns keep there for a
  retry) of conversations that are no longer web chat drafts (sent or discarded elsewhere, e.g.
  after a move to SMS, whose web chat messages are then refused): a transcript is kept only to
  show a draft again in the web chat.
- Wrong resume codes older than ``RESUME_CODE_FAILURE_WINDOW_MINUTES``: they no longer count
  towards the throttle of ``bot.resume_codes``.

Safe to run at any time and as often as wanted (e.g. hourly from cron or ``jobs run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from backend.config import INT_DEFAULTS
from backend.db import get_db, utcnow
from backend.models import ChatMessage, ChatReply, Conversation, InboundMessage
from bot import resume_codes

REPLY_RETENTION = timedelta(days=1)
DEFAULT_FAILURE_WINDOW = timedelta(minutes=INT_DEFAULTS["RESUME_CODE_FAILURE_WINDOW_MINUTES"])


@dataclass(frozen=True)
class Purged:
    drafts: int
    replies: int
    failures: int = 0


def purge(session: Session, expiry_days: int, now: datetime | None = None,
          failure_window: timedelta = DEFAULT_FAILURE_WINDOW) -> Purged:
    """Delete expired drafts, stale stored replies and resume code failures older than
    ``failure_window``, in the caller's transaction."""
    now = now or utcnow()
    expired = select(Conversation.id).where(
        Conversation.status == "draft", Conversation.updated_at < now - timedelta(days=expiry_days)
    )
    ids = list(session.scalars(expired))
    replies = 0
    if ids:
        replies += session.execute(
            delete(InboundMessage).where(InboundMessage.conversation_id.in_(ids))).rowcount or 0
        session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    live_drafts = select(Conversation.id).where(Conversation.status == "draft")
    replies += session.execute(
        delete(InboundMessage)
        .where(InboundMessage.received_at < now - REPLY_RETENTION)
        .where(or_(InboundMessage.conversation_id.is_(None),
                   InboundMessage.conversation_id.not_in(live_drafts)))
    ).rowcount or 0
    replies += session.execute(
        delete(ChatReply)
        .where(ChatReply.received_at < now - REPLY_RETENTION)
        .where(ChatReply.conversation_id.not_in(live_drafts))
    ).rowcount or 0
    web_drafts = select(Conversation.id).where(Conversation.status == "draft", Conversation.channel == "web")
    session.execute(delete(ChatMessage).where(ChatMessage.conversation_id.not_in(web_drafts)))
    failures = resume_codes.purge_failures(session, failure_window, now)
    return Purged(drafts=len(ids), replies=replies, failures=failures)


def run_purge(app: Flask) -> str:
    """The purge as a job of ``nrm jobs run`` (and of ``nrm purge``): one summary line."""
    with get_db(app).transaction() as session:
        purged = purge(session, app.config["DRAFT_EXPIRY_DAYS"], failure_window=timedelta(
            minutes=app.config["RESUME_CODE_FAILURE_WINDOW_MINUTES"]))
    return (f"purged {purged.drafts} expired draft(s), {purged.replies} stored repl(ies) and "
            f"{purged.failures} old wrong resume code(s)")


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete drafts older than DRAFT_EXPIRY_DAYS, stale stored replies and old wrong resume codes."""
    click.echo(run_purge(current_app))
