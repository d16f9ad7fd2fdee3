"""The web chat JSON API (DESIGN.md §3) for signed-in helpline operators.

Each request is one transaction through the same engine as SMS; a conversation is visible only to
the operator who opened it. A caller is either a bearer-token client or the ``/chat`` page with
the operator's session cookie and its CSRF token in ``X-CSRFToken``
(``backend.auth.require_api_user``); anyone else gets 401, other roles 403. A message's bearer
token is checked in the statement that locks its conversation (:func:`_locked`), the ordinary
check answering only when that finds nothing.

Besides the documented keys every reply carries ``language`` (the conversation's language code),
so the page can set ``lang`` and ``dir``. ``question`` is whatever awaits a reply: a question of
the form, the language list, a pending RESTART/DISCARD confirmation (``confirm-restart`` /
``confirm-discard``, kind ``yes_no``) or the summary (``confirm``, kind ``confirm``); it is null only
once the conversation has ended. Also here:

- ``GET /api/chat/conversations?status=draft``: the operator's drafts, latest first (what the page
  resumes after a reload);
- ``POST /api/chat/resume`` ``{"code": "ABCD-2345"}``: take over a draft started by SMS with the
  one-time code its REVIEW showed (``bot.resume_codes``); answers like the other endpoints. After
  too many wrong codes it answers 429 with a ``Retry-After`` header (seconds) and
  ``{"error", "retry_after_minutes", "language"}``, the message in the best language of the
  request's ``Accept-Language`` (English by default).

REVIEW in web chat adds a one-time code for carrying on by SMS ("RESUME ABCD-2345"); a code whose
draft was sent or discarded meanwhile (an SMS CONFIRM that came first) gets 409 with
``reason: "finished"``, and a message to a draft this operator's code moved to SMS gets 409 with
``reason: "moved"``.

Sending is idempotent: ``POST .../messages`` takes ``{"text": ..., "client_message_id": "<uuid>"}``
(recommended; without it a send still works but a retry is applied again). The reply is stored
(encrypted) under the conversation and that id, in the turn's transcript row of a draft
(``bot.chat_history``) or else in ``ChatReply``, so a send retried after a lost
response gets the same reply and is applied once. A submitted conversation always shows its
reference: ``GET .../<id>``, the list with ``?status=submitted`` and any later message answer
``done: true`` with ``reference``.

A text (or conversation id) holding NUL, another control character or a lone surrogate is refused
before the view runs (``backend.request_guards``): 400 ``{"error", "code": "invalid_text",
"language"}``, the draft unchanged, so the operator can correct it and send it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import Connection, Select, String, and_, bindparam, cast, delete, insert, null, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import cursor_statements
from backend.auth import bearer_secret, live_token_of, record_use, require_api_user, token_hash
from backend.crypto import json_bytes
from backend.db import get_db, session, utcnow
from backend.models import ApiToken, Case, ChatMessage, ChatReply, Conversation, User
from bot import chat_history, engine, resume_codes
from bot.i18n import translator
from backend.loaded import detached, persistent
from flows.commands import Command, recognise
from flows.dialogue import MEANT_QUESTION
from flows.languages import CODES

bp = Blueprint("webchat", __name__, url_prefix="/api/chat")
CHANNEL = "web"
ROLE = "operator"
"""Who may use the web chat API."""
MAX_MESSAGE_CHARS = 16000
MAX_CLIENT_ID_CHARS = 64
ATTEMPTS = 3
MOVED_TO_SMS = ("This referral has moved to SMS with its resume code and carries on there; "
                "this message was not applied.")


_CONVERSATIONS = Conversation.__table__
_REPLIES = ChatReply.__table__
_TURNS = ChatMessage.__table__
_TOKENS, _USERS = ApiToken.__table__, User.__table__
_HOLDER_ADDRESS = cursor_statements.sql_constant("user:").concat(cast(_USERS.c.id, String))
"""A web chat conversation's ``address`` for the user of the ``users`` row (:func:`_address`)."""
_STORE_REPLY = insert(ChatReply.__table__)
"""The answer stored under its client message id (a duplicate fails on the unique constraint)."""


@lru_cache(maxsize=8)
def _locked(with_reply: bool, by_token: bool, locked: bool = True) -> Select[Any]:
    """A conversation, locked: its messages are applied one at a time (``locked`` False: as the
    statement sees it, for ``bot.engine.on_plain_connection``'s version-checked write). Built once;
    plain columns, run on the DBAPI cursor by ``backend.cursor_statements`` and made into the
    object by ``backend.loaded`` (profiled, ``Connection.execute`` and the ORM's loading cost
    several times the statement).

    Only a web chat conversation of its operator is found (another's is neither read nor
    locked): of ``address``, or with ``by_token`` of the operator whose live bearer token's hash
    is ``token_hash`` (``backend.auth.live_token_of``), with the token's id and last use. The
    token is then checked in the statement that locks the conversation (a separate read of it was
    an eighth of a chat turn's CPU, issue 14). ``with_reply``: with the reply already stored
    under the client message id ``client_id``, in ``chat_replies`` (``stored``) or in the turn's
    transcript row (``stored_turn``, its text), each None when there is none (:func:`_stored_answer`)."""
    columns = [*engine.COLUMNS, (_REPLIES.c.reply if with_reply else null()).label("stored"),
               (_TURNS.c.text if with_reply else null()).label("stored_turn")]
    source: Any = _CONVERSATIONS
    clauses = [_CONVERSATIONS.c.id == bindparam("conversation_id"),
               _CONVERSATIONS.c.channel == cursor_statements.sql_constant(CHANNEL)]
    if by_token:
        columns += [_TOKENS.c.id.label("token_id"), _TOKENS.c.last_used_at.label("token_last_used_at")]
        source = source.join(_USERS, _CONVERSATIONS.c.address == _HOLDER_ADDRESS).join(_TOKENS, live_token_of(ROLE))
    else:
        clauses.append(_CONVERSATIONS.c.address == bindparam("address"))
    if with_reply:
        for table in (_REPLIES, _TURNS):
            source = source.outerjoin(table, and_(table.c.conversation_id == _CONVERSATIONS.c.id,
                                                  table.c.client_message_id == bindparam("client_id")))
    statement = select(*columns).select_from(source).where(*clauses)
    return statement.with_for_update(of=_CONVERSATIONS) if locked else statement


def _address() -> str:
    return f"user:{g.user.id}"


def _respond(body: Any, status: int = 200) -> Response:
    """``body`` as a JSON response, written by orjson (``backend.crypto.json_bytes``, as the stored
    reply is): Flask's ``jsonify`` sorts keys and escapes through the standard library, a few
    percent of a chat turn's CPU (profiled, issue 14)."""
    return current_app.response_class(json_bytes(body), status=status, mimetype="application/json")


def _error(message: str, status: int, **extra: Any) -> Response:
    return _respond({"error": message, **extra}, status)


def _json(reply: engine.Reply, conversation: Conversation | None) -> dict[str, Any]:
    body = reply.as_json()
    body["language"] = conversation.language if conversation is not None else "en"
    return body


@bp.post("/conversations")
@require_api_user("operator")
def open_conversation() -> Response:
    body = request.get_json(silent=True) or {}
    language = body.get("language", "en") if isinstance(body, dict) else "en"
    if language not in CODES:
        return _error(f"language must be one of {', '.join(CODES)}", 400)
    db = session()
    reply = engine.begin(db, CHANNEL, _address(), language=str(language))
    conversation = db.get(Conversation, reply.conversation)
    chat_history.record(db, reply.conversation, reply.messages)
    db.commit()
    return _respond(_json(reply, conversation), 201)


@bp.get("/conversations")
@require_api_user("operator")
def list_conversations() -> Response:
    """The operator's web chat conversations, latest first (``?status=draft`` by default)."""
    status = request.args.get("status", "draft")
    if status not in ("draft", "submitted", "cancelled"):
        return _error("status must be draft, submitted or cancelled", 400)
    statement = (select(Conversation, Case.reference)
                 .outerjoin(Case, Case.conversation_id == Conversation.id)
                 .where(Conversation.channel == CHANNEL, Conversation.address == _address(),
                        Conversation.status == status)
                 .order_by(Conversation.updated_at.desc()).limit(50))
    rows = session().execute(statement).all()
    return _respond({"conversations": [
        {"conversation": row.id, "status": row.status, "language": row.language,
         "updated_at": row.updated_at.isoformat(), "reference": reference}
        for row, reference in rows]})


@bp.get("/conversations/<conversation_id>")
@require_api_user("operator")
def show_conversation(conversation_id: str) -> Response:
    db = session()
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.address != _address() or conversation.channel != CHANNEL:
        return _error("No such conversation.", 404)
    if conversation.status != "draft":
        return _respond(_json(engine.finished(db, conversation), conversation))
    return _respond(_json(engine.resume(db, conversation), conversation))


@dataclass(frozen=True)
class _Message:
    """A message to a conversation, as sent."""

    text: str
    client_id: str | None
    shown: str
    """The transcript's words for it (a button's label), else ``text``."""


def _message(body: Any) -> _Message | Response:
    """The message of a request's JSON body, or the 400 answering a body that is not one."""
    text = body.get("text") if isinstance(body, dict) else None
    client_id = body.get("client_message_id") if isinstance(body, dict) else None
    shown = body.get("shown") if isinstance(body, dict) else None
    if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
        return _error('Send JSON {"text": "...", "client_message_id": "<uuid>"} with a text of at '
                      'most 16,000 characters.', 400)
    if not isinstance(shown, str) or not shown.strip() or len(shown) > MAX_MESSAGE_CHARS:
        shown = text
    if client_id is not None and (not isinstance(client_id, str)
                                  or not 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS):
        return _error(f"client_message_id must be a string of 1 to {MAX_CLIENT_ID_CHARS} characters "
                      "(a new UUID per message, the same one when the message is sent again).", 400)
    return _Message(text, client_id, shown)


@bp.post("/conversations/<conversation_id>/messages")
def post_message(conversation_id: str) -> Response:
    """One message. A bearer token is checked in the statement that locks the conversation
    (:func:`_locked`), first on a plain connection (:func:`_plain_by_token`), then, for a message
    that needs more, on the ORM session from the top; when that read finds nothing (a token
    refused, another operator's conversation, none at all, a malformed body),
    :func:`_post_checked` answers exactly as every other endpoint does (401, 403, 400, 404, 409)."""
    secret = bearer_secret()
    message = _message(request.get_json(silent=True))
    if secret is not None and isinstance(message, _Message):
        try:
            answered = engine.on_plain_connection(
                get_db().engine, lambda connection: _plain_by_token(connection, conversation_id, message, secret))
            if answered is None:
                answered = _attempts(lambda db: _apply_by_token(db, conversation_id, message, secret))
        except _NotFound:
            answered = None
        if answered is not None:
            return answered
    return _post_checked(conversation_id, message)


@require_api_user(ROLE)
def _post_checked(conversation_id: str, message: _Message | Response) -> Response:
    if not isinstance(message, _Message):
        return message
    answered = _attempts(lambda db: _apply(db, conversation_id, message, _address()))
    assert answered is not None  # (_apply always answers)
    return answered


def _attempts(apply: Callable[[Session], Response | None]) -> Response | None:
    """``apply`` in the request's session, again after a duplicate client message id: applied by a
    request that committed while this one waited for the lock (PostgreSQL read its stored reply
    before the wait), which the next attempt finds."""
    db = session()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return apply(db)
        except IntegrityError:
            db.rollback()
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _params(conversation_id: str, message: _Message) -> dict[str, Any]:
    params = {"conversation_id": conversation_id}
    if message.client_id is not None:
        params["client_id"] = message.client_id
    return params


class _NotFound(Exception):
    """The token's locked read found nothing (nothing read, nothing changed): the ordinary checks
    answer (:func:`_post_checked`)."""


def _by_token(connection: Connection, conversation_id: str, message: _Message, secret: str, *,
              locked: bool = True) -> dict[str, Any]:
    """The conversation's columns and stored reply, read locked (unless ``locked`` is False) for
    the holder of the live operator token ``secret`` (:func:`_locked`), its use recorded as
    ``backend.auth.token_user`` does (in this transaction); :class:`_NotFound` when that read
    finds nothing."""
    now = utcnow()
    rows = cursor_statements.run(connection, _locked(message.client_id is not None, by_token=True, locked=locked),
                                 {**_params(conversation_id, message), "token_hash": token_hash(secret), "now": now})
    if not rows.rows:
        raise _NotFound
    found = rows.mappings()[0]
    record_use(connection, found.pop("token_id"), found.pop("token_last_used_at"), now)
    return found


def _plain_by_token(connection: Connection, conversation_id: str, message: _Message, secret: str) -> Response:
    """:func:`_apply_by_token` on a plain connection (``bot.engine.on_plain_connection``): a
    retry's stored reply, or an ordinary step of a draft written with its transcript's row and
    reply; anything more (a finished draft, a submission or a cancel, REVIEW's resume code) raises
    ``engine.NeedsSession``."""
    found = _by_token(connection, conversation_id, message, secret, locked=False)
    stored = _stored_answer(found)
    if stored is not None:  # a retry after a lost response: the same answer, applied once
        return _respond(stored)
    conversation = detached(Conversation, found)
    if conversation.status != "draft":
        raise engine.NeedsSession
    before = chat_history.asked(conversation)
    reply = engine.plain_step(conversation, message.text)
    if _offers_code(conversation, message.text, reply):
        raise engine.NeedsSession
    answer = _json(reply, conversation)
    transcript = chat_history.after_turn(conversation, message.text, message.shown, before, answer, message.client_id)
    assert transcript is not None  # (still a draft)
    engine.write_loaded(connection, conversation, transcript)  # with the reply, for a retry
    return _respond(answer)


def _apply_by_token(db: Session, conversation_id: str, message: _Message, secret: str) -> Response:
    """:func:`_apply` for the holder of the live operator token ``secret`` (:func:`_by_token`)."""
    return _turn(db, _by_token(db.connection(), conversation_id, message, secret), message)


def _apply(db: Session, conversation_id: str, message: _Message, address: str) -> Response:
    """One message from ``address`` in one transaction: the conversation and the reply stored
    under the client message id read in one locked statement (:func:`_locked`), then
    :func:`_turn`; 404, or 409 for a draft this operator's resume code moved to SMS, when it is
    not theirs."""
    rows = cursor_statements.run(db.connection(), _locked(message.client_id is not None, by_token=False),
                                 {**_params(conversation_id, message), "address": address})
    if not rows.rows:
        moved = resume_codes.moved(db, address, "sms", conversation_id) is not None
        db.commit()
        if moved:  # this operator's code took it to SMS (perhaps while this message was on its way)
            return _error(MOVED_TO_SMS, 409, reason="moved")
        return _error("No such conversation.", 404)
    return _turn(db, rows.mappings()[0], message)


def _turn(db: Session, found: dict[str, Any], message: _Message) -> Response:
    """The message applied to its conversation, read locked (``found``: its columns and the
    stored reply), in this transaction: the stored reply of a retry, or the step, the draft and
    the new reply written."""
    stored = _stored_answer(found)
    if stored is not None:  # a retry after a lost response: the same answer, applied once
        db.commit()
        return _respond(stored)
    conversation = persistent(db, Conversation, found)
    address, text = conversation.address, message.text
    before = chat_history.asked(conversation)
    reply = engine.step(db, conversation, text, actor=address)
    if conversation.status != "draft":
        # Sent or discarded: earlier replies may quote answers (a review summary) and are no
        # longer needed, since a retry of any message now gets the outcome (the reference).
        db.execute(delete(ChatReply).where(ChatReply.conversation_id == conversation.id))
    elif _offers_code(conversation, text, reply):
        code = resume_codes.offer(db, conversation, "sms", address, translator(conversation.language))
        reply = engine.Reply(reply.conversation, [*reply.messages, code], reply.question,
                             reply.done, reply.reference)
    answer = _json(reply, conversation)
    transcript = chat_history.after_turn(conversation, text, message.shown, before, answer, message.client_id)
    # the draft with its new rows, by Core (no unit of work): the turn's row holds the reply
    rows = [transcript] if transcript is not None else _finished_reply(conversation.id, message, answer)
    engine.write(db, conversation, *rows)
    if transcript is None:
        chat_history.forget(db, conversation.id)
    db.commit()
    return _respond(answer)


def _offers_code(conversation: Conversation, text: str, reply: engine.Reply) -> bool:
    """Does this step of a draft add REVIEW's one-time code for carrying on by SMS? (Not while
    the dialogue first asks "Did you mean REVIEW?".)"""
    if conversation.status != "draft":
        return False
    typed = recognise(text, translator(conversation.language), conversation.language)
    return (typed is not None and typed.command is Command.REVIEW
            and (reply.question or {}).get("id") != MEANT_QUESTION)


def _stored_answer(found: dict[str, Any]) -> dict[str, Any] | None:
    """The reply stored under the message's client id (taken out of ``found``, the row of
    :func:`_locked`): a finished conversation's, or one kept in its turn's transcript row."""
    stored, turn = found.pop("stored"), found.pop("stored_turn")
    return stored if stored is not None else chat_history.stored_reply(turn)


def _finished_reply(conversation_id: str, message: _Message, answer: dict[str, Any]) -> list[engine.Then]:
    """The reply of a message that sent or discarded its draft, stored under its client message
    id in ``chat_replies`` (the transcript is gone with the draft); none without an id."""
    if message.client_id is None:
        return []
    return [(_STORE_REPLY, {"conversation_id": conversation_id, "client_message_id": message.client_id,
                            "received_at": utcnow(), "reply": answer})]


@bp.post("/resume")
@require_api_user("operator")
def resume_by_code() -> Response:
    """Take over a draft with a one-time code (from REVIEW by SMS) and show its current question."""
    body = request.get_json(silent=True)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or len(code) > 64:
        return _error('Send JSON {"code": "ABCD-2345"}.', 400)
    db = session()
    try:
        conversation = resume_codes.redeem(db, code, CHANNEL, _address(), redeemer=_address())
    except resume_codes.TooManyFailures as refused:
        db.commit()  # the audit event
        language = request.accept_languages.best_match(CODES, default="en")
        response = _error(refused.message(translator(language)), 429,
                          retry_after_minutes=refused.minutes, language=language)
        response.headers["Retry-After"] = str(refused.seconds)
        return response
    except resume_codes.ResumeCodeError as problem:
        db.commit()  # the failure, for the throttle; nothing else was changed
        # "finished": the draft was sent or discarded first (e.g. by an SMS CONFIRM a moment
        # earlier): a conflict with the other channel rather than a wrong code.
        return _error(str(problem), 409 if problem.reason == "finished" else 400, reason=problem.reason)
    reply = engine.resume(db, conversation)
    chat_history.record(db, conversation.id, reply.messages)
    db.commit()
    return _respond(_json(reply, conversation))
