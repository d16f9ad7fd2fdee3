"""Command words a user can type at any step, recognised case-insensitively.

The words are msgids, so each language's catalogue gives its own word; the English word always
works too, because staff often know the English commands. Over SMS, CANCEL is a carrier opt-out
keyword (DESIGN.md §3), so DISCARD is the word we advertise for abandoning a draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from flows.i18n import Translator
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


WORDS: dict[Command, tuple[str, ...]] = {
    Command.HELP: (N_("HELP"), N_("INFO")),
    Command.BACK: (N_("BACK"),),
    Command.SKIP: (N_("SKIP"),),
    Command.REVIEW: (N_("REVIEW"), N_("SUMMARY")),
    Command.EDIT: (N_("EDIT"), N_("CHANGE")),
    Command.RESTART: (N_("RESTART"),),
    Command.CANCEL: (N_("DISCARD"), N_("CANCEL")),
    Command.CONFIRM: (N_("CONFIRM"), N_("SEND")),
}


@dataclass(frozen=True)
class Typed:
    """A recognised command and its argument (the item number of EDIT n)."""

    command: Command
    number: int | None = None


_EDIT = re.compile(r"^(?P<word>\w+)\s*(?P<number>\d+)$", re.UNICODE)


def _normalise(text: str) -> str:
    return " ".join(text.strip().strip(".!").split()).casefold()


def recognise(text: str, t: Translator) -> Typed | None:
    """The command typed, or None when the text is an answer."""
    typed = _normalise(text)
    match = _EDIT.match(typed)
    word, number = (match["word"], int(match["number"])) if match else (typed, None)
    for command, msgids in WORDS.items():
        spellings = {m.casefold() for m in msgids} | {t.gettext(m).casefold() for m in msgids}
        if word in spellings:
            if command is Command.EDIT and number is None:
                return Typed(command)
            if number is not None and command is not Command.EDIT:
                return None
            return Typed(command, number)
    return None
