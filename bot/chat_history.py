"""The transcript of a web chat draft (``chat_messages``), so that its whole history survives a
reload and every message keeps the time it was sent.

Only the web chat writes it: what the operator sent and what the assistant answered, as shown.
It holds answers, so the text is encrypted, and it goes with the draft: deleted when the draft is
sent or discarded (the reference is all a sent conversation shows), and with the conversation row
(quick exit, expiry) through the foreign key.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from backend import cursor_statements
from backend.db import utcnow
from backend.models import ChatMessage, Conversation
from bot.i18n import translator
from flows.commands import recognise

_INSERT = insert(ChatMessage.__table__)
"""Lines of the transcript (built once)."""

_LINE_COLUMNS = ("conversation_id", "sender", "at", "text")
"""What :func:`lines_of` gives of each line (every column but the id: see ``bot.engine.write``)."""

OPERATOR = "operator"
ASSISTANT = "assistant"


def record(db: Session, conversation_id: str, lines: Iterable[tuple[str, str]]) -> None:
    """Append ``(sender, text)`` lines, at the same moment, in order: one INSERT in the caller's
    transaction (a turn and its transcript are written together or not at all, and the turn stays
    one transaction of a few statements: tests/bot/test_turn_cost.py)."""
    insert_rows(db.connection(), lines_of(conversation_id, lines)[1])


def insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the rows of :func:`lines_of` as one multi-row INSERT, in their order, run on the
    DBAPI cursor (``backend.cursor_statements``): an executemany through ``Connection.execute``
    cost a web chat turn more than its UPDATE and its stored reply together (profiled, issue 14)."""
    if rows:
        params = {f"{name}_{number}": value for number, row in enumerate(rows) for name, value in row.items()}
        cursor_statements.run(connection, _insert_of(len(rows)), params)


@lru_cache(maxsize=32)
def _insert_of(count: int) -> Insert:
    """The INSERT of ``count`` lines, ``VALUES`` in their order, as bound parameters
    ``<column>_<number>`` of the columns' types (built and compiled once per count)."""
    columns = ChatMessage.__table__.c
    return insert(ChatMessage.__table__).values(
        [{name: bindparam(f"{name}_{number}", type_=columns[name].type) for name in _LINE_COLUMNS}
         for number in range(count)])


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
