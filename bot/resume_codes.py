"""One-time resume codes: carry a draft from SMS to web chat, and from web chat to SMS.

REVIEW over SMS ends with "To carry on in web chat, use code ABCD-2345": a signed-in operator
types the code on ``/chat`` (or ``POST /api/chat/resume``) and the same draft becomes theirs,
channel ``web``, address ``user:<id>``. REVIEW in web chat offers the way back: texting
"RESUME ABCD-2345" from a registered number moves the draft to that number's SMS channel.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as two
groups of four; case, spaces and the hyphen do not matter when it is typed. Only an HMAC of the
code (keyed with ``SECRET_KEY``) is stored, so a copy of the database gives no usable code. A code
works once, only on the channel it was issued for, only while its draft is still a draft, and
only for ``RESUME_CODE_MINUTES`` (default 30). Issuing a new code for a draft and channel voids
the previous one. Redeeming locks the code row and the conversation row in the caller's
transaction, so two people typing the same code at once cannot both get the draft.

Guessing is throttled in the database, so the limit holds across processes: each refused code is a
``ResumeFailure`` row under the redeemer's actor id (``user:7`` in web chat, ``responder:3`` by
SMS; never a phone number, never the code). A redeemer with ``RESUME_CODE_MAX_FAILURES`` (default
5) of them within ``RESUME_CODE_FAILURE_WINDOW_MINUTES`` (default 15) is refused without the code
being looked at, even a right one, until the oldest of those leaves the window
(:class:`TooManyFailures`, which says how long); each such refusal is in the audit trail
(``resume_code.throttled``, the actor only) and is not itself a failure, so waiting always works.
A successful redemption deletes the redeemer's failures; ``nrm purge`` deletes those older than
the window.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend import audit
from backend.db import get_for_update, utcnow
from backend.models import Conversation, ResumeCode, ResumeFailure
from bot.i18n import translator
from flows.commands import says
from flows.i18n import Translator, tr, trn
from flows.languages import CODES
from flows.question import N_

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""31 symbols: no 0/O, 1/I/L; 8 of them make about 40 bits."""
LENGTH = 8

SMS_NOT_VALID = N_("That resume code is not valid: it may have expired or been used already.")
WORD_RESUME = N_("RESUME")
THROTTLED_ACTION = "resume_code.throttled"

SMS_COMMAND = re.compile(r"^\s*(?P<word>\S.*?)\s+(?P<code>[0-9A-Za-z]{4}[\s-]?[0-9A-Za-z]{4})\s*[.!]?\s*$")
"""A word (Vietnamese TIẾP TỤC is two) and a code: the word is checked by :func:`sms_code`."""


class ResumeCodeError(ValueError):
    """The code cannot be used; ``reason`` is ``invalid``, ``used``, ``expired`` or ``finished``."""

    MESSAGES = {
        "invalid": "That code is not valid. Check it and try again.",
        "used": "That code has already been used. Ask for a new one (REVIEW shows one).",
        "expired": "That code has expired. Ask for a new one (REVIEW shows one).",
        "finished": "That referral is no longer in progress: it was sent or discarded.",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


class TooManyFailures(Exception):
    """Refused without looking at the code: the redeemer typed too many wrong codes recently.

    ``wait`` is how long until an attempt is looked at again.
    """

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"too many wrong resume codes: wait {wait}")
        self.wait = wait

    @property
    def seconds(self) -> int:
        """The wait in whole seconds, rounded up (for ``Retry-After``); at least 1."""
        return max(1, math.ceil(self.wait.total_seconds()))

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, rounded up (what the message says); at least 1."""
        return max(1, math.ceil(self.seconds / 60))

    def message(self, t: Translator) -> str:
        return trn(t, "Too many wrong resume codes. For security, wait {minutes} minute before you "
                      "try again.",
                   "Too many wrong resume codes. For security, wait {minutes} minutes before you "
                   "try again.",
                   self.minutes, minutes=self.minutes)


def minutes() -> int:
    """How long a new code works: ``RESUME_CODE_MINUTES`` (validated by backend.config)."""
    return int(current_app.config["RESUME_CODE_MINUTES"])


def max_failures() -> int:
    """Wrong codes a redeemer may type within the window: ``RESUME_CODE_MAX_FAILURES``."""
    return int(current_app.config["RESUME_CODE_MAX_FAILURES"])


def failure_window() -> timedelta:
    """How long a wrong code counts: ``RESUME_CODE_FAILURE_WINDOW_MINUTES``."""
    return timedelta(minutes=int(current_app.config["RESUME_CODE_FAILURE_WINDOW_MINUTES"]))


def normalise(code: str) -> str | None:
    """The 8 symbols of a typed code (upper case, without spaces or hyphens), or None."""
    symbols = re.sub(r"[\s-]", "", code or "").upper()
    if len(symbols) != LENGTH or any(ch not in ALPHABET for ch in symbols):
        return None
    return symbols


def display(symbols: str) -> str:
    return f"{symbols[:4]}-{symbols[4:]}"


def _digest(symbols: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, symbols.encode("ascii"), hashlib.sha256).hexdigest()


def issue(db: Session, conversation: Conversation, target: str, issued_by: str,
          now: datetime | None = None) -> str:
    """A new code that moves ``conversation`` to channel ``target`` (``web`` or ``sms``); the
    display form ``ABCD-2345``. Voids the draft's earlier codes for that channel and clears
    expired codes of every draft."""
    now = now or utcnow()
    db.execute(delete(ResumeCode).where(ResumeCode.expires_at <= now))
    db.execute(delete(ResumeCode).where(ResumeCode.conversation_id == conversation.id,
                                        ResumeCode.target_channel == target))
    while True:
        symbols = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        digest = _digest(symbols)
        if db.scalar(select(ResumeCode.id).where(ResumeCode.code_hash == digest)) is None:
            break
    db.add(ResumeCode(code_hash=digest, conversation_id=conversation.id, target_channel=target,
                      issued_by=issued_by, created_at=now,
                      expires_at=now + timedelta(minutes=minutes())))
    db.flush()
    return display(symbols)


def redeem(db: Session, code: str, channel: str, address: str, redeemer: str,
           now: datetime | None = None) -> Conversation:
    """Use ``code`` on ``channel``: the draft now belongs to ``address`` there (returned, locked).

    ``redeemer`` is the actor id the throttle counts under (``user:7``, ``responder:3``). Raises
    :class:`TooManyFailures` (recorded in the audit trail) or :class:`ResumeCodeError` (recorded as
    a failure). The caller commits in every case, so those records are kept: a refused code
    changes nothing else.
    """
    now = now or utcnow()
    wait = _wait(db, redeemer, now)
    if wait is not None:
        audit.record(db, redeemer, THROTTLED_ACTION, at=now)
        raise TooManyFailures(wait)
    try:
        conversation = _redeem(db, code, channel, address, now)
    except ResumeCodeError:
        db.add(ResumeFailure(key=redeemer, at=now))
        db.flush()
        raise
    db.execute(delete(ResumeFailure).where(ResumeFailure.key == redeemer))
    return conversation


def _wait(db: Session, redeemer: str, now: datetime) -> timedelta | None:
    """How long ``redeemer`` must wait before a code is looked at again, or None: not throttled."""
    limit, window = max_failures(), failure_window()
    recent = list(db.scalars(
        select(ResumeFailure.at)
        .where(ResumeFailure.key == redeemer, ResumeFailure.at > now - window)
        .order_by(ResumeFailure.at.desc()).limit(limit)))
    if len(recent) < limit:
        return None
    # Once the oldest of the latest ``limit`` failures leaves the window, fewer than ``limit`` remain.
    return recent[-1] + window - now


def moved(db: Session, issued_by: str, target: str,
          conversation_id: str | None = None) -> tuple[Conversation, datetime] | None:
    """The draft (or only ``conversation_id``) that a code issued by ``issued_by`` last moved to
    channel ``target`` and that is still there, with when it moved (a used code is kept until it
    would have expired)."""
    statement = (
        select(Conversation, ResumeCode.used_at)
        .join(ResumeCode, ResumeCode.conversation_id == Conversation.id)
        .where(ResumeCode.issued_by == issued_by, ResumeCode.target_channel == target,
               ResumeCode.used_at.is_not(None), Conversation.channel == target,
               Conversation.status == "draft")
        .order_by(ResumeCode.used_at.desc()).limit(1))
    if conversation_id is not None:
        statement = statement.where(Conversation.id == conversation_id)
    found = db.execute(statement).first()
    return (found[0], found[1]) if found is not None else None


def purge_failures(db: Session, window: timedelta, now: datetime | None = None) -> int:
    """Delete failures older than ``window`` (they no longer count); the number deleted."""
    now = now or utcnow()
    return db.execute(delete(ResumeFailure).where(ResumeFailure.at <= now - window)).rowcount or 0


def _redeem(db: Session, code: str, channel: str, address: str, now: datetime) -> Conversation:
    symbols = normalise(code)
    if symbols is None:
        raise ResumeCodeError("invalid")
    digest = _digest(symbols)
    # The draft's row is locked before the code's: the channels lock a draft first and then touch
    # its codes (REVIEW issues one), so the other order could deadlock with a message in flight.
    conversation_id = db.scalar(select(ResumeCode.conversation_id).where(ResumeCode.code_hash == digest))
    conversation = get_for_update(db, Conversation, conversation_id) if conversation_id else None
    row = db.scalars(select(ResumeCode).where(ResumeCode.code_hash == digest)
                     .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if row is None or row.target_channel != channel:
        raise ResumeCodeError("invalid")
    if row.used_at is not None:
        raise ResumeCodeError("used")
    if row.expires_at <= now:
        raise ResumeCodeError("expired")
    if conversation is None or conversation.status != "draft":
        raise ResumeCodeError("finished")
    row.used_at = now
    db.execute(delete(ResumeCode).where(ResumeCode.conversation_id == conversation.id,
                                        ResumeCode.id != row.id, ResumeCode.used_at.is_(None)))
    conversation.channel = channel
    conversation.address = address
    state = dict(conversation.state or {})
    if state.pop("channel", None) is not None:  # the old channel's notes (SMS parts, offers)
        conversation.state = state
    conversation.updated_at = now
    db.flush()
    return conversation


# -- what the channels say ----------------------------------------------------------------------


def offer(db: Session, conversation: Conversation, target: str, issued_by: str, t: Translator) -> str:
    """Issue a code for ``target`` and say how to use it, in the conversation's language."""
    code = issue(db, conversation, target, issued_by)
    n = minutes()
    if target == "web":
        return trn(t, "To carry on in web chat, use code {code}. It works once, within {minutes} minute.",
                   "To carry on in web chat, use code {code}. It works once, within {minutes} minutes.",
                   n, code=code, minutes=n)
    return trn(t, "To carry on by SMS, text RESUME {code} from a registered phone. It works once, "
                  "within {minutes} minute.",
               "To carry on by SMS, text RESUME {code} from a registered phone. It works once, "
               "within {minutes} minutes.",
               n, code=code, minutes=n)


def sms_code(text: str) -> str | None:
    """The code of an SMS "RESUME ABCD-2345" (the word in any of the languages), else None."""
    found = SMS_COMMAND.match(text or "")
    if found is None:
        return None
    word = found["word"].strip(".!:")
    if not any(says(word, translator(code), WORD_RESUME) for code in CODES):
        return None  # case and accents do not matter ("wznow", "tiep tuc"), as for every command
    return found["code"]


def not_valid_by_sms(t: Translator) -> str:
    return tr(t, SMS_NOT_VALID)
