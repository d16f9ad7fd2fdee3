"""The transcript of a web chat draft (``chat_messages``), so that its whole history survives a
reload and every message keeps the time it was sent.

Only the web chat writes it: what the operator sent and what the assistant answered, as shown.
It holds answers, so the text is encrypted, and it goes with the draft: deleted when the draft is
sent or discarded (the reference is all a sent conversation shows), and with the conversation row
(quick exit, expiry) through the foreign key.

A row is one turn: a line by its ``sender`` (``text["text"]``) and the assistant's lines shown
after it (``text["then"]``), all at the same moment, sealed once: a row per line cost a web chat
turn a seal, and on PostgreSQL a longer statement, per line (issue 14). A message sent with a
``client_message_id`` also keeps its answer for a retry there (``text["reply"]``, found by the
row's ``client_message_id``), rather than in a ``chat_replies`` row of its own: on SQLite a
statement and a seal fewer a turn. Rows written before (one line each, no ``then``) read the
same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from backend import cursor_statements
from backend.db import utcnow
from backend.models import ChatMessage, Conversation
from bot.i18n import translator
from flows.commands import recognise

_TABLE = ChatMessage.__table__
INSERT = insert(_TABLE)
"""Where a turn's row goes (:func:`turn`: every column but the id, as ``bot.engine.write`` needs)."""
_INSERT_ROW = INSERT.values({name: bindparam(name, type_=_TABLE.c[name].type)
                             for name in ("conversation_id", "sender", "at", "text", "client_message_id")})

OPERATOR = "operator"
ASSISTANT = "assistant"


def record(db: Session, conversation_id: str, messages: list[str]) -> None:
    """Append the assistant's ``messages`` (a draft opened or taken over): one INSERT in the
    caller's transaction (a turn and its transcript are written together or not at all)."""
    if messages:
        cursor_statements.run(db.connection(), _INSERT_ROW, turn(conversation_id, ASSISTANT, messages[0], messages[1:]))


def turn(conversation_id: str, sender: str, text: str, then: list[str], client_id: str | None = None,
         reply: dict[str, Any] | None = None) -> dict[str, Any]:
    """The row of a turn: ``text`` by ``sender``, then the assistant's lines ``then``, now; with
    ``client_id``, the ``reply`` answered to it, for a retry (:func:`stored_reply`)."""
    sealed: dict[str, Any] = {"text": text, "then": list(then)}
    if client_id is not None:
        sealed["reply"] = reply
    return {"conversation_id": conversation_id, "sender": sender, "at": utcnow(), "text": sealed,
            "client_message_id": client_id}


def stored_reply(text: dict[str, Any] | None) -> dict[str, Any] | None:
    """The reply kept in a turn's row (its ``text``, None when there is no row)."""
    return text.get("reply") if text is not None else None


def entries(db: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The transcript, line by line, oldest first: ``{"sender", "text", "at"}`` (``at`` in ISO
    8601, UTC)."""
    rows = db.execute(select(ChatMessage.sender, ChatMessage.text, ChatMessage.at)
                      .where(ChatMessage.conversation_id == conversation_id).order_by(ChatMessage.id))
    lines = []
    for sender, text, at in rows:
        stamp = at.isoformat()
        lines.append({"sender": sender, "text": text["text"], "at": stamp})
        lines.extend({"sender": ASSISTANT, "text": line, "at": stamp} for line in text.get("then", ()))
    return lines


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
               answer: dict[str, Any], client_id: str | None) -> tuple[Insert, dict[str, Any]] | None:
    """After a message to a web chat conversation: say in ``answer["refused"]`` whether the
    answer was refused (:func:`refused`), and give the turn's row for the draft's transcript, with
    ``answer`` kept for a retry of ``client_id`` (written with the draft by ``bot.engine.write``);
    None once the draft is sent or discarded, when the caller :func:`forget` s the transcript
    instead."""
    if conversation.status != "draft":
        answer["refused"] = False
        return None
    answer["refused"] = refused(conversation, text, before, answer)
    return INSERT, turn(conversation.id, OPERATOR, shown, answer["messages"], client_id, answer)
