"""The Twilio SMS channel: ``POST /sms/twilio`` (DESIGN.md §3, §4, §5).

One inbound message is handled like this:

1. The ``X-Twilio-Signature`` is checked against ``PUBLIC_BASE_URL`` + path (+ query), so it is
   right behind a proxy, with ``TWILIO_AUTH_TOKEN``; a missing or wrong signature gets 403. Only in
   development, with no token configured, are unsigned requests accepted (with one warning).
2. A sender that is not a registered responder number gets the helpline number and nothing about
   them is stored or logged.
3. Everything else happens in ONE write transaction: the responder row is locked (so messages from
   one number are applied one at a time, in arrival order, across threads and processes; on SQLite
   ``BEGIN IMMEDIATE`` serialises writers anyway), the ``MessageSid`` is looked up (a Twilio retry
   gets the stored reply and changes nothing), the message is applied, and the reply is stored
   (encrypted) under the ``MessageSid`` before the commit. A concurrent duplicate loses on the
   primary key and is answered from the stored reply.

Rules of the channel, on top of the dialogue:

- Carrier keywords (a single word, or Twilio's ``OptOutType`` field when present): STOP, STOPALL,
  UNSUBSCRIBE, CANCEL, END, QUIT (and Twilio's REVOKE, OPTOUT) opt the number out (``Responder.opted_out_at``) and get an empty
  ``<Response/>``; nothing is replied until START, UNSTOP or (only while opted out) YES. HELP and
  INFO are the dialogue's HELP for the current question. A plain "yes" is an answer otherwise.
- The quick-exit word (``QUICK_EXIT_WORD``, default SAFE) deletes the sender's drafts at once and
  replies a neutral "OK."; nothing of that exchange is stored.
- The first message from a sender without a draft starts a referral (its text is not an answer).
- A draft untouched for ``SMS_RESUME_AFTER_MINUTES`` (default 60) is offered back first: "Reply
  RESUME to carry on or NEW to start again", and the text that triggered the offer is not taken as
  an answer. Drafts older than ``DRAFT_EXPIRY_DAYS`` are deleted when found (and by ``nrm purge``).
- Long free text: for text questions a message that ends with "..." or whose length is exactly one
  SMS segment (160 or 153 GSM-7 septets, 70 or 67 UCS-2 units: what a long text that the network
  failed to join looks like) is kept as a part, and the reply is "Got it. Send more, or DONE when
  finished."; DONE, or a message that does not continue, completes the answer with the parts joined
  by spaces. Parts are kept in the draft's ``DialogueState.channel`` (encrypted with the draft).
- MMS: pictures cannot be taken; the reply says so and the text part, if any, is handled as usual.
- Cross-channel resume (``bot.resume_codes``): REVIEW also gives a one-time code for carrying on
  in web chat, and "RESUME ABCD-2345" (a code shown by REVIEW in web chat) moves that draft here.
- Replies are TwiML: each ``<Message>`` within three segments and 1,600 characters
  (``bot.segments``); a long summary goes out as several messages split between its lines.
  The service only ever answers; it never sends a message on its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from backend.db import Database, get_db, get_for_update, utcnow
from backend.intake import IntakeError
from backend.models import Conversation, InboundMessage, Responder
from bot import engine, resume_codes
from bot.i18n import translator
from bot.registration import prefill
from bot.segments import looks_cut, pack
from flows.commands import Command, recognise
from flows.dialogue import BY_ID
from flows.i18n import Translator, tr
from flows.question import N_, Kind

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")

CHANNEL = "sms"
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_SID_CHARS = 64
ATTEMPTS = 5


OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
"""Twilio's default opt-out words (DESIGN.md §3 lists the first six; Twilio also takes the last two)."""
OPT_IN_WORDS = frozenset({"start", "unstop"})
OPT_IN_WHEN_OPTED_OUT = frozenset({"yes"})
HELP_WORDS = frozenset({"help", "info"})

HELPLINE = (
    "This number is not registered to make NRM referrals. For advice, or to report modern "
    "slavery, call the Modern Slavery & Exploitation Helpline free on 08000 121 700."
)
"""English only: nothing is known about an unregistered sender, not even their language."""
QUICK_EXIT_REPLY = "OK."

MEDIA = N_("Photos and files cannot be received by SMS, and none was kept. Describe the evidence "
           "in words, or send it separately.")
GOT_PART = N_("Got it. Send more, or DONE when finished.")
PARTS_KEPT = N_("Your answer so far is kept. Send more, or DONE when finished.")
OFFER = N_("You have a referral in progress (question {step} of {of}). "
           "Reply RESUME to carry on or NEW to start again.")
OFFER_AT_REVIEW = N_("You have a referral in progress (all questions answered). "
                     "Reply RESUME to carry on or NEW to start again.")
EXPIRED = N_("Your unfinished referral was deleted after {days} days. Here is a new one.")
NOT_SENT = N_("The referral could not be sent. Reply REVIEW to check your answers, or HELP.")

WORD_DONE = N_("DONE")
WORD_RESUME = N_("RESUME")
WORD_NEW = N_("NEW")


@dataclass(frozen=True)
class Inbound:
    """The Twilio form fields the channel uses."""

    sid: str
    sender: str
    body: str
    num_media: int = 0
    opt_out_type: str | None = None


@dataclass(frozen=True)
class Settings:
    quick_exit_word: str
    resume_after: timedelta
    draft_expiry: timedelta

    @classmethod
    def of(cls, app: Flask) -> Settings:
        return cls(
            quick_exit_word=_word(app.config["QUICK_EXIT_WORD"]),
            resume_after=timedelta(minutes=app.config["SMS_RESUME_AFTER_MINUTES"]),
            draft_expiry=timedelta(days=app.config["DRAFT_EXPIRY_DAYS"]),
        )


# -- the webhook --------------------------------------------------------------------------------


@bp.post("/twilio")
def twilio_webhook() -> Response:
    if not _signature_ok():
        return Response("Forbidden: bad or missing X-Twilio-Signature\n", 403, mimetype="text/plain")
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    sender = "".join((form.get("From") or "").split())
    if not sid or not sender or len(sid) > MAX_SID_CHARS:
        return Response("Bad request: MessageSid and From are required\n", 400, mimetype="text/plain")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    inbound = Inbound(
        sid=sid,
        sender=sender,
        body=form.get("Body") or "",
        num_media=num_media,
        opt_out_type=(form.get("OptOutType") or "").strip().upper() or None,
    )
    return twiml(handle(get_db(), inbound, Settings.of(current_app)))


def twiml(messages: list[str]) -> Response:
    """The TwiML answer: one ``<Message>`` per text, or an empty ``<Response/>``."""
    response = MessagingResponse()
    for message in messages:
        response.message(message)
    return Response(str(response), 200, mimetype="application/xml")


def _signature_ok() -> bool:
    app = current_app
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        if app.config.get("NRM_ENV") == "production":
            return False  # config refuses to start without it; never accept unsigned here anyway
        if not app.extensions.get("nrm_sms_unsigned_warned"):
            app.extensions["nrm_sms_unsigned_warned"] = True
            log.warning("TWILIO_AUTH_TOKEN is not set: accepting UNSIGNED SMS webhooks "
                        "(development only; production refuses to start without it)")
        return True
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return False
    base = app.config.get("PUBLIC_BASE_URL")
    if base:
        query = request.query_string.decode("latin-1")
        url = base.rstrip("/") + request.path + (f"?{query}" if query else "")
    else:
        url = request.url
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    return RequestValidator(token).validate(url, request.form, signature, algorithm)


# -- one message --------------------------------------------------------------------------------


def handle(database: Database, inbound: Inbound, settings: Settings) -> list[str]:
    """Apply one inbound SMS and return the reply messages (empty: reply nothing)."""
    with database.transaction(readonly=True) as db:
        responder_id = db.scalar(select(Responder.id).where(Responder.phone_e164 == inbound.sender))
    if responder_id is None:
        return [HELPLINE]
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with database.transaction() as db:
                return _handle_registered(db, responder_id, inbound, settings)
        except (IntegrityError, StaleDataError):
            # A concurrent copy of this MessageSid won the insert, or the draft changed under a
            # stale copy: run again from the top, which finds the stored reply or the new state.
            if attempt == ATTEMPTS:
                raise
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def _handle_registered(db: Session, responder_id: int, inbound: Inbound, settings: Settings) -> list[str]:
    responder = get_for_update(db, Responder, responder_id)
    if responder is None:  # deregistered a moment ago
        return [HELPLINE]
    done = db.get(InboundMessage, inbound.sid)
    if done is not None:
        return list(done.reply or [])

    now = utcnow()
    word = _word(inbound.body)
    opted_out = responder.opted_out_at is not None

    if word and word == settings.quick_exit_word:
        for draft in _drafts(db, inbound.sender):
            _delete(db, draft)
        return [] if opted_out else [QUICK_EXIT_REPLY]  # and no InboundMessage: nothing stored

    keyword = _keyword(word, inbound.opt_out_type, opted_out)
    draft = engine.latest_draft(db, CHANNEL, inbound.sender)
    notes: list[str] = []
    if draft is not None and draft.updated_at < now - settings.draft_expiry:
        for stale in _drafts(db, inbound.sender):
            if stale.updated_at < now - settings.draft_expiry:
                _delete(db, stale)
        draft = engine.latest_draft(db, CHANNEL, inbound.sender)
        if draft is None:
            notes.append(tr(translator("en"), EXPIRED, days=settings.draft_expiry.days))

    if keyword == "stop":
        if not opted_out:
            responder.opted_out_at = now
        return _remember(db, inbound.sid, draft, [])
    if opted_out and keyword != "start":
        return []  # opted out: the message is not applied, nothing is sent or stored
    if opted_out:
        responder.opted_out_at = None

    text = "HELP" if keyword == "help" else inbound.body
    media = [MEDIA] if inbound.num_media > 0 else []

    code = resume_codes.sms_code(inbound.body)
    if code is not None:  # "RESUME ABCD-2345": carry on here a draft from web chat
        draft, messages = _resume_from_web(db, code, inbound.sender, draft)
        return _remember(db, inbound.sid, draft, notes + messages)

    if draft is None:
        reply = engine.begin(db, CHANNEL, inbound.sender, prefill(responder))
        draft = db.get(Conversation, reply.conversation)
        t = translator(draft.language if draft else "en")
        return _remember(db, inbound.sid, draft, notes + _say(t, media) + reply.messages)

    state = draft.state or {}
    t = translator(state.get("language") or draft.language or "en")
    channel = dict(state.get("channel") or {})

    if keyword == "start":
        _set_channel(draft, {key: value for key, value in channel.items() if key != "offer"})
        messages = _say(t, media) + engine.resume(db, draft).messages
    elif channel.get("offer"):
        messages = _say(t, media) + _answer_offer(db, draft, responder, inbound.sender, word, t)
        draft = engine.latest_draft(db, CHANNEL, inbound.sender)
    elif draft.updated_at < now - settings.resume_after:
        _set_channel(draft, {**channel, "offer": True})
        messages = _say(t, media) + [_offer(db, draft, t)]
    elif media and not inbound.body.strip():
        messages = _say(t, media) + engine.resume(db, draft).messages
    else:
        messages = _say(t, media) + _step(db, draft, inbound.sender, f"responder:{responder.id}", text, t)

    if draft is not None and draft.status == "draft":
        draft.updated_at = now
    elif draft is not None:
        # Submitted or discarded: earlier stored replies may quote answers (a review summary).
        # Keep their MessageSids, so a late retry is still not applied again, but not the text.
        db.execute(update(InboundMessage).where(InboundMessage.conversation_id == draft.id)
                   .values(reply=None))
    return _remember(db, inbound.sid, draft, messages)


def _remember(db: Session, sid: str, draft: Conversation | None, messages: list[str]) -> list[str]:
    """Fit the reply to SMS and store it under the MessageSid, in this transaction."""
    fitted = pack(messages)
    conversation_id = draft.id if draft is not None and draft in db else None
    db.add(InboundMessage(id=sid, conversation_id=conversation_id, reply=fitted))
    db.flush()
    return fitted


# -- the dialogue step, with long answers in parts ------------------------------------------------


def _step(db: Session, draft: Conversation, sender: str, actor: str, text: str,
          t: Translator) -> list[str]:
    state = draft.state or {}
    channel = dict(state.get("channel") or {})
    current = state.get("current")
    question = BY_ID.get(current or "")
    parts: list[str] = list(channel.get("parts") or []) if channel.get("question") == current else []
    typed = recognise(text, t)
    collecting = question is not None and question.kind is Kind.TEXT and state.get("pending") is None

    kept_parts = False
    if collecting and typed is None:
        if parts and _word(text) in _spellings(WORD_DONE, t):
            text = " ".join(parts)
            parts = []
        elif _continues(text) and sum(len(part) + 1 for part in parts) + len(text) <= question.max_length:
            parts.append(_without_marker(text))
            _set_channel(draft, {**channel, "question": current, "parts": parts})
            return [tr(t, GOT_PART)]
        elif parts:
            text = " ".join([*parts, text.strip()])
            parts = []
    elif parts:
        kept_parts = True  # a command (HELP, REVIEW...) while collecting: keep the parts for now

    if not kept_parts and "parts" in channel:
        _set_channel(draft, {key: value for key, value in channel.items()
                             if key not in ("question", "parts")})
    try:
        reply = engine.receive(db, draft.id, sender, text, actor=actor)
    except IntakeError:
        return [tr(t, NOT_SENT)]
    messages = reply.messages
    if typed is not None and typed.command is Command.REVIEW and draft.status == "draft":
        messages = [*messages, resume_codes.offer(db, draft, "web", actor, t)]  # SMS -> web chat
    if kept_parts and draft.status == "draft":
        new_state = draft.state or {}
        if new_state.get("current") == current and new_state.get("pending") is None:
            return [*messages, tr(t, PARTS_KEPT)]
        _set_channel(draft, {key: value for key, value in (new_state.get("channel") or {}).items()
                             if key not in ("question", "parts")})
    return messages


def _continues(text: str) -> bool:
    """Does this part of a long answer say more is coming? (see the module docs)"""
    return text.rstrip().endswith(("...", "\u2026")) or looks_cut(text)


def _without_marker(text: str) -> str:
    stripped = text.strip()
    for marker in ("...", "\u2026"):
        if stripped.endswith(marker):
            return stripped[: -len(marker)].rstrip()
    return stripped


# -- returning senders ----------------------------------------------------------------------------


def _resume_from_web(db: Session, code: str, sender: str,
                     draft: Conversation | None) -> tuple[Conversation | None, list[str]]:
    """Move the web chat draft of a one-time code to this number (``bot.resume_codes``)."""
    try:
        moved = resume_codes.redeem(db, code, CHANNEL, sender)
    except resume_codes.ResumeCodeError:
        t = translator(draft.language if draft is not None else "en")
        return draft, [resume_codes.not_valid_by_sms(t)]
    return moved, engine.resume(db, moved).messages


def _offer(db: Session, draft: Conversation, t: Translator) -> str:
    question = engine.resume(db, draft).question
    if question is None:
        return tr(t, OFFER_AT_REVIEW)
    return tr(t, OFFER, step=question["step"], of=question["of"])


def _answer_offer(db: Session, draft: Conversation, responder: Responder, sender: str, word: str,
                  t: Translator) -> list[str]:
    if word in _spellings(WORD_RESUME, t):
        channel = dict((draft.state or {}).get("channel") or {})
        channel.pop("offer", None)
        _set_channel(draft, channel)
        return engine.resume(db, draft).messages
    if word in _spellings(WORD_NEW, t):
        language = draft.language
        _delete(db, draft)
        return engine.begin(db, CHANNEL, sender, prefill(responder), language).messages
    return [_offer(db, draft, t)]


# -- helpers ------------------------------------------------------------------------------------


def _word(text: str) -> str:
    """A message as a single command word: trimmed, without end punctuation, case-folded."""
    return " ".join(text.strip().strip(".!").split()).casefold()


def _spellings(msgid: str, t: Translator) -> set[str]:
    return {msgid.casefold(), t.gettext(msgid).casefold()}


def _keyword(word: str, opt_out_type: str | None, opted_out: bool) -> str | None:
    """``stop``, ``start``, ``help`` or None, as Twilio's keyword handling sees the message.

    Twilio's ``OptOutType`` wins when present, except that YES (an opt-in word only for a number
    that is opted out) stays an ordinary answer for a number that is not.
    """
    if opt_out_type in ("STOP", "START", "HELP"):
        keyword = opt_out_type.lower()
    elif word in OPT_OUT_WORDS:
        keyword = "stop"
    elif word in OPT_IN_WORDS or word in OPT_IN_WHEN_OPTED_OUT:
        keyword = "start"
    elif word in HELP_WORDS:
        keyword = "help"
    else:
        return None
    if keyword == "start" and not opted_out and word not in OPT_IN_WORDS:
        return None
    return keyword


def _say(t: Translator, msgids: list[str]) -> list[str]:
    return [tr(t, msgid) for msgid in msgids]


def _set_channel(draft: Conversation, channel: dict[str, Any]) -> None:
    """Replace the channel's notes in the draft's state (a new dict, so the change is saved)."""
    state = dict(draft.state or {})
    if state.get("channel") != channel:
        state["channel"] = channel
        draft.state = state


def _drafts(db: Session, sender: str) -> list[Conversation]:
    statement = select(Conversation).where(
        Conversation.channel == CHANNEL, Conversation.address == sender, Conversation.status == "draft"
    )
    return list(db.scalars(statement))


def _delete(db: Session, conversation: Conversation) -> None:
    """Hard-delete a draft and the stored replies of its messages."""
    db.execute(delete(InboundMessage).where(InboundMessage.conversation_id == conversation.id))
    db.delete(conversation)
    db.flush()
