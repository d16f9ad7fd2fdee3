"""The transcript of a web chat draft (``chat_messages``), so that its whole history survives a
reload and every message keeps the time it was sent.

Only the web chat writes it: what the operator sent and what the assistant answered, as shown.
It holds answers, so the text is encrypted, and it goes with the draft: deleted when the draft is
sent or discarded (the reference is all a sent conversation shows), and with the conversation row
(quick exit, expiry) through the foreign key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Insert, delete, insert, select
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import ChatMessage, Conversation
from bot.i18n import translator
from flows.commands import recognise

_INSERT = insert(ChatMessage.__table__)
"""Lines of the transcript (built once)."""

OPERATOR = "operator"
ASSISTANT = "assistant"


def record(db: Session, conversation_id: str, lines: Iterable[tuple[str, str]]) -> None:
    """Append ``(sender, text)`` lines, at the same moment, in order: one INSERT in the caller's
    transaction (a turn and its transcript are written together or not at all, and the turn stays
    one transaction of a few statements: tests/bot/test_turn_cost.py)."""
    statement, rows = lines_of(conversation_id, lines)
    if rows:  # Core, on the connection: the ORM's bulk INSERT cost more than the rows themselves
        db.connection().execute(statement, rows)


def lines_of(conversation_id: str, lines: Iterable[tuple[str, str]]) -> tuple[Insert, list[dict[str, Any]]]:
    """The INSERT of ``(sender, text)`` lines and its rows (``bot.engine.write`` adds them with
    the draft's own write: on PostgreSQL in the draft's own statement, in this order)."""
    now = utcnow()
    return _INSERT, [{"conversation_id": conversation_id, "sender": sender, "at": now, "text": {"text": text}}
                     for sender, text in lines]


def entries(db: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The transcript, oldest first: ``{"sender", "text", "at"}`` (``at`` in ISO 8601, UTC)."""
    rows = db.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
                      .order_by(ChatMessage.id))
    return [{"sender": row.sender, "text": row.text["text"], "at": row.at.isoformat()} for row in rows]


def forget(db: Session, conversation_id: str) -> None:
    """Delete the transcript (the draft was sent or discarded)."""
    db.execute(delete(ChatMessage).where(ChatMessage.conversation_id == conversation_id))


def asked(conversation: Conversation) -> tuple[str, bool]:
    """What a draft is waiting for before a message: its current question, and whether a
    sub-question (a pick, a YES/NO, the language list) is pending."""
    state = conversation.state or {}
    return str(state.get("current") or ""), state.get("pending") is not None


def refused(conversation: Conversation, text: str, before: tuple[str, bool], answer: dict[str, Any]) -> bool:
    """Whether the dialogue refused ``text`` as the answer to the question it was asking: not a
    command, nothing pending before or after, and the same question asked again after a message
    (the reason). The page shows that message as the GOV.UK error message of the field."""
    question = answer.get("question") or {}
    current, pending = before
    language = conversation.language
    return (not pending and (conversation.state or {}).get("pending") is None
            and question.get("id") == current and question.get("kind") != "confirm"
            and len(answer.get("messages") or []) >= 2
            and recognise(text, translator(language), language) is None)


def after_turn(conversation: Conversation, text: str, shown: str, before: tuple[str, bool],
               answer: dict[str, Any]) -> tuple[Insert, list[dict[str, Any]]] | None:
    """After a message to a web chat conversation: say in ``answer["refused"]`` whether the
    answer was refused (:func:`refused`), and give the turn's lines for the draft's transcript
    (written with the draft by ``bot.engine.write``); None once the draft is sent or discarded,
    when the caller :func:`forget` s the transcript instead."""
    if conversation.status != "draft":
        answer["refused"] = False
        return None
    answer["refused"] = refused(conversation, text, before, answer)
    return lines_of(conversation.id, [(OPERATOR, shown), *((ASSISTANT, line) for line in answer["messages"])])
