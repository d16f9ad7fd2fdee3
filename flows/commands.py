"""Command words a user can type at any step, recognised case-insensitively.

The words are msgids, so each language's catalogue gives its own word; the English word always
works too, because staff often know the English commands. Over SMS, CANCEL is a carrier opt-out
keyword (DESIGN.md §3), so DISCARD is the word we advertise for abandoning a draft.

Besides the catalogue's word, a command is recognised as people type it: the label of its button
on the web chat page (``LABELS``) and the other common words of each language
(``flows.languages.COMMAND_WORDS``), with or without accents and spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from flows.i18n import Catalogues, Translator, catalogue
from flows.languages import ARABIC_ARTICLE, CODES, COMMAND_WORDS, LANGUAGE_WORDS, SOURCE, explain_pick, key, language_command
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

LABELS: dict[Command, tuple[str, ...]] = {
    Command.HELP: (N_("Help"),),
    Command.BACK: (N_("Back"),),
    Command.SKIP: (N_("Skip"),),
    Command.REVIEW: (N_("Review answers"),),
    Command.CONFIRM: (N_("Confirm and send"),),
    Command.LANGUAGE: (N_("Language"),),
}
"""The labels of the web chat page's command buttons (bot/templates/chat.html): what people read
there, they type (a test checks that every button of the page is here)."""

NUMBERED = frozenset({Command.EDIT, Command.LANGUAGE, Command.EXPLAIN})
"""Commands that take a number: EDIT n (an answer), LANGUAGE n and EXPLAIN n (a language)."""


@dataclass(frozen=True, slots=True)
class Typed:
    """A recognised command and its argument (the item number of EDIT n)."""

    command: Command
    number: int | None = None


_ALONE: dict[Command, Typed] = {command: Typed(command) for command in Command}
"""Each command typed without a number (immutable, so one of each serves every message)."""
_EDIT = re.compile(r"^(?P<word>.+?)\s*(?P<number>\d+)$", re.UNICODE)
_TRAILING_NUMBER = re.compile(r"\d+$")
_SHOWN = re.compile(r"^(?P<word>.*?)(?:\s*(?P<number>\d+))?$", re.UNICODE)


def _variants(form: str) -> set[str]:
    """A reduced form as it may be typed: with or without its spaces ("quaylai"), and an Arabic
    word with or without the article ("الرجوع" is "رجوع")."""
    found = {form, form.replace(" ", "")}
    if form.startswith(ARABIC_ARTICLE) and len(form) > len(ARABIC_ARTICLE) + 1:
        found.add(form[len(ARABIC_ARTICLE) :])
    return found


@lru_cache(maxsize=256)
def spellings(msgids: tuple[str, ...], t: Translator) -> frozenset[str]:
    """How command words may be typed: each msgid in English and in the language of ``t``, reduced
    by :func:`flows.languages.key` (so case and accents do not matter). Computed once per
    translator: a catalogue does not change while the process runs."""
    return frozenset({key(m) for m in msgids} | {key(t.gettext(m)) for m in msgids})


def says(text: str, t: Translator, *msgids: str) -> bool:
    """Is ``text`` one of these words, in English or in the language of ``t``? (case, accents,
    spacing and end punctuation do not matter: "wznow!" is WZNÓW). For a channel's own words,
    such as the SMS channel's DONE, RESUME and NEW."""
    return key(text) in spellings(msgids, t)


class _Forms(dict[str, Command]):
    """Reduced form -> command, the length of the longest form of EXPLAIN, and how the forms and
    the words for LANGUAGE begin (every prefix; "" when one begins with a digit)."""

    longest_explain = 0
    starts: frozenset[str] = frozenset()


@lru_cache(maxsize=32)
def _forms(t: Translator, language: str) -> _Forms:
    """Every reduced form of every command in English and in ``language`` (translated by ``t``):
    the catalogue's words, the page's button labels and the other common words."""
    forms = _Forms()
    for command in Command:
        msgids = (*WORDS.get(command, ()), *LABELS.get(command, ()))
        written = [
            *msgids,
            *(t.gettext(m) for m in msgids),
            *COMMAND_WORDS.get(SOURCE, {}).get(command.value, ()),
            *COMMAND_WORDS.get(language, {}).get(command.value, ()),
        ]
        for word in written:
            for form in _variants(key(word)):
                forms.setdefault(form, command)
    forms.longest_explain = max((len(form) for form, command in forms.items() if command is Command.EXPLAIN), default=0)
    words = [*forms, *LANGUAGE_WORDS]
    forms.starts = frozenset(word[:end] for word in words for end in range(1, len(word) + 1)) | (
        {""} if any(word[:1].isdecimal() for word in words) else set())
    return forms


def _look_up(typed: str, forms: dict[str, Command]) -> Typed | None:
    """The command of ``typed`` (reduced by ``key``), with its number."""
    match = _EDIT.match(typed)
    word, number = (match["word"], int(match["number"])) if match else (typed, None)
    plain = " " not in word and not word.startswith(ARABIC_ARTICLE)  # the common case: one form
    for form in (word,) if plain else sorted(_variants(word)):
        command = forms.get(form)
        if command is not None:
            if number is not None and command not in NUMBERED:
                return None
            return Typed(command, number)
    return None


def _recognised(typed: str, t: Translator, language: str) -> Typed | None:
    if typed and " " not in typed and not typed[-1].isdigit() and not typed.startswith(ARABIC_ARTICLE):
        # the common case, one word without a number: what language_command and _look_up find
        if typed in LANGUAGE_WORDS:
            return _ALONE[Command.LANGUAGE]
        command = _forms(t, language).get(typed)
        return None if command is None else _ALONE[command]
    forms = _forms(t, language)
    if not typed.startswith(ARABIC_ARTICLE) and _TRAILING_NUMBER.sub("", typed.split(" ", 1)[0]) not in forms.starts:
        # every word and head tried below (and its spelling without spaces) begins with the first
        # word typed, less a number it ends with: a date, a number or a sentence is no command
        return None
    is_language, language_number = language_command(typed)
    if is_language:  # LANGUAGE works in all seven languages, whatever the dialogue's language
        return Typed(Command.LANGUAGE, language_number)
    return _look_up(typed, forms) or _explain_named(typed, forms)



def _explain_named(typed: str, forms: _Forms) -> Typed | None:
    """EXPLAIN and a language's name ("EXPLAIN Tigrinya", "explain ትግርኛ"), as its number."""
    longest = forms.longest_explain
    words = typed.split(" ")
    for cut in range(1, len(words)):
        head = " ".join(words[:cut])
        if len(head) - (cut - 1) - len(ARABIC_ARTICLE) > longest:
            return None  # every variant of this head and of the longer ones is longer than any form
        if any(forms.get(form) is Command.EXPLAIN for form in _variants(head)):
            number = explain_pick(" ".join(words[cut:]))
            if number is not None:
                return Typed(Command.EXPLAIN, number)
    return None


def recognise(text: str, t: Translator, language: str = SOURCE) -> Typed | None:
    """The command typed, in English or in ``language`` (translated by ``t``), or None when the
    text is an answer (case, accents, spacing and punctuation do not matter)."""
    return _recognised(key(text), t, language)


def in_any_language(text: str, catalogues: Catalogues | None = None) -> Typed | None:
    """The command ``text`` names in any of the seven languages (the dialogue asks before storing
    such a word as a free-text answer: "cofnij" typed in an English dialogue means BACK).
    ``catalogues`` gives each language's translator (default: flows.i18n.catalogue)."""
    typed = key(text)
    for code in CODES:
        found = _recognised(typed, (catalogues or catalogue)(code), code)
        if found is not None:
            return found
    return None


def as_shown(text: str, t: Translator) -> bool:
    """Is ``text`` a command word exactly as the product shows it ("BACK", "NÔL", "EDIT 3"), in
    English or in the language of ``t``? Typed so, it is a command even on a free-text question;
    any other form there ("back", "Back", "cofnij") may be the answer itself."""
    shown = _SHOWN.match(text.strip().rstrip(".!"))
    word = shown["word"] if shown else ""
    return word in _shown_words(t)


@lru_cache(maxsize=32)
def _shown_words(t: Translator) -> frozenset[str]:
    msgids = [m for words in WORDS.values() for m in words]
    return frozenset({*msgids, *(t.gettext(m) for m in msgids)})


def shown_word(typed: Typed, t: Translator) -> str:
    """The command as the dialogue names it in the language of ``t`` ("WSTECZ", "ZMIEŃ 3")."""
    word = t.gettext(WORDS[typed.command][0])
    return word if typed.number is None else f"{word} {typed.number}"
