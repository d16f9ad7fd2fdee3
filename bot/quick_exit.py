"""The quick-exit word (``QUICK_EXIT_WORD``, default SAFE): someone who must hide what they are
doing types it, and the sender's unfinished referrals are deleted at once, with nothing of that
message stored. The same in every channel that reads typed text (SMS, ``nrm chat``).

The word works in English and in the language of each of the sender's drafts, whatever the case
and with or without accents, when the catalogue translates the default word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from backend.models import Conversation, InboundMessage
from bot.i18n import translator
from flows import languages
from flows.commands import says
from flows.question import N_

REPLY = "OK."
"""Neutral on purpose: a screen read over someone's shoulder gives nothing away."""

# TRANSLATORS: the default quick-exit word: texting it deletes the unfinished referral at once.
# One everyday word in capitals, unlikely as an answer, not a command word or "yes".
WORD_SAFE = N_("SAFE")


def word(config: Mapping[str, Any]) -> str:
    """The configured quick-exit word, as one upper-case word or phrase."""
    return " ".join(str(config["QUICK_EXIT_WORD"]).split()).upper()


def language_of(draft: Conversation | None) -> str:
    """The language a draft's replies are in (English without a draft)."""
    if draft is None:
        return languages.SOURCE
    return (draft.state or {}).get("language") or draft.language or languages.SOURCE


def is_quick_exit(text: str, quick_exit_word: str, drafts: list[Conversation]) -> bool:
    """The quick-exit word, in English or in the language of one of the sender's drafts."""
    codes = {language_of(draft) for draft in drafts} | {languages.SOURCE}
    return any(says(text, translator(code), quick_exit_word) for code in codes)


def delete_draft(db: Session, conversation: Conversation) -> None:
    """Hard-delete a draft and the stored replies of its messages, keeping their MessageSids as
    tombstones (no conversation, no reply): a Twilio retry of one of them, even after the quick
    exit, is then answered with nothing and opens nothing. ``nrm purge`` deletes tombstones
    after the retry window (``bot.purge.REPLY_RETENTION``)."""
    db.execute(update(InboundMessage).where(InboundMessage.conversation_id == conversation.id)
               .values(conversation_id=None, reply=None))
    db.delete(conversation)
    db.flush()


def apply(db: Session, text: str, quick_exit_word: str, drafts: list[Conversation]) -> bool:
    """Delete all of ``drafts`` when ``text`` is the quick-exit word; True when it was."""
    if not is_quick_exit(text, quick_exit_word, drafts):
        return False
    for draft in drafts:
        delete_draft(db, draft)
    return True
