"""The web chat JSON API (DESIGN.md §3) for signed-in helpline operators.

Each request is one transaction through the same engine as SMS; a conversation is visible only to
the operator who opened it. A caller is either a bearer-token client or the ``/chat`` page with
the operator's session cookie and its CSRF token in ``X-CSRFToken``
(``backend.auth.require_api_user``); anyone else gets 401, other roles 403.

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

REVIEW in web chat adds a one-time code for carrying on by SMS ("RESUME ABCD-2345").
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from backend.auth import require_api_user
from backend.db import session
from backend.models import Conversation
from bot import engine, resume_codes
from bot.i18n import translator
from flows.commands import Command, recognise
from flows.languages import CODES

bp = Blueprint("webchat", __name__, url_prefix="/api/chat")
CHANNEL = "web"
MAX_MESSAGE_CHARS = 16000


def _address() -> str:
    return f"user:{g.user.id}"


def _error(message: str, status: int, **extra: Any) -> tuple[Any, int]:
    return jsonify({"error": message, **extra}), status


def _json(reply: engine.Reply, conversation: Conversation | None) -> dict[str, Any]:
    body = reply.as_json()
    body["language"] = conversation.language if conversation is not None else "en"
    return body


@bp.post("/conversations")
@require_api_user("operator")
def open_conversation() -> tuple[Any, int]:
    body = request.get_json(silent=True) or {}
    language = body.get("language", "en") if isinstance(body, dict) else "en"
    if language not in CODES:
        return _error(f"language must be one of {', '.join(CODES)}", 400)
    db = session()
    reply = engine.begin(db, CHANNEL, _address(), language=str(language))
    conversation = db.get(Conversation, reply.conversation)
    db.commit()
    return jsonify(_json(reply, conversation)), 201


@bp.get("/conversations")
@require_api_user("operator")
def list_conversations() -> tuple[Any, int]:
    """The operator's web chat conversations, latest first (``?status=draft`` by default)."""
    status = request.args.get("status", "draft")
    if status not in ("draft", "submitted", "cancelled"):
        return _error("status must be draft, submitted or cancelled", 400)
    statement = (select(Conversation)
                 .where(Conversation.channel == CHANNEL, Conversation.address == _address(),
                        Conversation.status == status)
                 .order_by(Conversation.updated_at.desc()).limit(50))
    rows = session().scalars(statement).all()
    return jsonify({"conversations": [
        {"conversation": row.id, "status": row.status, "language": row.language,
         "updated_at": row.updated_at.isoformat()} for row in rows]}), 200


@bp.get("/conversations/<conversation_id>")
@require_api_user("operator")
def show_conversation(conversation_id: str) -> tuple[Any, int]:
    db = session()
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.address != _address() or conversation.channel != CHANNEL:
        return _error("No such conversation.", 404)
    if conversation.status != "draft":
        return jsonify(_json(engine.Reply(conversation.id, [], None, True, None), conversation)), 200
    return jsonify(_json(engine.resume(db, conversation), conversation)), 200


@bp.post("/conversations/<conversation_id>/messages")
@require_api_user("operator")
def post_message(conversation_id: str) -> tuple[Any, int]:
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
        return _error('Send JSON {"text": "..."} of at most 16,000 characters.', 400)
    db = session()
    try:
        reply = engine.receive(db, conversation_id, _address(), text, actor=_address())
    except engine.ConversationNotFound:
        db.rollback()
        return _error("No such conversation.", 404)
    conversation = db.get(Conversation, reply.conversation)
    if conversation is not None and conversation.status == "draft":
        t = translator(conversation.language)
        typed = recognise(text, t)
        if typed is not None and typed.command is Command.REVIEW:
            code = resume_codes.offer(db, conversation, "sms", _address(), t)
            reply = engine.Reply(reply.conversation, [*reply.messages, code], reply.question,
                                 reply.done, reply.reference)
    db.commit()
    return jsonify(_json(reply, conversation)), 200


@bp.post("/resume")
@require_api_user("operator")
def resume_by_code() -> tuple[Any, int]:
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
        response, status = _error(refused.message(translator(language)), 429,
                                  retry_after_minutes=refused.minutes, language=language)
        response.headers["Retry-After"] = str(refused.seconds)
        return response, status
    except resume_codes.ResumeCodeError as problem:
        db.commit()  # the failure, for the throttle; nothing else was changed
        return _error(str(problem), 400, reason=problem.reason)
    reply = engine.resume(db, conversation)
    db.commit()
    return jsonify(_json(reply, conversation)), 200
