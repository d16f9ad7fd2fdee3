"""SMS arithmetic: which alphabet a text needs, how many segments it costs, and fitting text to SMS.

A text message is sent in the GSM 03.38 7-bit alphabet when every character is in it, otherwise in
UCS-2 (UTF-16). One segment carries 160 septets (GSM-7) or 70 UTF-16 code units (UCS-2); a longer
message is split into parts of 153 septets or 67 units (the rest of each part is the concatenation
header). Characters of the GSM extension table (``€ [ ] { } \\ ^ ~ |`` and form feed) take two
septets (escape + character), and characters outside the Basic Multilingual Plane (most emoji) take
two UTF-16 units; neither pair is split between two parts, as real encoders do not split them.

One curly quote or en dash is enough to switch a whole message to UCS-2 and more than double its
cost, so every reply goes through :func:`sanitise` first. :func:`fit` splits a long reply into
several messages of at most :data:`MAX_SEGMENTS` segments each (and never over Twilio's 1,600
characters), at line boundaries where it can, then at sentence ends; :func:`pack` puts short
replies together. Nothing here changes a letter: a text in a language that needs UCS-2 goes out
as written (``flows.languages.Language.sms_segments`` is each language's budget).
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from backend.text_hygiene import clean

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The 127 printable characters (and LF, CR) of the GSM 03.38 default alphabet: one septet each."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""The GSM 03.38 extension table: two septets each (ESC + character)."""

GSM7 = "GSM-7"
UCS2 = "UCS-2"

SINGLE = {GSM7: 160, UCS2: 70}
"""Units (septets or UTF-16 code units) that fit in a message of one segment."""
PART = {GSM7: 153, UCS2: 67}
"""Units per segment of a concatenated (multipart) message."""

MAX_SEGMENTS = 3
"""The budget of one reply message: a prompt must be readable in at most three segments."""
MAX_MESSAGE_CHARS = 1600
"""Twilio's limit on the body of one outgoing message (one TwiML ``<Message>``)."""

_REPLACEMENTS = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark / apostrophe
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u2032": "'",  # prime
    "\u00b4": "'",  # acute accent used as an apostrophe
    "\u0060": "'",  # grave accent used as an apostrophe (` is not in GSM-7)
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u201f": '"',  # double high-reversed-9 quotation mark
    "\u2033": '"',  # double prime
    "\u00ab": '"',  # left-pointing double angle quotation mark
    "\u00bb": '"',  # right-pointing double angle quotation mark
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French punctuation, number grouping)
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # horizontal ellipsis
    "\u2022": "-",  # bullet
    "\t": " ",
    "\u200b": "",  # zero width space
    "\u200d": "",  # zero width joiner
    "\ufeff": "",  # byte order mark / zero width no-break space
}
_TABLE = str.maketrans(_REPLACEMENTS)


def sanitise(text: str) -> str:
    """Replace look-alike punctuation (curly quotes, NBSP, U+202F, dashes, ellipsis) by GSM-7
    characters, so that a stray typographic character does not force the whole message to UCS-2,
    and remove control characters (``backend.text_hygiene.clean``: an answer quoted from an old
    draft may hold NUL or ESC, which no SMS can carry and no TwiML may contain).

    Letters are left alone: a message in a language that needs UCS-2 stays correct. And a text
    that needs UCS-2 anyway keeps its own punctuation too (Persian «», Polish „”, the zero-width
    non-joiner of Persian and the joiner of Bengali): replacing them would save nothing.
    """
    cleaned = clean(text.replace("\r\n", "\n"))
    plain = cleaned.translate(_TABLE)
    return plain if is_gsm7(plain) else cleaned


GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION
_BMP_END = "\uffff"


def is_gsm7(text: str) -> bool:
    """Can ``text`` be sent in the GSM-7 alphabet (basic set plus extension table)?"""
    return GSM7_ALL.issuperset(text)


def encoding(text: str) -> str:
    """``"GSM-7"`` or ``"UCS-2"``: the alphabet a phone network sends ``text`` in."""
    return GSM7 if is_gsm7(text) else UCS2


def char_units(ch: str, alphabet: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    if alphabet == GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def _one_unit_each(text: str, alphabet: str) -> bool:
    """Does every character of ``text`` take one unit (no GSM-7 escape, no UTF-16 pair)? Set and
    ``max`` run in C: the common case of every reply needs no loop over its characters."""
    if alphabet == GSM7:
        return GSM7_BASIC.issuperset(text)
    return not text or max(text) <= _BMP_END


def units(text: str, alphabet: str | None = None) -> int:
    """The length of ``text`` in its alphabet's units: septets for GSM-7, UTF-16 units for UCS-2."""
    alphabet = alphabet or encoding(text)
    if _one_unit_each(text, alphabet):
        return len(text)
    return sum(char_units(ch, alphabet) for ch in text)


def segments(text: str) -> int:
    """How many SMS segments ``text`` costs (an empty message still costs one)."""
    alphabet = encoding(text)
    simple = _one_unit_each(text, alphabet)
    total = len(text) if simple else units(text, alphabet)
    if total <= SINGLE[alphabet]:
        return 1
    if simple:
        return -(-total // PART[alphabet])
    # Multipart: fill parts of PART units; a two-unit character never straddles two parts.
    count, used = 1, 0
    for ch in text:
        size = char_units(ch, alphabet)
        if used + size > PART[alphabet]:
            count, used = count + 1, 0
        used += size
    return count


def fits(text: str, max_segments: int = MAX_SEGMENTS) -> bool:
    """Is ``text`` within ``max_segments`` segments and Twilio's per-message character limit?"""
    return len(text) <= MAX_MESSAGE_CHARS and segments(text) <= max_segments


def looks_cut(text: str) -> bool:
    """Is ``text`` exactly one segment long (160/153 septets, 70/67 UCS-2 units)?

    A long text that a handset or carrier failed to concatenate arrives as separate messages of
    exactly one part's length; a sender who typed up to the limit of a single SMS sends exactly
    one segment's length. Either way more is probably coming.
    """
    alphabet = encoding(text)
    return units(text, alphabet) in (SINGLE[alphabet], PART[alphabet])


def fit(text: str, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """Split ``text`` into messages of at most ``max_segments`` segments each.

    Splits at line boundaries (a summary keeps each numbered item whole), a line that is too long
    on its own at sentence ends (a read-aloud explanation stays readable sentence by sentence), a
    sentence that is too long on its own at spaces, and a single word that is too long anywhere.
    Text that fits is returned as it is, in a list of one.
    """
    if fits(text, max_segments):
        return [text]
    return _greedy(text.split("\n"), "\n", max_segments, lambda line: _split_line(line, max_segments))


_SENTENCE_END = re.compile(r"(?<=[.!?\u061f\u06d4\u0964\u1362\u1367\u1368]) ")
"""A space after a full stop, ! or ?, and after the Arabic ؟, the Urdu ۔, the Bengali danda and
the Ethiopic ። ፧ ፨ (Amharic, Tigrinya)."""
_FULL_WIDTH_END = re.compile(r"(?<=[\u3002\uff01\uff1f])(?!$)")
"""After the Chinese 。！？, which no space follows."""


def sentences(line: str) -> list[str]:
    """``line`` cut after each sentence end (the spaces between sentences are dropped)."""
    return [part for piece in _SENTENCE_END.split(line) for part in _FULL_WIDTH_END.split(piece)]


def _split_line(line: str, max_segments: int) -> list[str]:
    return _greedy(sentences(line), " ", max_segments, lambda sentence: _split_sentence(sentence, max_segments))


def _split_sentence(sentence: str, max_segments: int) -> list[str]:
    return _greedy(sentence.split(" "), " ", max_segments, lambda word: _split_word(word, max_segments))


def _split_word(word: str, max_segments: int) -> list[str]:
    pieces: list[str] = []
    while not fits(word, max_segments):
        cut = _longest_prefix(word, max_segments)
        pieces.append(word[:cut])
        word = word[cut:]
    pieces.append(word)
    return pieces


def _greedy(parts: list[str], separator: str, max_segments: int,
            split: Callable[[str], list[str]]) -> list[str]:
    """Join ``parts`` back with ``separator`` into as few chunks as fit; a part too long on its own
    is cut by ``split`` (whose last piece starts the next chunk)."""
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = part if not current else current + separator + part
        if fits(candidate, max_segments):
            current = candidate
            continue
        if current:
            chunks.append(current)
        pieces = [part] if fits(part, max_segments) else split(part)
        chunks.extend(pieces[:-1])
        current = pieces[-1]
    if current or not chunks:
        chunks.append(current)
    return chunks


def _longest_prefix(word: str, max_segments: int) -> int:
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(word[:middle], max_segments):
            low = middle
        else:
            high = middle - 1
    return low


def pack(texts: Iterable[str], max_segments: int = MAX_SEGMENTS, separator: str = "\n\n") -> list[str]:
    """Sanitise, fit and then join consecutive short texts into as few messages as stay in budget.

    Texts sent as one message arrive in order; separate messages may not, so fewer is better.
    """
    pieces = [piece for text in texts for piece in fit(sanitise(text), max_segments)]
    messages: list[str] = []
    for piece in pieces:
        if messages and fits(messages[-1] + separator + piece, max_segments):
            messages[-1] = messages[-1] + separator + piece
        else:
            messages.append(piece)
    return messages
