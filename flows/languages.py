"""The seven dialogue languages: the first-contact menu, LANGUAGE and EXPLAIN, and SMS budgets.

English is the source language (msgids are the English text); the other six have catalogues under
``translations/``. Each language is offered *named in itself*, so someone who cannot read English
finds their own, and the word LANGUAGE works in every one of them from any step, whatever the
dialogue's current language (a person handed the phone must be able to get to their language).

The consent explanation (``EXPLAIN``, texts in ``flows.consent``) can be shown in a language other
than the dialogue's: staff may run the dialogue in English and read the explanation to the person
in Vietnamese.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from flows.i18n import Translator, tr
from flows.question import N_


@dataclass(frozen=True)
class Language:
    code: str
    """The catalogue's locale (``translations/<code>/``), also stored with every answer."""
    name: str
    """The language named in itself, as offered in the menu."""
    english: str
    word: tuple[str, ...]
    """The word for LANGUAGE in this language (typed forms, with and without accents)."""
    sms_segments: int = 3
    """The SMS segments one reply may take in this language, written faithfully: letters outside
    the GSM alphabet (ŵ, ë, ư, ș, ł, Arabic) make a message UCS-2, 67 characters a segment, and
    accents are never stripped to save segments ("Bi ép mai dam" is ambiguous), so the longest
    prompt (the ten kinds of exploitation) takes more segments than in English."""
    rtl: bool = False
    latin: bool = True
    """Written in the Latin alphabet."""
    reviewed: bool = False
    """Reviewed by a native speaker (translations/README.md says by whom). An unreviewed
    explanation is shown to the responder with a warning (``flows.consent.UNREVIEWED``)."""
    catalogue: str = ""
    """The locale of its catalogues under translations/ when it differs from ``code``."""


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English", ("LANGUAGE",), reviewed=True),
    Language("cy", "Cymraeg", "Welsh", ("IAITH",), sms_segments=6),
    Language("sq", "Shqip", "Albanian", ("GJUHA", "GJUHË"), sms_segments=6),
    Language("vi", "Tiếng Việt", "Vietnamese", ("NGÔN NGỮ", "NGONNGU"), sms_segments=5),
    Language("ro", "Română", "Romanian", ("LIMBA", "LIMBĂ"), sms_segments=6),
    Language("pl", "Polski", "Polish", ("JĘZYK", "JEZYK"), sms_segments=6),
    Language("ar", "العربية", "Arabic", ("لغة", "اللغة"), sms_segments=4, rtl=True, latin=False),
)
"""In menu order: the number a user replies with is the position here, from 1."""

CODES: tuple[str, ...] = tuple(language.code for language in LANGUAGES)
BY_CODE: dict[str, Language] = {language.code: language for language in LANGUAGES}
SOURCE = "en"

EXPLAIN_ONLY: tuple[Language, ...] = (
    Language("ti", "ትግርኛ", "Tigrinya", (), latin=False),
    Language("am", "አማርኛ", "Amharic", (), latin=False),
    Language("fa", "فارسی", "Farsi", (), rtl=True, latin=False),
    Language("prs", "دری", "Dari", (), rtl=True, latin=False, catalogue="fa_AF"),
    Language("ps", "پښتو", "Pashto", (), rtl=True, latin=False),
    Language("ckb", "کوردی", "Kurdish (Sorani)", (), rtl=True, latin=False),
    Language("ur", "اردو", "Urdu", (), rtl=True, latin=False),
    Language("bn", "বাংলা", "Bengali", (), latin=False),
    Language("zh", "中文", "Chinese", (), latin=False, catalogue="zh_Hans"),
    Language("pt", "Português", "Portuguese", ()),
    Language("es", "Español", "Spanish", ()),
)
"""Languages of the people referred that the dialogue does not speak: the consent explanation and
the privacy summary exist in them (``EXPLAIN 8`` ... or ``EXPLAIN Tigrinya``), to be read to or
shown to the person; their catalogue is ``translations/<catalogue>/LC_MESSAGES/consent.po``.
With the dialogue's seven, they cover the main language of each of the twenty nationalities most
often referred to the NRM (Eritrean: Tigrinya; Ethiopian: Amharic; Afghan: Dari and Pashto;
Iranian: Farsi; Iraqi: Arabic and Sorani; Indian and Pakistani: Urdu; Bangladeshi: Bengali...)."""
EXPLAIN_LANGUAGES: tuple[Language, ...] = LANGUAGES + EXPLAIN_ONLY
"""The EXPLAIN list, numbered from 1: the dialogue's seven keep their numbers."""
EXPLAIN_BY_CODE: dict[str, Language] = {language.code: language for language in EXPLAIN_LANGUAGES}

LANGUAGE_QUESTION = "language"
"""The id of the language question in the web chat API (it is not a field of the referral)."""

MENU_PROMPT = N_("Choose a language. Reply with its number:")
EXPLAIN_OFFER = N_(
    "Reply EXPLAIN to see the explanation to read to the person, or EXPLAIN and a language number:"
)
CHANGED = N_("Language changed. Your answers are kept.")


def number_of(code: str) -> int:
    return CODES.index(code) + 1


def by_number(number: int | None) -> str | None:
    """The code of menu entry ``number`` (1-based), or None."""
    if number is not None and 1 <= number <= len(LANGUAGES):
        return LANGUAGES[number - 1].code
    return None


def menu_lines() -> str:
    """The numbered list, each language named in itself ("1 English" ... "7 العربية")."""
    return "\n".join(f"{n} {language.name}" for n, language in enumerate(LANGUAGES, start=1))


def explain_menu_lines() -> str:
    """The EXPLAIN list: "1 English" ... "7 العربية", "8 ትግርኛ" ... "18 Español"."""
    return "\n".join(f"{n} {language.name}" for n, language in enumerate(EXPLAIN_LANGUAGES, start=1))


def explain_by_number(number: int) -> str | None:
    """The code of EXPLAIN list entry ``number`` (1-based), or None."""
    if 1 <= number <= len(EXPLAIN_LANGUAGES):
        return EXPLAIN_LANGUAGES[number - 1].code
    return None


def menu(t: Translator) -> str:
    """The language question: a short instruction in the current language, then the list."""
    return tr(t, MENU_PROMPT) + "\n" + menu_lines()


# -- reading what was typed ------------------------------------------------------------------

_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})
_NOT_WORD = re.compile(r"[\W_]+")
_UNACCENTED = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ø": "o", "Ø": "O"})


def key(text: str) -> str:
    """A typed word or phrase reduced for comparing: case, accents, Arabic letter variants and
    diacritics, punctuation and spaces do not matter ("Ngôn ngữ" = "ngon ngu", "JĘZYK" = "jezyk")."""
    if text.isascii():  # nothing to decompose or to fold beyond case
        if text.isalnum():  # one word of letters and digits ("BACK", "1"): no separator to collapse
            return text.lower()
        return " ".join(_NOT_WORD.sub(" ", text.lower()).split())
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNACCENTED))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.translate(_ARABIC_LETTERS).replace("\u0640", "")  # and the tatweel
    return " ".join(_NOT_WORD.sub(" ", plain).split())


LANGUAGE_WORDS: frozenset[str] = frozenset(
    {key(word) for language in LANGUAGES for word in language.word}
    | {key(word.replace(" ", "")) for language in LANGUAGES for word in language.word}
    | {"lang"}
)
"""Every language's word for LANGUAGE: each works at any step, in any dialogue language."""

_NAMES: dict[str, str] = {}
for _language in LANGUAGES:
    for _name in (_language.code, _language.name, _language.english):
        _NAMES[key(_name)] = _language.code
        _NAMES[key(_name).replace(" ", "")] = _language.code
_NAMES.update({key("عربي"): "ar", key("Cymru"): "cy", key("Welsh"): "cy", key("Viet"): "vi"})


_EXPLAIN_NAMES: dict[str, str] = {}
for _language in EXPLAIN_LANGUAGES:
    for _name in (_language.code, _language.catalogue, _language.name, _language.english):
        if _name:
            _EXPLAIN_NAMES[key(_name)] = _language.code
            _EXPLAIN_NAMES[key(_name).replace(" ", "")] = _language.code
_EXPLAIN_NAMES.update({key(name): code for name, code in (
    ("Persian", "fa"), ("Farsi", "fa"), ("Kurdish", "ckb"), ("Sorani", "ckb"), ("کوردیی ناوەندی", "ckb"),
    ("Mandarin", "zh"), ("中文", "zh"), ("简体中文", "zh"), ("Bangla", "bn"), ("Portugues", "pt"),
    ("Espanol", "es"), ("Castellano", "es"), ("Tigrigna", "ti"), ("Tigrigna", "ti"), ("فارسی دری", "prs"),
    ("Welsh", "cy"), ("Arabic", "ar"), ("عربي", "ar"),
)})


def explain_pick(text: str) -> int | None:
    """The EXPLAIN list number of the language ``text`` names (its own name, its English name or
    its code: "Tigrinya", "ትግርኛ", "dari"), or None."""
    code = _EXPLAIN_NAMES.get(key(text)) or _EXPLAIN_NAMES.get(key(text).replace(" ", ""))
    if code is None:
        return None
    return [language.code for language in EXPLAIN_LANGUAGES].index(code) + 1


def pick(text: str) -> str | None:
    """The language meant by a reply to the menu: its number (Arabic-Indic digits too), its own
    name, its English name or its code; None when it is none of these."""
    typed = key(text)
    if typed.isdigit():
        return by_number(int(typed))
    return _NAMES.get(typed) or _NAMES.get(typed.replace(" ", ""))


_COMMAND = re.compile(r"^(?P<word>.*?)\s*(?P<number>\d+)?$")


def language_command(typed: str) -> tuple[bool, int | None]:
    """Is this the LANGUAGE command (in any of the seven languages), and with which number?
    ``typed`` is what was typed, reduced by :func:`key`."""
    found = _COMMAND.match(typed)
    if not found or not found["word"]:
        return False, None
    word = found["word"]
    if word in LANGUAGE_WORDS or word.replace(" ", "") in LANGUAGE_WORDS:
        return True, int(found["number"]) if found["number"] else None
    return False, None


# -- command words, per language ---------------------------------------------------------------

COMMAND_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "help": ("help me",),
        "back": ("go back", "previous"),
        "skip": ("skip it", "skip this"),
        "review": ("review answers", "check answers", "check my answers"),
        "restart": ("start again", "start over"),
        "cancel": ("delete",),
        "confirm": ("confirm and send", "submit"),
    },
    "cy": {
        "back": ("yn ôl", "mynd yn ôl"),
        "skip": ("neidio",),
        "review": ("adolygu'r atebion", "gwirio"),
        "restart": ("dechrau eto",),
        "confirm": ("cadarnhau ac anfon",),
        "explain": ("egluro",),
    },
    "sq": {
        "back": ("prapa", "kthehu"),
        "skip": ("kapërce", "anashkalo"),
        "review": ("rishiko përgjigjet",),
        "restart": ("fillo nga e para",),
        "cancel": ("fshi",),
        "confirm": ("konfirmo dhe dërgo",),
    },
    "vi": {
        "help": ("giúp", "giúp đỡ"),
        "back": ("trở lại", "lùi lại"),
        "review": ("xem lại câu trả lời",),
        "edit": ("thay đổi",),
        "restart": ("bắt đầu lại",),
        "confirm": ("xác nhận và gửi",),
    },
    "ro": {
        "back": ("revino", "mergi înapoi"),
        "skip": ("omite", "omiteți", "sări peste", "treci peste"),
        "review": ("verificați", "verificați răspunsurile"),
        "edit": ("modificați", "schimbați"),
        "restart": ("începe din nou", "reîncepeți"),
        "cancel": ("ștergeți",),
        "confirm": ("confirmați", "trimiteți", "confirmați și trimiteți"),
        "explain": ("explicați",),
    },
    "pl": {
        "back": ("cofnij", "wróć", "powrót", "z powrotem"),
        "review": ("przejrzyj", "przejrzyj odpowiedzi", "sprawdź odpowiedzi"),
        "edit": ("edytuj",),
        "restart": ("zacznij od nowa",),
        "cancel": ("skasuj",),
        "confirm": ("zatwierdź", "potwierdź i wyślij"),
        "explain": ("objaśnij",),
    },
    "ar": {
        "help": ("ساعدني",),
        "back": ("ارجع", "عودة", "السابق"),
        "skip": ("تخط", "تجاوز"),
        "review": ("مراجعة الإجابات",),
        "edit": ("عدل",),
        "restart": ("ابدأ من جديد",),
        "cancel": ("احذف",),
        "confirm": ("التأكيد والإرسال",),
        "explain": ("اشرح",),
    },
}
"""How people type the commands besides the catalogue's word (the msgstr of BACK...) and the web
chat page's button labels, which are always recognised: other common words and spellings, per
language. Case, accents and spaces do not matter (``key``: "quaylai" is QUAY LẠI), and in Arabic
a word with the article ("الرجوع") is the word. A test checks that none is a carrier keyword or the
label of a choice in that language."""

ARABIC_ARTICLE = "ال"


# -- words typed in answers, per language (compared after lookups.fold) ----------------------

YES_WORDS: dict[str, tuple[str, ...]] = {
    "cy": ("ie", "oes", "do", "ydy", "ydw", "ydyn", "ydi", "ydynt"),
    "sq": ("po", "patjeter"),
    "vi": ("co", "vang", "da", "u", "dung", "phai"),
    "ro": ("da",),
    "pl": ("tak",),
    "ar": ("نعم", "اجل", "ايوه", "اي"),
}
"""Besides the translated label "Yes": the other ways each language says yes (Welsh answers
with the verb of the question: oes, do, ydy...). English words always work too."""
NO_WORDS: dict[str, tuple[str, ...]] = {
    "cy": ("na", "nac oes", "naddo", "nac ydy", "nac ydw", "nac ydyn", "nac ydi", "nag oes"),
    "sq": ("jo",),
    "vi": ("khong", "ko", "k", "chua"),
    "ro": ("nu",),
    "pl": ("nie",),
    "ar": ("لا", "كلا"),
}
AND_WORDS: dict[str, tuple[str, ...]] = {
    "cy": ("a", "ac", "hefyd", "neu", "a hefyd"),
    "sq": ("dhe", "edhe", "ose", "apo"),
    "vi": ("va", "hoac", "cung", "voi"),
    "ro": ("si", "sau", "plus"),
    "pl": ("i", "oraz", "lub", "albo", "a", "plus"),
    "ar": ("و", "او"),
}
"""Words allowed between the numbers of a multi-choice answer ("1, 3 i 4")."""

APPROXIMATE_WORDS: dict[str, tuple[str, ...]] = {
    "cy": ("tua", "oddeutu", "yn fras", "rhywbryd yn"),
    "sq": ("rreth", "afersisht", "perafersisht", "rreth vitit", "ne vitin"),
    "vi": ("khoang", "tam", "khoang nam", "vao khoang"),
    "ro": ("circa", "aproximativ", "cam", "cam in", "prin", "in jur de", "pe la"),
    "pl": ("okolo", "ok", "mniej wiecej", "w przyblizeniu", "jakos"),
    "ar": ("حوالي", "حوالى", "تقريبا", "نحو", "في حدود"),
}
"""Words marking a date as approximate ("about 1990"), before or after the date."""

DATE_FILLERS: dict[str, tuple[str, ...]] = {
    "cy": ("o", "yn", "ym"),
    "sq": ("me", "ne", "viti", "vitin"),
    "vi": ("ngay", "nam"),
    "ro": ("pe", "in", "anul"),
    "pl": ("r", "roku", "rok", "w"),
    "ar": ("عام", "سنة", "في"),
}
"""Words people put around the parts of a date ("3 lutego 1990 r.", "ngày 3 tháng 2 năm 1990")."""

EXTRA_MONTHS: dict[str, dict[str, int]] = {
    "ar": {
        "كانون الثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6,
        "تموز": 7, "اب": 8, "ايلول": 9, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12,
    },
    "vi": {f"thang {n:02d}": n for n in range(1, 10)},
}
"""Month names Babel's locale data lacks: the Levantine and Iraqi names used across much of the
Arabic-speaking world, and Vietnamese "tháng 02". Folded, as lookups.fold gives them."""


# TRANSLATORS: the word to type when the answer is not known, in list questions (towns,
# countries, nationalities); the prompts that say "Reply Unknown" should use the same word.
UNKNOWN = N_("Unknown")
UNKNOWN_WORDS: dict[str, tuple[str, ...]] = {
    "cy": ("anhysbys", "ddim yn gwybod", "dim syniad", "ddim yn siwr"),
    "sq": ("e panjohur", "i panjohur", "nuk e di", "nuk dihet", "nuk e dime"),
    "vi": ("khong ro", "khong biet", "chua ro"),
    "ro": ("necunoscut", "nu stiu", "nu se stie"),
    "pl": ("nieznane", "nieznany", "nieznana", "nie wiem", "nie wiadomo"),
    "ar": ("غير معروف", "مجهول", "لا اعرف", "لا نعرف"),
}
"""Other ways to say "unknown" in a list question, besides the translation of UNKNOWN."""


def strip_approximate(folded: str, language: str) -> tuple[str, bool]:
    """A folded date without a leading or trailing approximate word of ``language``."""
    folded = folded.translate(_UNACCENTED)  # fold keeps ł and đ: "około" -> "okolo"
    for word in _approximate_words(language):
        if folded.startswith(word + " "):
            return folded[len(word) + 1 :], True
        if folded.endswith(" " + word):
            return folded[: -len(word) - 1], True
    return folded, False


@lru_cache(maxsize=16)
def _approximate_words(language: str) -> tuple[str, ...]:
    """APPROXIMATE_WORDS of ``language``, longest first (sorted once)."""
    return tuple(sorted(APPROXIMATE_WORDS.get(language, ()), key=len, reverse=True))


# -- SMS: unaccented typing, and the budget of a reply -----------------------------------

_GSM_LETTERS = frozenset("ÄÖÑÜäöñüàèéùìòÇÉÅåÆæØøß")


def unaccented(text: str) -> str:
    """Latin letters without accents (keeping those the GSM 03.38 alphabet has), e.g. "Română"
    -> "Romana": the way many people text in these languages to stay in the cheaper alphabet.
    For reading what people type only: the product never sends a text stripped so."""
    out = []
    for ch in text:
        if ch in _GSM_LETTERS or ord(ch) < 128:
            out.append(ch)
            continue
        ch = ch.translate(_UNACCENTED)
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append(base if base.isascii() and base else ch)
    return "".join(out)


def sms_segments(language: str) -> int:
    """The segment budget of one SMS reply in ``language`` (3 for an unknown code: GSM-7)."""
    found = BY_CODE.get(language)
    return found.sms_segments if found else 3
