"""``GET /chat``: the web chat page for signed-in helpline operators (DESIGN.md §3), and the pages
and fragments around it.

The page is a GOV.UK layout around a small script (``bot/static/chat.js``) that talks to the JSON
API of ``bot.webchat`` with the session cookie and the CSRF token. Anonymous visitors are sent to
the sign-in page; signed-in staff of other roles get the 403 page. ``/chat?conversation=<id>``
opens one of the operator's drafts; without it the latest draft is named in the page, so a reload
carries on where they were. Around the conversation:

- ``/chat/drafts``: the operator's drafts (started, last changed, progress) to open or discard;
  discarding asks first and is in the audit trail (``conversation.discarded``);
- ``/chat/conversations/<id>/panels``: the draft's stored transcript (``bot.chat_history``), its
  task list (the form's parts) and, at the summary, "Check your answers" (GOV.UK macros, rendered
  here so the script only places them);
- ``POST /chat/conversations/<id>/explanation``: the consent explanation for the person's route in
  any language, to read to them, recorded as shown like EXPLAIN (``flows.consent``);
- ``POST /chat/exit``: "Exit this page" ends the operator's session (the draft stays theirs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session as cookie
from flask_login import current_user, login_required, logout_user
from sqlalchemy import delete, select

from backend import audit, sessions
from backend.access_audit import user_actor
from backend.db import get_for_update, session
from backend.i18n import gettext as _
from backend.i18n import page_language
from backend.models import ChatReply, Conversation
from backend.web_auth import require_role
from bot import chat_history, engine
from bot.i18n import catalogue, translator
from flows import check_answers, consent
from flows.i18n import tr
from flows.languages import BY_CODE, EXPLAIN_BY_CODE, EXPLAIN_LANGUAGES, LANGUAGES
from flows.state import DialogueState

bp = Blueprint("chat_page", __name__, template_folder="templates", static_folder="static",
               static_url_path="/chat/static")

CHANNEL = "web"
UK_TIME = ZoneInfo("Europe/London")
DISCARDED = "conversation.discarded"
"""The audit action of a draft discarded from the drafts list (detail: the conversation's id)."""


def _operator() -> str:
    require_role("operator")
    return user_actor(current_user)


def _own_draft(conversation_id: str, lock: bool = False) -> Conversation:
    """This operator's web chat draft, or the 404 page (another's draft is not theirs to see)."""
    address = _operator()
    db = session()
    conversation = (get_for_update(db, Conversation, conversation_id) if lock
                    else db.get(Conversation, conversation_id))
    if (conversation is None or conversation.channel != CHANNEL or conversation.address != address
            or conversation.status != "draft"):
        abort(404)
    return conversation


def local_time(moment: datetime) -> str:
    """A time as the page's language writes it, in UK time (the helpline's)."""
    return format_datetime(moment.astimezone(UK_TIME), "medium", locale=page_language().code)


@bp.get("/chat")
@login_required
def chat() -> Any:
    address = _operator()
    wanted = request.args.get("conversation", "")
    draft = session().get(Conversation, wanted) if wanted else None
    if draft is None or draft.address != address or draft.channel != CHANNEL or draft.status != "draft":
        draft = engine.latest_draft(session(), CHANNEL, address)
    language = BY_CODE.get(draft.language if draft is not None else "en", BY_CODE["en"])
    return render_template(
        "chat.html",
        page_title=_("Web chat referral"),
        draft_id=draft.id if draft is not None else "",
        chosen=bool(wanted) and draft is not None and draft.id == wanted,
        language=language,
        languages=LANGUAGES,
        explain_languages=EXPLAIN_LANGUAGES,
    )


@bp.get("/chat/drafts")
@login_required
def drafts() -> Any:
    address = _operator()
    rows = session().scalars(select(Conversation)
                             .where(Conversation.channel == CHANNEL, Conversation.address == address,
                                    Conversation.status == "draft")
                             .order_by(Conversation.updated_at.desc()).limit(100))
    t = translator(page_language().code)
    shown = []
    for conversation in rows:
        parts = check_answers.parts(DialogueState.from_dict(conversation.state or {}), t)
        current = next((part for part in parts if part.status == "in-progress"), None)
        shown.append({
            "id": conversation.id,
            "language": BY_CODE.get(conversation.language, BY_CODE["en"]),
            "started": conversation.created_at, "changed": conversation.updated_at,
            "completed": sum(1 for part in parts if part.status == "completed"),
            "parts": len(parts), "current": current.name if current else None,
        })
    return render_template("chat_drafts.html", page_title=_("Your draft referrals"), drafts=shown,
                           local_time=local_time)


@bp.route("/chat/drafts/<conversation_id>/discard", methods=["GET", "POST"])
@login_required
def discard(conversation_id: str) -> Any:
    """Ask, then discard: the draft is closed like DISCARD and YES, its answers, stored replies and
    transcript deleted, and the audit trail says who discarded which conversation."""
    if request.method == "GET":
        conversation = _own_draft(conversation_id)
        return render_template("chat_discard.html", page_title=_("Discard this draft?"),
                               conversation=conversation, local_time=local_time)
    conversation = _own_draft(conversation_id, lock=True)
    db = session()
    conversation.status = "cancelled"
    conversation.state = {}
    db.execute(delete(ChatReply).where(ChatReply.conversation_id == conversation.id))
    chat_history.forget(db, conversation.id)
    audit.record(db, user_actor(current_user), DISCARDED, None,
                 {"conversation": conversation.id, "channel": CHANNEL})
    db.commit()
    flash(_("Draft discarded."), "success")
    return redirect("/chat/drafts")


@bp.get("/chat/conversations/<conversation_id>/panels")
@login_required
def panels(conversation_id: str) -> Any:
    """The draft's transcript, task list and (at the summary) "Check your answers", as HTML the
    page places beside and below the conversation."""
    conversation = _own_draft(conversation_id)
    state = DialogueState.from_dict(conversation.state or {})
    t = translator(conversation.language)
    at_summary = state.current == "review" and state.pending is None
    return jsonify({
        "history": chat_history.entries(session(), conversation.id),
        "tasks": render_template("chat_tasks.html",
                                 parts=check_answers.parts(state, translator(page_language().code))),
        "answers": render_template("chat_answers.html", groups=check_answers.groups(state, t),
                                   language=BY_CODE.get(conversation.language, BY_CODE["en"]))
        if at_summary else None,
    })


@bp.post("/chat/conversations/<conversation_id>/explanation")
@login_required
def explanation(conversation_id: str) -> Any:
    """The consent explanation for the person's route in the chosen language, recorded in the
    draft as shown in it (the referral then says exactly what the person was told)."""
    body = request.get_json(silent=True)
    code = body.get("language") if isinstance(body, dict) else None
    language = EXPLAIN_BY_CODE.get(code) if isinstance(code, str) else None
    if language is None:
        return jsonify({"error": "language must be one of the listed codes"}), 400
    conversation = _own_draft(conversation_id, lock=True)
    state = DialogueState.from_dict(conversation.state or {})
    operator = translator(page_language().code)
    chosen = consent.for_age(state.values().get("pv-under-age"))
    if chosen is None:
        texts = [tr(operator, consent.AGE_FIRST)]
    else:  # an unreviewed translation comes after a warning to the operator, in their language
        texts = consent.show(state, chosen, language.code, catalogue(language.code), operator)
        engine.save(conversation, state)
    session().commit()
    return jsonify({"html": render_template("chat_explanation.html", texts=texts, language=language)})


@bp.post("/chat/exit")
@login_required
def exit_page() -> Any:
    """"Exit this page": the operator's session ends at once (the page has already gone); the
    draft stays theirs, for the person's sake, behind the next sign-in."""
    db = session()
    sessions.end(db, cookie.get(sessions.SESSION_KEY))
    db.commit()
    logout_user()
    cookie.clear()
    return "", 204
