"""Runs the pure dialogue for a channel: load the conversation, lock it, step it, save it.

Every message is one database transaction: the conversation row is locked, the dialogue applied,
and the new state written back; when the user confirms, ``backend.intake`` stores the case in the
same transaction that marks the conversation submitted. So a crash between any two messages loses
nothing, and a referral is either fully submitted or not at all. (An ordinary answer on
PostgreSQL is read without the lock and written in one statement checking the draft's version:
:func:`on_plain_connection`.)

A channel that already holds the locked row (loaded with its idempotency record in one statement)
passes it to :func:`step`, so the stored state is read and decrypted once per message and written
(encrypted) once, as a shallow dict of the dialogue's state rather than a deep copy.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass, fields
from functools import lru_cache
from datetime import date
from typing import Any, Callable, Iterable, Mapping, TypeVar

from sqlalchemy import Connection, Engine, Insert, Select, bindparam, func, inspect, literal_column, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from backend import cursor_statements, intake
from backend.db import get_for_update, utcnow
from backend.models import Case, Conversation
from bot.i18n import translator
from bot.opening import first_turn
from backend.loaded import persistent
from flows import dialogue
from flows.dialogue import Turn
from flows.i18n import tr
from flows.question import N_
from flows.state import DialogueState


log = logging.getLogger(__name__)

_STATE_FIELDS = tuple(field.name for field in fields(DialogueState))
_TABLE = Conversation.__table__
COLUMNS = tuple(_TABLE.c)
"""Every column of a conversation, for a Core read made into the object by ``backend.loaded``."""
_DRAFTS = (select(*COLUMNS)
           .where(_TABLE.c.channel == bindparam("channel"), _TABLE.c.address == bindparam("address"),
                  _TABLE.c.status == "draft")
           .order_by(_TABLE.c.id).with_for_update())

_WRITTEN = ("state", "language", "status", "updated_at")
"""What a message changes in a loaded draft (:func:`write`)."""
_WRITTEN_SET = frozenset(_WRITTEN)
_WRITE = (update(_TABLE)
          .where(_TABLE.c.id == bindparam("key"), _TABLE.c.version == bindparam("seen"))
          .values({**{name: bindparam(name) for name in _WRITTEN}, "version": bindparam("next")}))

_WRITTEN_CTE = _WRITE.returning(_TABLE.c.id).cte("written")

NOT_SENT = N_("The referral could not be sent. Reply REVIEW to check your answers, or HELP.")


class ConversationNotFound(LookupError):
    """No draft with that id belongs to this sender."""


class NeedsSession(Exception):
    """A message on a plain connection (:func:`on_plain_connection`) needs more than a step of its
    draft: the channel runs it again, from the top, on the ORM session."""


T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What a channel shows after one message (the web chat API returns exactly this)."""

    conversation: str
    messages: list[str]
    question: dict[str, Any] | None
    done: bool
    reference: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "messages": self.messages,
            "question": self.question,
            "done": self.done,
            "reference": self.reference,
        }


def begin(
    session: Session,
    channel: str,
    address: str,
    registration: dict[str, Any] | None = None,
    language: str | None = "en",
) -> Reply:
    """Open a new draft for a sender and ask the first question (``language=None``: first ask
    which language, as a numbered list)."""
    return open_draft(session, channel, address, first_turn(registration, language))


def open_draft(session: Session, channel: str, address: str, turn: Turn) -> Reply:
    """Store a new draft for a sender at ``turn`` (``bot.opening.first_turn``, which a channel may
    show before its database is open)."""
    conversation = Conversation(
        id=str(uuid.uuid4()),
        channel=channel,
        address=address,
        status="draft",
        language=turn.state.language,
        state=state_dict(turn.state),
    )
    session.add(conversation)
    session.flush()
    return _reply(conversation, turn)


def latest_draft(session: Session, channel: str, address: str) -> Conversation | None:
    """The sender's most recent unfinished draft, if any (to offer resuming it)."""
    statement = (
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.address == address)
        .where(Conversation.status == "draft")
        .order_by(Conversation.updated_at.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def drafts(session: Session, channel: str, address: str) -> list[Conversation]:
    """All of a sender's unfinished drafts on a channel, locked until the transaction ends
    (``SELECT ... FOR UPDATE``).

    Locked before anything reads them, so a web chat takeover of the same draft
    (``resume_codes.redeem`` locks it too) is applied either wholly before this message (the
    draft is then no longer the sender's and is not returned) or wholly after it.
    """
    session.flush()  # what a query through the session would flush first (usually nothing)
    return loaded_drafts(session, draft_rows(session.connection(), channel, address))


def draft_rows(connection: Connection, channel: str, address: str) -> list[dict[str, Any]]:
    """The rows (:data:`COLUMNS` by key) of :func:`drafts`, locked, on a plain connection."""
    return cursor_statements.run(connection, _DRAFTS, {"channel": channel, "address": address}).mappings()


def loaded_drafts(session: Session, rows: Iterable[Mapping[str, Any]]) -> list[Conversation]:
    """The drafts of rows holding :data:`COLUMNS` (by key), read in this transaction under a lock
    (:func:`drafts`, or a channel's own statement that reads them with something else)."""
    return [persistent(session, Conversation, row) for row in rows]


def receive(
    session: Session,
    conversation_id: str,
    address: str,
    text: str,
    actor: str,
    today: date | None = None,
) -> Reply:
    """Apply one message from ``address`` to its draft, under a row lock.

    ``actor`` names the sender in the audit trail without personal data (``user:7``,
    ``responder:3``): the trail is stored in clear, so never a phone number.
    """
    conversation = get_for_update(session, Conversation, conversation_id)
    if conversation is None or conversation.address != address:
        raise ConversationNotFound(conversation_id)
    return step(session, conversation, text, actor, today)


def step(session: Session, conversation: Conversation, text: str, actor: str,
         today: date | None = None) -> Reply:
    """Apply one message to a conversation the caller has loaded and locked in this transaction
    (``backend.db.get_for_update`` or a ``FOR UPDATE`` query of its own)."""
    if conversation.status != "draft":
        return finished(session, conversation)
    turn = advance(conversation, text, today)
    if turn.submission is not None:
        t = translator(DialogueState.from_dict(conversation.state or {}).language)  # as before the step
        try:
            case = intake.submit(session, turn.submission, conversation.id, actor=actor)
        except intake.IntakeError as error:
            # The draft is left exactly as it was (still at the summary): nothing typed is lost.
            fields = sorted({problem.split(":", 1)[0] for problem in error.errors})  # never the values
            log.error("referral not accepted by intake (%s) at %s", error.code, ", ".join(fields))
            summary = dialogue.repeat(turn.state, t).question  # still the question: kind confirm
            return Reply(conversation.id, [tr(t, NOT_SENT)], summary.as_json() if summary else None, False, None)
        turn = dialogue.submitted(turn.state, case.reference, t)
        return _reply(conversation, turn)
    return settle(conversation, turn)


def advance(conversation: Conversation, text: str, today: date | None = None) -> Turn:
    """The dialogue's answer to ``text`` on a draft's stored state (nothing stored yet: a turn
    with a submission goes to ``intake``, any other to :func:`settle`)."""
    state = DialogueState.from_dict(conversation.state or {})
    return dialogue.handle(state, text, translator(state.language), today or date.today())


def plain_step(conversation: Conversation, text: str) -> Reply:
    """:func:`step` of a draft outside any session (``backend.loaded.detached``): a submission or
    a cancel needs one (:class:`NeedsSession`)."""
    turn = advance(conversation, text)
    if turn.submission is not None or turn.done:
        raise NeedsSession
    return settle(conversation, turn)


def on_plain_connection(db_engine: Engine, run: Callable[[Connection], T]) -> T | None:
    """``run`` on a plain ``Connection`` of ``db_engine`` in one transaction committed here; None,
    having changed nothing (rolled back), when it needs the ORM session: :class:`NeedsSession`, or
    a concurrent copy of the message (``IntegrityError`` on its stored reply, ``StaleDataError``
    on its draft), which the session's run, from the top, answers.

    An ordinary message mid-referral needs nothing else, and for it the ORM session's begin,
    commit and close and the bookkeeping of its connection cost a PostgreSQL turn about a fifth
    of its CPU (issue 14): the channels (``bot.sms``, ``bot.webchat``) try this first.

    On PostgreSQL the connection is in autocommit, and ``run`` reads without a lock: its one write
    is :func:`write_loaded`'s single statement, which changes nothing unless the draft's version
    is still the one read (a stale copy raises ``StaleDataError`` and is run again under the lock).
    Without ``BEGIN``, ``COMMIT`` and the row lock a turn is two round trips instead of four, and
    the database's CPU for it a fifth (web chat) to a third (SMS) less (issue 14). SQLite's
    ``BEGIN IMMEDIATE`` holds the database's write lock for the whole transaction anyway.

    A process runs one plain turn at a time (:data:`_PLAIN_TURNS`); other processes (workers,
    machines) run theirs beside it, as the database allows."""
    with _PLAIN_TURNS, db_engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            result = run(connection)
        except (NeedsSession, IntegrityError, StaleDataError):
            connection.rollback()
            return None
        connection.commit()
        return result


_PLAIN_TURNS = threading.Lock()
"""Held by :func:`on_plain_connection`'s turn. CPython runs one thread at a time, and a turn gives
that up at each database call: with several turns in flight in one process (a gunicorn gthread
worker's threads), each waited to get it back while the others ran a slice of theirs, with twice
the context switches of one thread and colder caches (``python -m bench.threads``). Waiting here
instead, for a turn of about a millisecond, they run one after the other: 18-21% more turns a
second on gthread with PostgreSQL, 3-8% with SQLite (issue 14), whose write lock already ran them
one at a time from ``BEGIN`` to ``COMMIT``. No deadlock: what a plain turn waits for while it
holds this (a pooled connection, the database's locks) is never held by a request waiting for it."""


def _new_lock_in_child() -> None:
    """A forked child starts with the lock free: a thread of the parent holding it at the fork
    would never let it go in the child."""
    global _PLAIN_TURNS
    _PLAIN_TURNS = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


def settle(conversation: Conversation, turn: Turn) -> Reply:
    """Keep a turn without a submission in its draft (cancelled when the dialogue is done)."""
    if turn.done:
        conversation.status = "cancelled"
        conversation.state = {}
    else:
        save(conversation, turn.state)
        conversation.language = turn.state.language
    return _reply(conversation, turn)


def state_dict(state: DialogueState) -> dict[str, Any]:
    """The state as the stored JSON document: a shallow dict (it is encrypted as JSON when
    flushed, so the deep copy of ``DialogueState.to_dict`` buys nothing here)."""
    return {name: getattr(state, name) for name in _STATE_FIELDS}


def save(conversation: Conversation, state: DialogueState) -> None:
    """Store ``state`` as the conversation's state, always written at the next flush.

    ``DialogueState.from_dict`` shares the loaded document's nested dicts, which the dialogue
    changes in place; the loaded value may then compare equal to the new one, so the attribute is
    flagged as changed rather than left to SQLAlchemy's comparison.
    """
    conversation.state = state_dict(state)
    flag_modified(conversation, "state")


Then = tuple[Insert, dict[str, Any] | list[dict[str, Any]]]
"""Rows a turn adds with its draft (its stored reply, its transcript): a Core INSERT of a table and
the row, or rows, with every column given (no Python-side defaults: see :func:`write`)."""


def write(session: Session, conversation: Conversation, *then: Then) -> None:
    """Write what this message changed in ``conversation`` now, and the rows of ``then`` after it,
    then flush anything else pending.

    The channels call it before answering. A loaded draft whose changes are only
    :data:`_WRITTEN` is written by :func:`write_loaded`, and it is then marked as stored: the
    ORM's unit of work cost more than the statement (profiled: a fifth of an SMS turn's CPU).
    Anything else (a new draft, other attributes) is left to the ORM's flush, then ``then`` is
    inserted.
    """
    state = inspect(conversation)
    if state.persistent and writable(conversation):
        # On the connection: Session.execute would autoflush the very changes written here.
        write_loaded(session.connection(), conversation, *then)
        then = ()
        # What the ORM does to an object it has just flushed: the written values become its loaded
        # state and nothing pending is left, so neither the flush below nor the commit's goes
        # through the unit of work for it again.
        state._commit_all(state.dict, session.identity_map)  # noqa: SLF001
    if session.new or session.deleted or session.dirty:
        session.flush()
    for statement, rows in then:
        if isinstance(rows, dict):
            cursor_statements.run(session.connection(), _row_insert(statement, tuple(rows)), rows)
        elif rows:  # several rows: one executemany
            session.connection().execute(statement, rows)


def writable(conversation: Conversation) -> bool:
    """Has this loaded draft changed, and only in what :func:`write_loaded` writes?"""
    changed = inspect(conversation).committed_state
    return bool(changed) and set(changed) <= _WRITTEN_SET


def write_loaded(connection: Connection, conversation: Conversation, *then: Then) -> None:
    """Write a loaded draft's changes (:func:`writable`) and then the rows of ``then``.

    One Core UPDATE with the row-version check the ORM would make (a stale copy raises
    ``StaleDataError`` just the same); the written values become the object's own. On PostgreSQL
    the UPDATE and the INSERTs of ``then`` are one statement (data-modifying CTEs: one round trip,
    where each statement cost a turn about a tenth of its CPU) whose INSERTs take their rows from
    the UPDATE's ``RETURNING``: a stale copy inserts nothing either, in autocommit too
    (:func:`on_plain_connection`).
    """
    changed = inspect(conversation).committed_state
    values = {name: getattr(conversation, name) for name in _WRITTEN}
    if "updated_at" not in changed:
        values["updated_at"] = utcnow()  # the column's onupdate, as the ORM would
    seen = conversation.version
    params = {"key": conversation.id, "seen": seen, "next": seen + 1, **values}
    rows = [(statement, _listed(row)) for statement, row in then if row]
    if rows and connection.dialect.name == "postgresql":
        shapes = tuple((statement, tuple(listed[0]), len(listed)) for statement, listed in rows)
        params.update({f"then{index}_{number}_{name}": value
                       for index, (_statement, listed) in enumerate(rows)
                       for number, row in enumerate(listed) for name, value in row.items()})
        written = cursor_statements.run(connection, _fused(shapes), params).scalar_one()
        rows = []
    else:
        written = cursor_statements.run(connection, _WRITE, params).rowcount
    if written != 1:
        raise StaleDataError("conversation changed since it was loaded")
    inspect(conversation).dict.update(values, version=seen + 1)
    for statement, listed in rows:
        if len(listed) == 1:
            cursor_statements.run(connection, _row_insert(statement, tuple(listed[0])), listed[0])
        else:  # several rows: one executemany
            connection.execute(statement, listed)


@lru_cache(maxsize=16)
def _row_insert(statement: Insert, names: tuple[str, ...]) -> Insert:
    """``statement`` inserting one row of these columns, as bound parameters of their types
    (compiled once per shape: ``backend.cursor_statements``)."""
    columns = statement.table.c  # type: ignore[attr-defined]
    return statement.values({name: bindparam(name, type_=columns[name].type) for name in names})


def _listed(rows: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rows] if isinstance(rows, dict) else rows


@lru_cache(maxsize=64)
def _fused(shapes: tuple[tuple[Insert, tuple[str, ...], int], ...]) -> Select[tuple[int]]:
    """The draft's UPDATE and the INSERTs of :data:`Then` (each a table, its columns and how many
    rows) as one PostgreSQL statement, which answers how many drafts it updated (0: a stale copy,
    and then nothing is inserted: each INSERT selects its rows joined to the UPDATE's one row).
    Built once per shape, with bound parameters, so SQLAlchemy compiles it once. Several rows are
    inserted in their order, explicitly (``INSERT ... SELECT ... ORDER BY`` their position), so
    their ids follow it: a transcript's lines read back by id come out as they were given. An
    INSERT inside a CTE gets no Python-side column defaults, hence every column in :data:`Then`."""
    statement = select(func.count()).select_from(_WRITTEN_CTE)
    for index, (insert_statement, names, count) in enumerate(shapes):
        columns = insert_statement.table.c  # type: ignore[attr-defined]

        def row(number: int) -> dict[str, Any]:
            return {name: bindparam(f"then{index}_{number}_{name}", type_=columns[name].type) for name in names}

        if count == 1:
            values = select(*(value.label(name) for name, value in row(0).items())).select_from(_WRITTEN_CTE)
        else:
            given = union_all(*(select(literal_column(str(number)).label("position"),
                                       *(value.label(name) for name, value in row(number).items()))
                                for number in range(count))).subquery("given")
            values = (select(*(given.c[name] for name in names)).select_from(given, _WRITTEN_CTE)
                      .order_by(given.c.position))
        insert = insert_statement.from_select(list(names), values)
        statement = statement.add_cte(insert.cte(f"then_{index}"))
    return statement


def resume(session: Session, conversation: Conversation) -> Reply:
    """Show where a stored draft stands: its current question, asked again."""
    state = DialogueState.from_dict(conversation.state)
    turn = dialogue.repeat(state, translator(state.language))
    return _reply(conversation, turn)


def finished(session: Session, conversation: Conversation) -> Reply:
    """What a submitted or discarded conversation shows, whenever asked: done, and the reference
    of its case (so a lost CONFIRM response can always be got back)."""
    case = session.scalars(select(Case).where(Case.conversation_id == conversation.id)).one_or_none()
    if case is None:
        return Reply(conversation.id, [], None, True, None)
    t = translator(conversation.language)
    sent = dialogue.SENT_DTN if case.series == "DTN" else dialogue.SENT_NRM
    return Reply(conversation.id, [tr(t, sent, reference=case.reference)], None, True, case.reference)


def _reply(conversation: Conversation, turn: Turn) -> Reply:
    question = turn.question.as_json() if turn.question is not None else None
    return Reply(conversation.id, turn.messages, question, turn.done, turn.reference)
