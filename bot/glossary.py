"""One term per language for each key word of the NRM: translations/glossary.tsv, and its check.

The audit of the catalogues found the same English term translated two or three ways (Arabic
"Duty to Notify" as two different phrases, Romanian "referral" as both "trimitere" and
"sesizare", Vietnamese "giới thiệu" beside "chuyển tuyến"), and the dialogue and the staff pages
disagreeing. The glossary names the one term, the inflected forms it may take (a regular
expression) and the variants found wrong; :func:`violations` lists every msgstr that breaks it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flows.languages import key

GLOSSARY = Path(__file__).resolve().parent.parent / "translations" / "glossary.tsv"


@dataclass(frozen=True)
class Entry:
    english: str
    """A regular expression on the msgid (case ignored): the messages that use the term."""
    language: str
    term: str
    """The one term used in ``language`` (shown to translators)."""
    forms: str
    """A regular expression on the normalised msgstr: the term and its inflected forms."""
    forbidden: str | None
    """A regular expression of wrong or inconsistent variants, or None."""


@cache
def entries() -> tuple[Entry, ...]:
    with open(GLOSSARY, encoding="utf-8") as fileobj:
        rows = csv.DictReader((line for line in fileobj if not line.startswith("#")), delimiter="\t")
        return tuple(
            Entry(row["english"], row["language"], row["term"], row["forms"],
                  None if row["forbidden"] == "-" else row["forbidden"])
            for row in rows
        )


def normalise(text: str, language: str) -> str:
    """Lower case in NFC (Vietnamese tone marks matter); Arabic folded like typed text
    (``flows.languages.key``: hamza on alif, taa marbuta, harakat)."""
    text = unicodedata.normalize("NFC", text)
    return key(text) if language == "ar" else text.casefold()


def check(entry: Entry, msgstr: str) -> str | None:
    """Why ``msgstr`` breaks ``entry`` (None when it keeps to it)."""
    text = normalise(msgstr, entry.language)
    if not re.search(entry.forms, text):
        return f"does not use {entry.term!r}"
    if entry.forbidden and (wrong := re.search(entry.forbidden, text)):
        return f"uses {wrong.group(0)!r} instead of {entry.term!r}"
    return None


def violations(language: str, messages) -> list[str]:
    """Every msgstr of ``messages`` (a Babel catalogue of ``language``) that breaks the glossary."""
    found = []
    rules = [entry for entry in entries() if entry.language == language]
    for message in messages:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        for entry in rules:
            if not any(re.search(entry.english, msgid, re.IGNORECASE) for msgid in ids):
                continue
            for msgstr in strings:
                if msgstr and (why := check(entry, msgstr)):
                    found.append(f"{language}: {ids[0]!r} -> {msgstr!r}: {why}")
    return found
