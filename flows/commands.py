"""Command words a user can type at any step, recognised case-insensitively.

The words are msgids, so each language's catalogue gives its own word; the English word always
works too, because staff often know the English commands. Over SMS, CANCEL is a carrier opt-out
keyword (DESIGN.md §3), so DISCARD is the word we advertise for abandoning a draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flows.i18n import Translator
from flows.languages import key, language_command
from flows.question import N_


class Command(StrEnum):
    HELP = "help"
    BACK = "back"
    SKIP = "skip"
    REVIEW = "review"
    EDIT = "edit"
    RESTART = "restart"
    CANCEL = "cancel"
    CONFIRM = "confirm"
    LANGUAGE = "language"
    EXPLAIN = "explain"


WORDS: dict[Command, tuple[str, ...]] = {
    Command.HELP: (N_("HELP"), N_("INFO")),
    Command.BACK: (N_("BACK"),),
    Command.SKIP: (N_("SKIP"),),
    Command.REVIEW: (N_("REVIEW"), N_("SUMMARY")),
    Command.EDIT: (N_("EDIT"), N_("CHANGE")),
    Command.RESTART: (N_("RESTART"),),
    Command.CANCEL: (N_("DISCARD"), N_("CANCEL")),
    Command.CONFIRM: (N_("CONFIRM"), N_("SEND")),
    Command.LANGUAGE: (N_("LANGUAGE"),),
    Command.EXPLAIN: (N_("EXPLAIN"),),
}

NUMBERED = frozenset({Command.EDIT, Command.LANGUAGE, Command.EXPLAIN})
"""Commands that take a number: EDIT n (an answer), LANGUAGE n and EXPLAIN n (a language)."""


@dataclass(frozen=True)
class Typed:
    """A recognised command and its argument (the item number of EDIT n)."""

    command: Command
    number: int | None = None


_EDIT = re.compile(r"^(?P<word>.+?)\s*(?P<number>\d+)$", re.UNICODE)


def _normalise(text: str) -> str:
    """Case, accents and spacing do not matter ("quay lai" is QUAY LẠI; see languages.key)."""
    return key(text.strip().strip(".!"))


def spellings(msgids: Iterable[str], t: Translator) -> set[str]:
    """How command words may be typed: each msgid in English and in the language of ``t``, reduced
    by :func:`flows.languages.key` (so case and accents do not matter)."""
    msgids = tuple(msgids)
    return {key(m) for m in msgids} | {key(t.gettext(m)) for m in msgids}


def says(text: str, t: Translator, *msgids: str) -> bool:
    """Is ``text`` one of these words, in English or in the language of ``t``? (case, accents,
    spacing and end punctuation do not matter: "wznow!" is WZNÓW). For a channel's own words,
    such as the SMS channel's DONE, RESUME and NEW."""
    return _normalise(text) in spellings(msgids, t)


def recognise(text: str, t: Translator) -> Typed | None:
    """The command typed, or None when the text is an answer."""
    typed = _normalise(text)
    match = _EDIT.match(typed)
    word, number = (match["word"], int(match["number"])) if match else (typed, None)
    is_language, language_number = language_command(text)
    if is_language:  # LANGUAGE works in all seven languages, whatever the dialogue's language
        return Typed(Command.LANGUAGE, language_number)
    for command, msgids in WORDS.items():
        if word in spellings(msgids, t):
            if number is not None and command not in NUMBERED:
                return None
            return Typed(command, number)
    return None
