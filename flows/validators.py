"""Turn what a person typed into the stored value of a question, or say briefly what is wrong.

``parse(question, text, ctx)`` dispatches on ``question.kind``. Every value returned is
JSON-serialisable. Every refusal is an ``Invalid`` whose message is an English msgid (marked with
``N_``, with named ``{placeholders}`` filled from ``params`` after translation), short enough for
an SMS. ``lookups.match`` may also raise ``Ambiguous`` for list questions.

The rules follow NRM-FORM.md ("Validation"): at least as strict as the Home Office form, and
stricter where it is weak (phone numbers, postcodes, dates). SKIP is handled by the dialogue
before ``parse`` is called.
"""

from __future__ import annotations

import datetime
import re
from functools import cache, lru_cache
from typing import Any, Callable

from flows import languages, lookups
from flows.lookups import fold
from flows.question import N_, Choice, Invalid, Kind, ParseContext, Question

Parser = Callable[[Question, str, ParseContext], Any]


def parse(question: Question, text: str, ctx: ParseContext) -> Any:
    """The stored value for ``text`` typed in answer to ``question``; raises ``Invalid``."""
    if question.kind is _CONFIRM:
        raise ValueError("CONFIRM questions are answered by the dialogue, not parsed")
    if question.kind is _TEXT:
        cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    else:
        cleaned = single_line(text)
    if not cleaned:
        raise _empty(question)
    return _PARSERS[question.kind](question, cleaned, ctx)


_CONFIRM, _TEXT = Kind.CONFIRM, Kind.TEXT
"""(A member read from the enum class is slow in this Python: read once.)"""
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_RANGE = re.compile(r"\b(\d{1,2})\s*-\s*(\d{1,2})\b")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def single_line(text: str) -> str:
    """Trim, collapse runs of spaces and line breaks, and make every dash a plain hyphen (as the
    form does for single-line inputs), so phones' auto-formatting does not matter."""
    return " ".join(_DASHES.sub("-", text).split())


def _empty(question: Question) -> Invalid:
    if question.optional:
        return Invalid(N_("Please type an answer, or SKIP if you don't know"))
    return Invalid(N_("Please type an answer"))


# --- choices -----------------------------------------------------------------------------------

YES_WORDS = ("yes", "y", "yeah", "yep", "yup", "aye", "yes please")
NO_WORDS = ("no", "n", "nope", "nah", "no thanks")
"""Extra words for any option whose value is "yes" or "no" (yes/no and yes/no/not-sure)."""

FILLER_WORDS = frozenset({"and", "also", "plus", "or"})
"""Words allowed between the picks of a multi-choice answer ("1, 3 and 4")."""


def _phrases(question: Question, ctx: ParseContext | None = None) -> tuple[tuple[str, int], ...]:
    """Every folded phrase that picks an option (label, value, extra words), longest first: in
    English and, when the dialogue has another language, in that language too."""
    return _phrasing(question, ctx)[0]


def _phrase_index(question: Question, ctx: ParseContext | None = None) -> dict[str, int]:
    """``_phrases`` as a dict, phrase -> option index (read only)."""
    return _phrasing(question, ctx)[1]


_PHRASINGS: dict[tuple[int, str, int], tuple[Question, Any, tuple[tuple[str, int], ...], dict[str, int]]] = {}


def _phrasing(question: Question, ctx: ParseContext | None) -> tuple[tuple[tuple[str, int], ...], dict[str, int]]:
    """``_phrases`` and ``_phrase_index``, remembered per question, language and translator by
    identity (each entry keeps both alive, as ``render.wording`` does): an answer reads them
    without hashing the question's options."""
    language, t = ("en", None) if ctx is None or ctx.language == "en" else (ctx.language, ctx.t)
    key = (id(question), language, id(t))
    known = _PHRASINGS.get(key)
    if known is None:
        table = _phrase_table(question.options(), language, t)
        if len(_PHRASINGS) >= 4096:
            _PHRASINGS.clear()
        known = _PHRASINGS[key] = (question, t, table, dict(table))
    return known[2], known[3]


@lru_cache(maxsize=512)
def _phrase_table(options: tuple[Choice, ...], language: str, t: Any) -> tuple[tuple[str, int], ...]:
    """``_phrases`` for a question's options in one language, folded once (per translator: the
    labels are read in the language of ``t``)."""
    found: dict[str, int] = {}
    for index, choice in enumerate(options):
        for phrase in _choice_phrases(choice, language, t):
            found.setdefault(phrase, index)
    return tuple(sorted(found.items(), key=lambda item: -len(item[0])))


def _choice_phrases(choice: Choice, language: str, t: Any) -> set[str]:
    extra = YES_WORDS if choice.value == "yes" else NO_WORDS if choice.value == "no" else ()
    words = [choice.label, choice.value, *choice.words, *extra]
    if language != "en":
        if t is not None:
            words.append(t.gettext(choice.label))
        local = languages.YES_WORDS if choice.value == "yes" else languages.NO_WORDS
        if choice.value in ("yes", "no"):
            words.extend(local.get(language, ()))
    folded = {fold(word) for word in words} | {fold(languages.unaccented(word)) for word in words}
    return {phrase for phrase in folded if phrase}


@lru_cache(maxsize=16)
def _fillers_of(language: str) -> frozenset[str]:
    return FILLER_WORDS | {fold(word) for word in languages.AND_WORDS.get(language, ())}


def _fillers(ctx: ParseContext | None) -> frozenset[str]:
    if ctx is None or ctx.language == "en":
        return FILLER_WORDS
    return _fillers_of(ctx.language)


def _pick_one(question: Question, text: str, ctx: ParseContext) -> str:
    """CHOICE and YES_NO: one option, by its number or its words; "no" refused if must_be_yes."""
    options = question.options()
    index = _one_index(question, fold(text), ctx)
    if index is None:
        if question.kind is Kind.YES_NO:
            raise Invalid(N_("Please reply YES or NO"))
        raise Invalid(
            N_("Please reply with the number of your answer, 1 to {count}"), count=len(options)
        )
    value = options[index].value
    if question.must_be_yes and value != "yes":
        raise Invalid(question.refusal or N_("The referral cannot go ahead without a yes"))
    return value


def _one_index(question: Question, key: str, ctx: ParseContext | None = None) -> int | None:
    """The option meant by a folded answer, or None; raises when the answer names several."""
    phrases = _phrase_index(question, ctx)
    if key in phrases:
        return phrases[key]
    picks = _multi_indexes(question, key, strict=False, ctx=ctx)
    if picks is not None and len(set(picks)) == 1:
        return picks[0]
    if picks is not None and len(set(picks)) > 1:
        raise Invalid(N_("Please choose one answer only"))
    starting = {
        index for phrase, index in phrases.items() if len(key) >= 3 and phrase.startswith(key + " ")
    }
    return starting.pop() if len(starting) == 1 else None


def _pick_several(question: Question, text: str, ctx: ParseContext) -> list[str]:
    """MULTI: one or more options ("1 3", "1, 3 and 4", "1 & 3", or their words), in order."""
    options = question.options()
    picks = _multi_indexes(question, fold(_expand_ranges(text)), strict=True, ctx=ctx)
    if not picks:
        raise Invalid(N_("Please choose at least one: reply with the numbers, like 1 3"))
    return [options[index].value for index in sorted(set(picks))]


def _expand_ranges(text: str) -> str:
    """Read "2-4" as "2 3 4" (a range of option numbers)."""

    def expand(found: re.Match[str]) -> str:
        low, high = int(found[1]), int(found[2])
        return " ".join(map(str, range(low, high + 1))) if 0 < high - low < 20 else found[0]

    return _RANGE.sub(expand, text)


def _multi_indexes(
    question: Question, key: str, *, strict: bool, ctx: ParseContext | None = None
) -> list[int] | None:
    """Option indexes named in a folded answer: phrases are found first (they may contain
    "and" or digits), then the numbers left. Unknown words raise when ``strict``, else None."""
    count = len(question.options())
    fillers = _fillers(ctx)
    marked = f" {key} "
    if " " not in key:  # one word: only a phrase that is that word can mark it
        index = _phrase_index(question, ctx).get(key)
        phrases: tuple[tuple[str, int], ...] = () if index is None else ((key, index),)
    else:
        phrases = _phrases(question, ctx)
    for phrase, index in phrases:
        marked = marked.replace(f" {phrase} ", f" @{index} ")
        marked = marked.replace(f" {phrase} ", f" @{index} ")  # again, for adjacent repeats
    picks: list[int] = []
    for token in marked.split():
        if token.startswith("@"):
            picks.append(int(token[1:]))
        elif token.isdigit():
            if not 1 <= int(token) <= count:
                raise Invalid(
                    N_("There is no option {number}. Choose from 1 to {count}"),
                    number=int(token),
                    count=count,
                )
            picks.append(int(token) - 1)
        elif token in fillers:
            continue
        elif strict:
            raise Invalid(
                N_("\"{word}\" is not one of the options. Reply with the numbers, like 1 3"),
                word=token,
            )
        else:
            return None
    return picks


# --- list lookups and free text ----------------------------------------------------------------

def _lookup(question: Question, text: str, ctx: ParseContext) -> str:
    """LOOKUP: the exact entry of the question's reference list (may raise Ambiguous)."""
    if not question.lookup:
        raise ValueError(f"question {question.id} has no lookup list")
    if ctx.language != "en" and "Unknown" in lookups.entries(question.lookup):
        said = {fold(languages.unaccented(w)) for w in languages.UNKNOWN_WORDS.get(ctx.language, ())}
        if ctx.t is not None:
            said.add(fold(languages.unaccented(ctx.t.gettext(languages.UNKNOWN))))
        if fold(languages.unaccented(text)) in said:  # "Nieznane", "Không rõ": the list's Unknown
            return lookups.match(question.lookup, "Unknown", question.exclude, ctx.language)
    return lookups.match(question.lookup, text, question.exclude, ctx.language)


def as_typed(question: Question, text: str) -> str:
    """A LOOKUP answer kept as typed ("none of these"), where the question does not bind the
    answer to its list: one line, within max_length."""
    if not question.free_text:
        raise ValueError(f"question {question.id} takes only entries of its list")
    cleaned = single_line(text)
    if not cleaned:
        raise _empty(question)
    return _text(question, cleaned, ParseContext(today=None))


_TLDS = "com|org|net|uk|info|biz|io|co|me|ly|app|xyz|online|site|eu|gov|edu|tv|ru|de|fr|cn|in"
_URL = re.compile(
    rf"""(?ix)
    \b(?:https?://|ftp://|www\.)[^\s]*                                  # with a scheme or www.
    | (?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s]*)?  # bare
    """
)
"""Web addresses. Bare domains need a common top-level domain, so "e.g." or "etc." pass; email
addresses pass too (an address is not a link)."""


def _text(question: Question, text: str, ctx: ParseContext) -> str:
    """TEXT: any words, line breaks kept, within max_length, without links where refused."""
    if len(text) > question.max_length:
        raise Invalid(
            N_("That is {length} characters. Please shorten it to {max} or fewer"),
            length=len(text),
            max=question.max_length,
        )
    if question.no_urls and (found := _URL.search(text)):
        raise Invalid(
            N_("Please remove the web address {url}: links cannot be accepted here"), url=found[0]
        )
    return text


# --- dates -------------------------------------------------------------------------------------

def _numbered(names: str) -> dict[str, int]:
    return {name: number for number, name in enumerate(names.split(), 1)}


MONTH_NAMES: dict[str, dict[str, int]] = {
    "en": {
        **_numbered(
            "january february march april may june july august september october november december"
        ),
        **_numbered("jan feb mar apr may jun jul aug sep oct nov dec"),
        "sept": 9,
    },
}
"""Folded month names by language. English is always understood; other languages are added
here or taken from Babel's locale data (wide and abbreviated names)."""

EARLIEST = datetime.date(1900, 1, 1)
"""Dates must be after this day (as on the form)."""

_APPROX_BEFORE = re.compile(
    r"^(?:~|about|approx(?:imately)?\.?|around|circa|ca\.?|c\.|c(?=\s*\d)|roughly|sometime in)\s*",
    re.IGNORECASE,
)
_APPROX_AFTER = re.compile(r"\s*(?:-?ish|approx(?:imately)?\.?|or so|\?)$", re.IGNORECASE)
_NUMBER = re.compile(r"^(\d{1,4})(?:st|nd|rd|th)?$")
_FILLER = frozenset({"of", "the", "on", "in"})


@cache
def month_names(language: str) -> dict[str, int]:
    """Folded month name -> number: English plus the dialogue language (from Babel if known)."""
    names = dict(MONTH_NAMES["en"])
    names.update(MONTH_NAMES.get(language, {}))
    if language != "en":
        try:
            from babel.dates import get_month_names

            for width in ("wide", "abbreviated"):
                for context in ("format", "stand-alone"):
                    for number, name in get_month_names(width, context, locale=language).items():
                        names.setdefault(fold(name), number)
        except Exception:  # an unknown locale: English names still work
            pass
    for name, number in languages.EXTRA_MONTHS.get(language, {}).items():
        names.setdefault(name, number)
    for name, number in list(names.items()):
        if " " in name:  # "thang 2" (Vietnamese), "tishreen al-awal": read as one token
            names[name.replace(" ", "_")] = number
    return names


def _join_month_words(folded: str, language: str) -> str:
    """Join month names of several words ("thang 2") into the one token month_names knows."""
    for name, pattern, token in _month_phrases(language):
        if name in folded:
            folded = pattern.sub(token, folded)
    return folded


@cache
def _month_phrases(language: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """The month names of several words of ``language``, longest first, each with its pattern
    and its one-token form (compiled once per language)."""
    names = sorted((m for m in month_names(language) if " " in m), key=len, reverse=True)
    return tuple((name, re.compile(rf"(?<!\S){re.escape(name)}(?!\S)"), name.replace(" ", "_")) for name in names)


@cache
def _date_fillers(language: str) -> frozenset[str]:
    return _FILLER | frozenset(languages.DATE_FILLERS.get(language, ()))


def _date(question: Question, text: str, ctx: ParseContext) -> dict[str, Any]:
    """DATE: a real, past date after 1900, day first; with partial_date also a month and year
    or a year, and "about"-style markers. Returns {"date": ISO text, "approximate": bool}."""
    approximate = False
    for marker in (_APPROX_BEFORE, _APPROX_AFTER):
        if marker.search(text):
            text, approximate = marker.sub("", text), True
    plain = fold(text)
    folded, local = languages.strip_approximate(plain, ctx.language)
    if local:  # "około 1990", "khoảng 1990", "tua 1990"...
        plain, approximate = folded, True
    if approximate and not question.partial_date:
        raise Invalid(N_("Please give the exact date, like 3/2/1990"))
    year, month, day = _date_parts(plain, ctx)
    if day is None and not question.partial_date:
        raise Invalid(N_("Please give the full date, like 3/2/1990"))
    return {"date": _checked(year, month, day, ctx.today), "approximate": approximate}


def _date_parts(folded: str, ctx: ParseContext) -> tuple[int, int | None, int | None]:
    """(year, month, day) read from the typed text (folded: ``fold`` gives it back unchanged);
    month and day may be None (partial)."""
    months = month_names(ctx.language)
    fillers = _date_fillers(ctx.language)
    tokens = [token for token in _join_month_words(folded, ctx.language).split() if token not in fillers]
    matched = [_NUMBER.match(t) for t in tokens]
    shape = "".join("m" if t in months else "n" if found else "?" for t, found in zip(tokens, matched))
    numbers = [found[1] if found else "" for found in matched]
    month_of = [months.get(t) for t in tokens]
    today = ctx.today

    def year(digits: str) -> int:
        return _full_year(digits, today)

    if shape == "nnn" and len(numbers[0]) == 4:
        return int(numbers[0]), int(numbers[1]), int(numbers[2])
    if shape == "nnn":
        _check_day_first(int(numbers[0]), int(numbers[1]))
        return year(numbers[2]), int(numbers[1]), int(numbers[0])
    if shape == "nmn" and len(numbers[0]) == 4:
        return int(numbers[0]), month_of[1], int(numbers[2])
    if shape == "nmn":
        return year(numbers[2]), month_of[1], int(numbers[0])
    if shape == "mnn":
        return year(numbers[2]), month_of[0], int(numbers[1])
    if shape in ("mn", "nm") and len(numbers[shape.index("n")]) == 4:
        return int(numbers[shape.index("n")]), month_of[shape.index("m")], None
    if shape == "nn" and len(numbers[1]) == 4 and len(numbers[0]) <= 2:
        return int(numbers[1]), int(numbers[0]), None
    if shape == "nn" and len(numbers[0]) == 4 and len(numbers[1]) <= 2:
        return int(numbers[0]), int(numbers[1]), None
    if shape == "n" and len(numbers[0]) == 4:
        return int(numbers[0]), None, None
    if shape in ("mn", "nm", "nn", "m"):
        raise Invalid(N_("Please include the year, like 3/2/1990"))
    raise Invalid(N_("Please give a date like 3/2/1990"))


def _full_year(digits: str, today: datetime.date) -> int:
    """Four digits as they are; two digits as the most recent year that is not in the future."""
    if len(digits) == 4:
        return int(digits)
    if len(digits) == 2:
        candidate = 2000 + int(digits)
        return candidate if candidate <= today.year else candidate - 100
    raise Invalid(N_("Please give the year in full, like 1990"))


def _check_day_first(day: int, month: int) -> None:
    """Catch month-first dates such as 12/25/1990 with a hint rather than "does not exist"."""
    if month > 12 and day <= 12 and month <= 31:
        raise Invalid(N_("Please put the day first, like 25/12/1990"))


def _checked(year: int, month: int | None, day: int | None, today: datetime.date) -> str:
    """The ISO text of a real date (or year-month, or year) after 1900 and not in the future."""
    if month is not None and not 1 <= month <= 12:
        raise Invalid(N_("That date does not exist"))
    try:
        first = datetime.date(year, month or 1, day or 1)
    except ValueError:
        raise Invalid(N_("That date does not exist")) from None
    if first > today:
        raise Invalid(N_("That date is in the future"))
    if first < EARLIEST or (day is not None and first == EARLIEST):
        raise Invalid(N_("Please give a date after 1 January 1900"))
    if day is not None:
        return first.isoformat()
    return f"{year:04d}-{month:02d}" if month is not None else f"{year:04d}"


# --- contact details and numbers ---------------------------------------------------------------

FICTIONAL_MOBILES = re.compile(r"^\+447700900\d{3}$")
"""Ofcom's drama range 07700 900000-900999: not real, but the usual example number on GOV.UK
pages and in our test data, so accepted although libphonenumber calls it invalid."""


def _phone(question: Question, text: str, ctx: ParseContext) -> str:
    """PHONE: a real number (UK by default, others with +country code), as E.164."""
    import phonenumbers  # imported at the first phone answer: slow, and start-up needs none

    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        raise Invalid(N_("Enter a real telephone number, like 07700 900123")) from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not (phonenumbers.is_valid_number(number) or FICTIONAL_MOBILES.match(e164)):
        raise Invalid(N_("Enter a real telephone number, like 07700 900123"))
    return e164


def normal_email(text: str) -> str | None:
    """``text`` as a well-formed address in its normal form, or None: ``email-validator``'s syntax
    rules (no DNS check: nothing waits on the network), which also refuse the invisible and
    direction-changing characters that would make one address look like another."""
    from email_validator import EmailNotValidError, validate_email  # at the first address checked

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _email(question: Question, text: str, ctx: ParseContext) -> str:
    """EMAIL: a well-formed address."""
    address = normal_email(text)
    if address is None:
        raise Invalid(N_("Enter a valid email address, like name@example.com"))
    return address


_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[0-9][A-HJKPS-UW])"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)
"""The standard UK postcode pattern (outward code, then inward code), without the space."""


def _postcode(question: Question, text: str, ctx: ParseContext) -> str:
    """POSTCODE: a UK postcode in any case and spacing, returned as "SW1A 1AA"."""
    compact = _SPACES.sub("", text).upper()
    if not _POSTCODE.match(compact):
        raise Invalid(N_("Enter a real UK postcode, like SW1A 1AA"))
    return f"{compact[:-3]} {compact[-3:]}"


NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}
MAX_NUMBER = 99
"""Default upper bound for NUMBER questions (``question.extra["max"]`` overrides it)."""


def _number(question: Question, text: str, ctx: ParseContext) -> int:
    """NUMBER: a whole number from 0 to the maximum, in digits or as a word up to twelve."""
    highest = int(question.extra.get("max", MAX_NUMBER))
    if _DIGITS.fullmatch(text):
        digits = text.lstrip("0") or "0"
        value = int(digits) if len(digits) <= 9 else highest + 1
    elif fold(text) in NUMBER_WORDS:
        value = NUMBER_WORDS[fold(text)]
    else:
        raise Invalid(N_("Please reply with a number, like 2"))
    if value > highest:
        raise Invalid(N_("Please give a number from 0 to {max}"), max=highest)
    return value


_PARSERS: dict[Kind, Parser] = {
    Kind.CHOICE: _pick_one,
    Kind.YES_NO: _pick_one,
    Kind.MULTI: _pick_several,
    Kind.LOOKUP: _lookup,
    Kind.TEXT: _text,
    Kind.DATE: _date,
    Kind.PHONE: _phone,
    Kind.EMAIL: _email,
    Kind.POSTCODE: _postcode,
    Kind.NUMBER: _number,
}
