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
   primary key and is answered from the stored reply. On PostgreSQL an ordinary answer
   mid-referral (:func:`plain_turn`) takes no lock: the same read, then the draft and the reply
   written in one statement only if the draft is unchanged since (its version); if it changed,
   the message is applied again as above, under the lock.

Rules of the channel, on top of the dialogue:

- Carrier keywords (a single word, or Twilio's ``OptOutType`` field when present): STOP, STOPALL,
  UNSUBSCRIBE, CANCEL, END, QUIT (and Twilio's REVOKE, OPTOUT) opt the number out (``Responder.opted_out_at``) and get an empty
  ``<Response/>``; nothing is replied until START, UNSTOP or (only while opted out) YES. HELP and
  INFO are the dialogue's HELP for the current question. A plain "yes" is an answer otherwise.
- The quick-exit word (``QUICK_EXIT_WORD``, default SAFE, also in the language of the sender's
  draft when the catalogue translates it) deletes the sender's drafts at once and replies a neutral
  "OK."; nothing of that exchange is stored. The MessageSids of the deleted drafts' messages stay
  as data-free tombstones, so a late Twilio retry of one gets an empty reply and opens nothing.
- The first message from a sender without a draft starts a referral (its text is not an answer)
  by asking the language: the numbered list, each language named in itself. The reply picks one;
  the welcome and the first question follow in that language. LANGUAGE changes it at any step.
- The channel's own words (DONE, RESUME, NEW, the quick-exit word, RESUME and a code) work in
  English and in the draft's language, whatever the case and with or without accents
  (``flows.commands.says``); the carrier keywords below are English only, as Twilio reads them.
- A draft untouched for ``SMS_RESUME_AFTER_MINUTES`` (default 60) is offered back first: "Reply
  RESUME to carry on or NEW to start again", and the text that triggered the offer is not taken as
  an answer. Drafts older than ``DRAFT_EXPIRY_DAYS`` are deleted when found (and by ``nrm purge``).
- Long free text: for text questions a message that ends with "..." or whose length is exactly one
  SMS segment (160 or 153 GSM-7 septets, 70 or 67 UCS-2 units: what a long text that the network
  failed to join looks like) is kept as a part, and the reply is "Got it. Send more, or DONE when
  finished."; DONE, or a message that does not continue, completes the answer with the parts joined
  by spaces. Parts are kept in the draft's ``DialogueState.channel`` (encrypted with the draft).
- Control characters (NUL, ESC, other C0/C1) are removed from the text before anything else
  (``backend.text_hygiene``: the sender cannot easily retype), and every reply is cleaned again
  when rendered as TwiML. A ``MessageSid`` or ``From`` holding one is refused with 400.
- MMS: pictures cannot be taken; the reply says so and the text part, if any, is handled as usual.
- Cross-channel resume (``bot.resume_codes``): REVIEW also gives a one-time code for carrying on
  in web chat, and "RESUME ABCD-2345" (a code shown by REVIEW in web chat) moves that draft here.
- Replies are TwiML: each ``<Message>`` within the segment budget of the draft's language
  (three in English; a language written in UCS-2 takes more, ``Language.sms_segments``) and
  1,600 characters (``bot.segments``). Each text is sanitised (no curly quotes...) and keeps every
  letter and accent as written; a long summary goes out as several messages split between its
  lines, a long explanation between its sentences.
- Referrers' commands (``STATUS``, ``WITHDRAW``, ``RECONSIDER``, ``INFO`` with a reference, and
  the ``YES`` after WITHDRAW) are answered by ``backend.outbound.commands`` before the dialogue.
  This webhook only ever answers; what the service sends on its own goes through the outbox
  (``backend.outbound``, ``nrm worker``).
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from html import escape
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import Connection, Engine, and_, bindparam, column, exists, func, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from backend.db import get_db, session, utcnow
from backend.loaded import detached
from backend.models import Conversation, InboundMessage, Responder
from backend.outbound import commands as referrer_commands
from backend.request_guards import handles_own_input
from backend import cursor_statements, text_hygiene
from bot import engine, quick_exit, resume_codes
from bot.i18n import translator
from bot.registration import prefill
from bot.segments import looks_cut, pack
from flows import languages
from flows.commands import Command, recognise, says
from flows.dialogue import BY_ID
from flows.i18n import Translator, tr, trn
from flows.question import N_, Kind

if TYPE_CHECKING:  # imported on first use (start-up time)
    from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")

CHANNEL = "sms"
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_SID_CHARS = 64
ATTEMPTS = 5
_TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
_TWIML_EMPTY = f"{_TWIML_HEAD}<Response />"
_URLENCODED = "application/x-www-form-urlencoded"
_WEBHOOK = "sms.twilio_webhook"


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

MEDIA = N_("Photos and files cannot be received by SMS, and none was kept. Describe the evidence "
           "in words, or send it separately.")
GOT_PART = N_("Got it. Send more, or DONE when finished.")
PARTS_KEPT = N_("Your answer so far is kept. Send more, or DONE when finished.")
MOVED = N_("This referral has moved to web chat and carries on there. Text again to start a new "
           "referral.")
OFFER = N_("You have a referral in progress ({section} {step}/{of}). "
           "Reply RESUME to carry on or NEW to start again.")
OFFER_AT_REVIEW = N_("You have a referral in progress (all questions answered). "
                     "Reply RESUME to carry on or NEW to start again.")

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
class Sender:
    """What a turn reads of the registered sender (a ``Responder`` row): the registration that
    prefills the form, and what referrers' commands need (``id``, ``organisation``)."""

    id: int
    phone_e164: str
    organisation: str
    name: str | None
    email: str | None
    opted_out_at: datetime | None


@dataclass(frozen=True)
class Settings:
    quick_exit_word: str
    resume_after: timedelta
    draft_expiry: timedelta

    @classmethod
    def of(cls, app: Flask) -> Settings:
        return cls(
            quick_exit_word=quick_exit.word(app.config),
            resume_after=timedelta(minutes=app.config["SMS_RESUME_AFTER_MINUTES"]),
            draft_expiry=timedelta(days=app.config["DRAFT_EXPIRY_DAYS"]),
        )


_RESPONDERS = Responder.__table__
_SENDER_AND_REPLY_AS_SEEN = (
    select(_RESPONDERS.c.id, _RESPONDERS.c.phone_e164, _RESPONDERS.c.organisation, _RESPONDERS.c.name,
           _RESPONDERS.c.email, _RESPONDERS.c.opted_out_at,
           InboundMessage.__table__.c.id.label("done"), InboundMessage.__table__.c.reply)
    .select_from(_RESPONDERS.outerjoin(InboundMessage.__table__,
                                       InboundMessage.__table__.c.id == bindparam("sid")))
    .where(_RESPONDERS.c.phone_e164 == bindparam("sender")))
"""The registered sender with what is stored under this MessageSid (built once). Plain columns, not
a ``Responder`` entity: the ORM's loading cost more than the statement, and a turn only reads the
registration (:class:`Sender`)."""
_SENDER_AND_REPLY = _SENDER_AND_REPLY_AS_SEEN.with_for_update(of=_RESPONDERS)  # one sender's messages one at a time
_DRAFT_COLUMNS = tuple(column.label(f"draft_{column.key}") for column in engine.COLUMNS)
_SENDER_REPLY_AND_DRAFTS = (
    _SENDER_AND_REPLY_AS_SEEN.add_columns(*_DRAFT_COLUMNS)
    .outerjoin(Conversation.__table__, and_(
        Conversation.__table__.c.channel == cursor_statements.sql_constant(CHANNEL),
        Conversation.__table__.c.address == bindparam("sender"),
        Conversation.__table__.c.status == cursor_statements.sql_constant("draft")))
    .order_by(Conversation.__table__.c.id))
"""The same with the sender's drafts (a row each, or one row of NULLs), read as the statement
sees them: on SQLite ``BEGIN IMMEDIATE`` already holds the database's one write lock, so they are
as locked as the sender; on PostgreSQL an ordinary answer (:func:`plain_turn`) is written only if
its draft is unchanged since."""
_LOCKED_SENDER = _SENDER_AND_REPLY.subquery("sender")
_LOCKED_DRAFTS = (func.locked_drafts(cursor_statements.sql_constant(CHANNEL), _LOCKED_SENDER.c.phone_e164)
                  .table_valued(*(column(draft.key, draft.type) for draft in engine.COLUMNS))
                  .lateral("drafts"))
_SENDER_REPLY_AND_LOCKED_DRAFTS = (
    select(*_LOCKED_SENDER.c, *(_LOCKED_DRAFTS.c[draft.key].label(f"draft_{draft.key}") for draft in engine.COLUMNS))
    .select_from(_LOCKED_SENDER.outerjoin(_LOCKED_DRAFTS, true()))
    .order_by(_LOCKED_DRAFTS.c.id))
"""On PostgreSQL, the same rows in one statement too (one round trip: issue 14), the drafts read
once the responder's lock is held. A statement's snapshot is taken before it waits for a lock, so
drafts joined to the locked row would be of that snapshot: a draft opened by the sender's previous
message, committed during the wait, would be missed (a second draft opened). So they come from
``locked_drafts`` (migration 0024: a VOLATILE PL/pgSQL function, which takes a new snapshot for
its query, and locks what it reads), called LATERAL with the locked subquery's ``phone_e164``:
once for the responder's row, after its lock is taken."""
_OPT_OUT = (update(_RESPONDERS).where(_RESPONDERS.c.id == bindparam("key"))
            .values(opted_out_at=bindparam("at")))
_SENDER_FIELDS = len(_SENDER_AND_REPLY.selected_columns)
_DRAFT_KEYS = tuple(column.key for column in engine.COLUMNS)
_STORE_REPLY = insert(InboundMessage.__table__)
"""The reply stored under its MessageSid (a duplicate MessageSid fails on the primary key)."""


# -- the webhook --------------------------------------------------------------------------------


@bp.post("/twilio")
@handles_own_input
def twilio_webhook() -> Response:
    form = _form()
    if not _signature_ok(form):
        return Response("Forbidden: bad or missing X-Twilio-Signature\n", 403, mimetype="text/plain")
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    sender = "".join((form.get("From") or "").split())
    if not sid or not sender or len(sid) > MAX_SID_CHARS:
        return Response("Bad request: MessageSid and From are required\n", 400, mimetype="text/plain")
    if not (text_hygiene.is_clean(sid) and text_hygiene.is_clean(sender)):
        return Response("Bad request: control characters in MessageSid or From\n", 400, mimetype="text/plain")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    inbound = Inbound(
        sid=sid,
        sender=sender,
        body=text_hygiene.clean(form.get("Body") or ""),  # the text kept: control characters removed
        num_media=num_media,
        opt_out_type=(form.get("OptOutType") or "").strip().upper() or None,
    )
    settings = Settings.of(current_app)
    messages = plain_turn(get_db().engine, inbound, settings)
    return twiml(messages if messages is not None else handle(session(), inbound, settings))


def is_webhook() -> bool:
    """Is this request Twilio's webhook? Flask-Limiter skips it at once (``bot.app``): it is never
    limited, and resolving its limits (none) cost a turn more than a bare request's (issue 14)."""
    return request.endpoint == _WEBHOOK


def twiml(messages: list[str]) -> Response:
    """The TwiML answer: one ``<Message>`` per text, or an empty ``<Response />``.

    Each text is cleaned again here (``backend.text_hygiene.clean``): a reply stored earlier, or a
    draft saved before the channel removed control characters, must not make the XML unreadable.
    Written as text with the standard library's XML escaping: the same document as twilio's
    ``MessagingResponse`` (tests/bot/test_sms_webhook.py compares them), without building an
    element tree for every message.
    """
    if not messages:
        return Response(_TWIML_EMPTY, 200, mimetype="application/xml")
    body = "".join(f"<Message>{escape(text_hygiene.clean(message), quote=False)}</Message>" for message in messages)
    return Response(f"{_TWIML_HEAD}<Response>{body}</Response>", 200, mimetype="application/xml")


class _Form(MultiDict[str, str]):
    """The webhook's form fields, which twilio's signature check reads by ``getall`` (a
    werkzeug ``MultiDict`` answers ``getlist``: twilio then catches an AttributeError a field)."""

    getall = MultiDict.getlist


def _form() -> MultiDict[str, str]:
    """The POSTed form, read as werkzeug's form parser reads a URL-encoded body (the same limit
    on the body's length, the same decoding; a body that is not UTF-8 is an empty form) without
    building the parser for each request: that was half of the signature check's CPU. Any other
    kind of body is left to werkzeug (``request.form``)."""
    if request.mimetype != _URLENCODED:
        return request.form
    try:
        text = request.get_data().decode()
    except ValueError:
        return _Form()
    return _Form(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))


def _signature_ok(form: MultiDict[str, str]) -> bool:
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
    from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, get_signature_algorithm

    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = _validator(token)
    return _signed_as_given(validator, url, form, signature, algorithm) or validator.validate(
        url, form, signature, algorithm)


def _signed_as_given(validator: RequestValidator, url: str, form: MultiDict[str, str], signature: str,
                     algorithm: str) -> bool:
    """Is ``signature`` the one of this very URL and form? One HMAC, where twilio's ``validate``
    parses the URL and computes two (the URL with and without its port, as Twilio's signing
    varies). Only a match is taken from here: anything else (the other form of the URL, an
    algorithm twilio does not know) is judged by ``validate`` itself."""
    try:
        computed = validator.compute_signature(url, form, algorithm)
    except ValueError:  # an unknown algorithm: validate() refuses it and logs why
        return False
    return hmac.compare_digest(computed.encode(), signature.encode())


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    """One validator per auth token for the life of the process (the token changes only with a
    restart; a few slots for a rotation or tests with several apps). Twilio is imported on first
    use, not at start-up."""
    from twilio.request_validator import RequestValidator

    return RequestValidator(token)


# -- one message --------------------------------------------------------------------------------


def handle(db: Session, inbound: Inbound, settings: Settings) -> list[str]:
    """Apply one inbound SMS in one transaction of ``db`` (committed here) and return the reply
    messages (empty: reply nothing)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            messages = _handle(db, inbound, settings)
            db.commit()
            return messages
        except (IntegrityError, StaleDataError):
            # A concurrent copy of this MessageSid won the insert, or the draft changed under a
            # stale copy: run again from the top, which finds the stored reply or the new state.
            db.rollback()
            if attempt == ATTEMPTS:
                raise
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def _handle(db: Session, inbound: Inbound, settings: Settings) -> list[str]:
    """The whole message in the caller's transaction: the responder with this MessageSid's stored
    reply and the sender's drafts, locked (one read: :func:`_read`), the step, one write of the
    draft and the stored reply."""
    read = _read(db.connection(), inbound)
    if read.responder is None:
        return read.answer
    responder = read.responder

    now = utcnow()
    word = _word(inbound.body)
    opted_out = responder.opted_out_at is not None

    drafts = engine.loaded_drafts(db, read.draft_rows)
    if quick_exit.apply(db, inbound.body, settings.quick_exit_word, drafts):
        referrer_commands.hold(db, responder)  # and nothing is sent to this number until it texts again
        return [] if opted_out else [quick_exit.REPLY]  # and no InboundMessage: nothing stored

    keyword = _keyword(word, inbound.opt_out_type, opted_out)
    draft = _latest(drafts)
    notes: list[str] = []
    if draft is not None and draft.updated_at < now - settings.draft_expiry:
        expired_language = quick_exit.language_of(draft)
        stale = [old for old in drafts if old.updated_at < now - settings.draft_expiry]
        for old in stale:
            quick_exit.delete_draft(db, old)
        draft = _latest([kept for kept in drafts if kept not in stale])
        if draft is None:  # said in the language the sender last used
            notes.append(_expired(translator(expired_language), settings.draft_expiry.days))

    if keyword == "stop":
        if not opted_out:
            db.connection().execute(_OPT_OUT, {"key": responder.id, "at": now})
        return _remember(db, inbound.sid, draft, [])
    if opted_out and keyword != "start":
        return []  # opted out: the message is not applied, nothing is sent or stored
    if opted_out:
        db.connection().execute(_OPT_OUT, {"key": responder.id, "at": None})
    answered = referrer_commands.handle(db, responder, inbound.body, now, draft)  # STATUS, WITHDRAW, INFO...
    if answered is not None:
        return _remember(db, inbound.sid, draft, notes + answered)

    text = "HELP" if keyword == "help" else inbound.body
    media = [MEDIA] if inbound.num_media > 0 else []

    code = resume_codes.sms_code(inbound.body)
    if code is not None:  # "RESUME ABCD-2345": carry on here a draft from web chat
        draft, messages = _resume_from_web(db, code, inbound.sender, f"responder:{responder.id}", draft)
        return _remember(db, inbound.sid, draft, notes + messages)

    if draft is None:
        moved = _moved_to_web(db, f"responder:{responder.id}")
        if moved is not None:  # taken over in web chat since the sender's last message: say so
            return _remember(db, inbound.sid, moved, notes + [tr(translator(quick_exit.language_of(moved)), MOVED)])
        # first contact: the language list comes first (language=None)
        reply = engine.begin(db, CHANNEL, inbound.sender, prefill(responder), language=None)
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
        draft, offered = _answer_offer(db, draft, responder, inbound.sender, word, t)
        messages = _say(t, media) + offered
    elif draft.updated_at < now - settings.resume_after and not _choosing_first_language(draft):
        _set_channel(draft, {**channel, "offer": True})
        messages = _say(t, media) + [_offer(db, draft, t)]
    elif media and not inbound.body.strip():
        messages = _say(t, media) + engine.resume(db, draft).messages
    else:
        messages = _say(t, media) + _step(db, draft, f"responder:{responder.id}", text, t)

    if draft is not None and draft.status == "draft":
        draft.updated_at = now
    elif draft is not None:
        # Submitted or discarded: earlier stored replies may quote answers (a review summary).
        # Keep their MessageSids, so a late retry is still not applied again, but not the text.
        db.execute(update(InboundMessage).where(InboundMessage.conversation_id == draft.id)
                   .values(reply=None))
    return _remember(db, inbound.sid, draft, messages)


@dataclass(frozen=True)
class _Read:
    """A message's first read: the answer when that is all (not registered: the helpline; a
    Twilio retry: the stored reply), else the sender and their drafts' rows, locked."""

    answer: list[str]
    responder: Sender | None = None
    draft_rows: list[dict[str, Any]] = field(default_factory=list)


def _read(connection: Connection, inbound: Inbound, *, locked: bool = True) -> _Read:
    """The responder with this MessageSid's stored reply and the sender's drafts in one read,
    locked (:data:`_SENDER_REPLY_AND_LOCKED_DRAFTS` on PostgreSQL), or as the statement sees them
    (``locked`` False, :data:`_SENDER_REPLY_AND_DRAFTS`: SQLite's write lock is held anyway)."""
    params = {"sid": inbound.sid, "sender": inbound.sender}
    lock = locked and connection.dialect.name != "sqlite"
    statement = _SENDER_REPLY_AND_LOCKED_DRAFTS if lock else _SENDER_REPLY_AND_DRAFTS
    found = cursor_statements.run(connection, statement, params)
    if not found.rows:
        return _Read([HELPLINE])  # not registered: nothing is stored
    *registration, done, stored_reply = found.rows[0][:_SENDER_FIELDS]
    if done is not None:  # a Twilio retry: the stored reply, nothing applied again
        return _Read(list(stored_reply or []))
    rows = [dict(zip(_DRAFT_KEYS, row[_SENDER_FIELDS:])) for row in found.rows if row[_SENDER_FIELDS] is not None]
    return _Read([], Sender(*registration), rows)


def _remember(db: Session, sid: str, draft: Conversation | None, messages: list[str]) -> list[str]:
    """Fit the reply to SMS and store it under the MessageSid, in this transaction."""
    fitted = _fit(draft, messages)
    # Core INSERTs: the ORM's unit of work for one new row cost more than the row itself.
    if draft is not None and draft in db:  # the draft, then the reply (its foreign key), at once
        engine.write(db, draft, (_STORE_REPLY, _reply_row(sid, draft.id, fitted)))
    else:
        db.flush()
        db.connection().execute(_STORE_REPLY, _reply_row(sid, None, fitted))
    return fitted


def _fit(draft: Conversation | None, messages: list[str]) -> list[str]:
    """The reply as SMS messages within the segment budget of the draft's language."""
    return pack(messages, languages.sms_segments(quick_exit.language_of(draft)))


def _reply_row(sid: str, conversation_id: str | None, fitted: list[str]) -> dict[str, Any]:
    return {"id": sid, "conversation_id": conversation_id, "received_at": utcnow(), "reply": fitted}


# -- a mid-referral answer on a plain connection ---------------------------------------------------


def plain_turn(db_engine: Engine, inbound: Inbound, settings: Settings) -> list[str] | None:
    """The reply to an ordinary message mid-referral, applied on a plain ``Connection``
    (``bot.engine.on_plain_connection``); None when the message needs the ORM session
    (:func:`handle`), having changed nothing.

    Here the same read as :func:`_handle` (on PostgreSQL without the lock: the write then checks
    the draft's version), the same step and the same write (the draft and the stored reply).
    Anything else (a retry's stored reply and the helpline are answered here too) is rolled back
    and left to :func:`handle`, which reads it all again under the lock: a first contact, an
    opted-out number, a keyword, the quick-exit word, a referrer command or YES, a resume code, an
    offer to resume, a quiet or expired draft, a submission or a cancel, REVIEW's resume code, a
    concurrent copy of the message, and a draft changed since it was read.
    """
    return engine.on_plain_connection(db_engine, lambda connection: _plain(connection, inbound, settings))


def _plain(connection: Connection, inbound: Inbound, settings: Settings) -> list[str]:
    read = _read(connection, inbound, locked=False)
    if read.responder is None:
        return read.answer
    drafts = [detached(Conversation, row) for row in read.draft_rows]
    draft = _latest(drafts)
    now = utcnow()
    body = inbound.body
    if (draft is None or read.responder.opted_out_at is not None
            or draft.updated_at < now - min(settings.resume_after, settings.draft_expiry)
            or _keyword(_word(body), inbound.opt_out_type, opted_out=False) is not None
            or quick_exit.is_quick_exit(body, settings.quick_exit_word, drafts)
            or referrer_commands.may_be_command(body) or resume_codes.sms_code(body) is not None
            or (inbound.num_media > 0 and not body.strip())
            or ((draft.state or {}).get("channel") or {}).get("offer")):
        raise engine.NeedsSession
    t = translator(quick_exit.language_of(draft))
    media = [MEDIA] if inbound.num_media > 0 else []
    messages = _say(t, media) + _step(None, draft, f"responder:{read.responder.id}", body, t)
    draft.updated_at = now
    fitted = _fit(draft, messages)
    engine.write_loaded(connection, draft, (_STORE_REPLY, _reply_row(inbound.sid, draft.id, fitted)))
    return fitted


# -- the dialogue step, with long answers in parts ------------------------------------------------


def _step(db: Session | None, draft: Conversation, actor: str, text: str,
          t: Translator) -> list[str]:
    """The dialogue's step with long answers in parts; ``db`` None: a plain turn
    (:func:`plain_turn`), which a submission or REVIEW's resume code sends to the session."""
    state = draft.state or {}
    channel = dict(state.get("channel") or {})
    current = state.get("current")
    question = BY_ID.get(current or "")
    parts: list[str] = list(channel.get("parts") or []) if channel.get("question") == current else []
    typed = recognise(text, t, state.get("language") or languages.SOURCE)
    collecting = question is not None and question.kind is Kind.TEXT and state.get("pending") is None

    kept_parts = False
    if collecting and typed is None:
        if parts and says(text, t, WORD_DONE):
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
    reply = engine.step(db, draft, text, actor=actor) if db is not None else engine.plain_step(draft, text)
    messages = reply.messages
    if typed is not None and typed.command is Command.REVIEW and draft.status == "draft":
        if db is None:
            raise engine.NeedsSession
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


def _resume_from_web(db: Session, code: str, sender: str, actor: str,
                     draft: Conversation | None) -> tuple[Conversation | None, list[str]]:
    """Move the web chat draft of a one-time code to this number (``bot.resume_codes``); wrong
    codes are throttled per responder (``actor``), and refusals are in the draft's language."""
    try:
        moved = resume_codes.redeem(db, code, CHANNEL, sender, redeemer=actor)
    except resume_codes.TooManyFailures as refused:
        return draft, [refused.message(translator(quick_exit.language_of(draft)))]
    except resume_codes.ResumeCodeError:
        t = translator(draft.language if draft is not None else "en")
        return draft, [resume_codes.not_valid_by_sms(t)]
    return moved, engine.resume(db, moved).messages


def _moved_to_web(db: Session, actor: str) -> Conversation | None:
    """The draft this responder last moved to web chat with a code, if no SMS from them was
    taken since: their next message is told where it went instead of opening a new referral
    (it may well have been meant for that draft, e.g. sent while the code was being typed). The
    reply is stored under that draft, so the message after it starts a new referral."""
    moved = resume_codes.moved(db, actor, "web")
    if moved is None:
        return None
    conversation, at = moved
    since = exists().where(InboundMessage.conversation_id == conversation.id,
                           InboundMessage.received_at >= at)
    return None if db.scalar(select(since)) else conversation


def _offer(db: Session, draft: Conversation, t: Translator) -> str:
    question = engine.resume(db, draft).question
    if question is None or question["kind"] == "confirm":
        return tr(t, OFFER_AT_REVIEW)
    return tr(t, OFFER, section=question["section"], step=question["step"], of=question["of"])


def _answer_offer(db: Session, draft: Conversation, responder: Sender, sender: str, word: str,
                  t: Translator) -> tuple[Conversation | None, list[str]]:
    """The sender's draft after the reply to "RESUME or NEW" (a new one after NEW), and what to say."""
    if says(word, t, WORD_RESUME):
        channel = dict((draft.state or {}).get("channel") or {})
        channel.pop("offer", None)
        _set_channel(draft, channel)
        return draft, engine.resume(db, draft).messages
    if says(word, t, WORD_NEW):
        language = draft.language
        quick_exit.delete_draft(db, draft)
        reply = engine.begin(db, CHANNEL, sender, prefill(responder), language)
        return db.get(Conversation, reply.conversation), reply.messages
    return draft, [_offer(db, draft, t)]


# -- helpers ------------------------------------------------------------------------------------


def _word(text: str) -> str:
    """A message as a single command word: trimmed, without end punctuation, case-folded."""
    return " ".join(text.strip().strip(".!").split()).casefold()


def _latest(drafts: list[Conversation]) -> Conversation | None:
    """The most recently touched of the sender's drafts (the one a message goes to)."""
    return max(drafts, key=lambda draft: draft.updated_at, default=None)


def _choosing_first_language(draft: Conversation) -> bool:
    """Is the draft still at the first-contact language list (nothing to offer back yet)?"""
    return ((draft.state or {}).get("pending") or {}).get("language") == "start"




def _expired(t: Translator, days: int) -> str:
    return trn(t, "Your unfinished referral was deleted after {days} day. Here is a new one.",
               "Your unfinished referral was deleted after {days} days. Here is a new one.",
               days, days=days)


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


