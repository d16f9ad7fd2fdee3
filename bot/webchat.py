"""The web chat JSON API (DESIGN.md §3) for signed-in helpline operators.

Each request is one transaction through the same engine as SMS; a conversation is visible only to
the operator who opened it, and a caller without a valid operator token gets 401.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from backend.auth import require_token
from backend.db import session
from backend.models import Conversation
from bot import engine

bp = Blueprint("webchat", __name__, url_prefix="/api/chat")
MAX_MESSAGE_CHARS = 16000


def _address() -> str:
    return f"user:{g.user.id}"


def _error(message: str, status: int) -> tuple[Any, int]:
    return jsonify({"error": message}), status


@bp.post("/conversations")
@require_token("operator")
def open_conversation() -> tuple[Any, int]:
    body = request.get_json(silent=True) or {}
    language = body.get("language", "en") if isinstance(body, dict) else "en"
    db = session()
    reply = engine.begin(db, "web", _address(), language=str(language))
    db.commit()
    return jsonify(reply.as_json()), 201


@bp.get("/conversations/<conversation_id>")
@require_token("operator")
def show_conversation(conversation_id: str) -> tuple[Any, int]:
    db = session()
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.address != _address():
        return _error("No such conversation.", 404)
    if conversation.status != "draft":
        return jsonify(engine.Reply(conversation.id, [], None, True, None).as_json()), 200
    return jsonify(engine.resume(db, conversation).as_json()), 200


@bp.post("/conversations/<conversation_id>/messages")
@require_token("operator")
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
    db.commit()
    return jsonify(reply.as_json()), 200
