"""Match what a person typed to one entry of a reference list (towns, police forces, countries...).

The NRM form only accepts exact list entries, but people type on phones: "bham", "birmingam",
"met police", "Caerdydd", "salvation army". ``match`` resolves such text to the exact entry, or
raises ``Ambiguous`` with the closest few entries so the dialogue can offer a numbered list, or
``Invalid`` when nothing is close.

How a match is decided, in order:
1. an explicit alias (abbreviations and common short forms, per list);
2. an exact match after normalisation (case, accents, punctuation, "&"/"and", a leading "The"),
   against the whole entry or any part of a bilingual entry such as "Cardiff / Caerdydd", or
   against the entry's names in the other languages (``flows/data/names/``: countries by their
   CLDR names, nationality adjectives, the official Welsh names of councils and police forces,
   Arabic script), the dialogue's language first;
3. fuzzy scores from rapidfuzz: whole-text similarity (typos) and a word score (words in any
   order, word prefixes such as "salv army"); accepted when one entry is clearly ahead.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from flows.question import N_, Ambiguous, Invalid

DATA_DIR = Path(__file__).parent / "data"
NAMES_DIR = DATA_DIR / "names"
"""``<kind>.<language>.tsv`` files (columns list, entry, name): how each language names entries."""
NAME_LANGUAGES = ("cy", "sq", "vi", "ro", "pl", "ar")
"""Languages with names under NAMES_DIR. Every dialogue knows all of them (a responder working in
English may type "Shqipëri" as the person said it, or paste Arabic script), but where a name means
different entries in two languages, the dialogue's language decides."""

LISTS = (
    "countries",
    "first-responder-organisations",
    "nationalities",
    "uk-local-authorities",
    "uk-police-forces",
    "uk-regions",
    "uk-towns",
)

MAX_CANDIDATES = 5
ACCEPT_SCORE = 88.0
"""A best score at least this high is accepted when it is also MARGIN ahead of the next entry."""
MARGIN = 8.0
SUGGEST_SCORE = 60.0
"""Entries scoring below this are never offered."""
SUGGEST_SPREAD = 25.0
"""Only entries within this distance of the best are offered with it."""
MIN_FUZZY_LENGTH = 3
"""Shorter text is matched only exactly or by alias: two letters fuzzy-match almost anything."""


_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ة": "ه", "ى": "ي", "ـ": ""})
"""Letters NFKD does not take apart: Polish ł, Vietnamese đ, Turkish dotless i; Arabic taa
marbuta and alif maqsura, often typed as haa and yaa, and the tatweel (أ إ آ lose their hamza
and madda as combining marks)."""
_APOSTROPHES = re.compile(r"['\u2018\u2019`\u00b4]")
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, and collapse spaces, for comparing words.

    Apostrophes are dropped ("Barnardo's" -> "barnardos") and "&" reads as "and"; everything else
    that is not a letter or digit separates words.
    """
    if text.isascii():  # nothing to decompose or to fold beyond case
        if text.isalnum():  # one word of letters and digits: no apostrophe, "&" or separator
            return text.lower()
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = _APOSTROPHES.sub("", plain).replace("&", " and ")
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def _key(text: str) -> str:
    """``fold`` plus dropping a leading "the", which people rarely type."""
    folded = fold(text)
    return folded[4:] if folded.startswith("the ") else folded


_POLICE_ALIASES = {
    "met": "Metropolitan Police Service",
    "met police": "Metropolitan Police Service",
    "metropolitan police": "Metropolitan Police Service",
    "mps": "Metropolitan Police Service",
    "gmp": "Greater Manchester Police",
    "btp": "British Transport Police",
    "psni": "Police Service of Northern Ireland",
    "wmp": "West Midlands Police",
    "wyp": "West Yorkshire Police",
    "syp": "South Yorkshire Police",
    "nyp": "North Yorkshire Police",
    "tvp": "Thames Valley Police",
    "npas": "National Police Air Service",
    "city police": "City of London Police",
    "scottish police": "Police Scotland",
}

_COUNTRY_ALIASES = {
    "uk": "United Kingdom",
    "gb": "United Kingdom",
    "britain": "United Kingdom",
    "great britain": "United Kingdom",
    "england": "United Kingdom",
    "scotland": "United Kingdom",
    "wales": "United Kingdom",
    "northern ireland": "United Kingdom",
    "us": "United States",
    "usa": "United States",
    "america": "United States",
    "united states of america": "United States",
    "uae": "United Arab Emirates",
    "drc": "Congo (Democratic Republic)",
    "dr congo": "Congo (Democratic Republic)",
    "democratic republic of congo": "Congo (Democratic Republic)",
    "democratic republic of the congo": "Congo (Democratic Republic)",
    "myanmar": "Burma",
    "czech republic": "Czechia",
    "swaziland": "Eswatini",
    "timor leste": "East Timor",
    "cote d'ivoire": "Ivory Coast",
    "holland": "Netherlands",
    "macedonia": "North Macedonia",
    "vatican": "Vatican City",
    "st kitts": "St Kitts and Nevis",
    "saint lucia": "St Lucia",
    "saint vincent": "St Vincent",
}

NATIONALITY_OF_COUNTRY: dict[str, str] = {
    "Afghanistan": "Afghan", "Albania": "Albanian", "Algeria": "Algerian", "Andorra": "Andorran",
    "Angola": "Angolan", "Antigua and Barbuda": "Citizen of Antigua and Barbuda",
    "Argentina": "Argentine", "Armenia": "Armenian", "Australia": "Australian",
    "Austria": "Austrian", "Azerbaijan": "Azerbaijani", "Bahrain": "Bahraini",
    "Bangladesh": "Bangladeshi", "Barbados": "Barbadian", "Belarus": "Belarusian",
    "Belgium": "Belgian", "Belize": "Belizean", "Benin": "Beninese", "Bhutan": "Bhutanese",
    "Bolivia": "Bolivian", "Bosnia and Herzegovina": "Citizen of Bosnia and Herzegovina",
    "Botswana": "Botswanan", "Brazil": "Brazilian", "Brunei": "Bruneian", "Bulgaria": "Bulgarian",
    "Burkina Faso": "Burkinan", "Burma": "Burmese", "Burundi": "Burundian",
    "Cambodia": "Cambodian", "Cameroon": "Cameroonian", "Canada": "Canadian",
    "Cape Verde": "Cape Verdean", "Central African Republic": "Central African", "Chad": "Chadian",
    "Chile": "Chilean", "China": "Chinese", "Colombia": "Colombian", "Comoros": "Comoran",
    "Congo": "Congolese (Congo)", "Congo (Democratic Republic)": "Congolese (DRC)",
    "Costa Rica": "Costa Rican", "Croatia": "Croatian", "Cuba": "Cuban", "Cyprus": "Cypriot",
    "Czechia": "Czech", "Denmark": "Danish", "Djibouti": "Djiboutian", "Dominica": "Dominican",
    "Dominican Republic": "Citizen of the Dominican Republic", "East Timor": "East Timorese",
    "Ecuador": "Ecuadorean", "Egypt": "Egyptian", "El Salvador": "Salvadorean",
    "Equatorial Guinea": "Equatorial Guinean", "Eritrea": "Eritrean", "Estonia": "Estonian",
    "Eswatini": "Swazi", "Ethiopia": "Ethiopian", "Fiji": "Fijian", "Finland": "Finnish",
    "France": "French", "Gabon": "Gabonese", "Georgia": "Georgian", "Germany": "German",
    "Ghana": "Ghanaian", "Greece": "Greek", "Grenada": "Grenadian", "Guatemala": "Guatemalan",
    "Guinea": "Guinean", "Guinea-Bissau": "Citizen of Guinea-Bissau", "Guyana": "Guyanese",
    "Haiti": "Haitian", "Honduras": "Honduran", "Hungary": "Hungarian", "Iceland": "Icelandic",
    "India": "Indian", "Indonesia": "Indonesian", "Iran": "Iranian", "Iraq": "Iraqi",
    "Ireland": "Irish", "Israel": "Israeli", "Italy": "Italian", "Ivory Coast": "Ivorian",
    "Jamaica": "Jamaican", "Japan": "Japanese", "Jordan": "Jordanian", "Kazakhstan": "Kazakh",
    "Kenya": "Kenyan", "Kiribati": "Citizen of Kiribati", "Kosovo": "Kosovan", "Kuwait": "Kuwaiti",
    "Kyrgyzstan": "Kyrgyz", "Laos": "Lao", "Latvia": "Latvian", "Lebanon": "Lebanese",
    "Lesotho": "Mosotho", "Liberia": "Liberian", "Libya": "Libyan",
    "Liechtenstein": "Liechtenstein citizen", "Lithuania": "Lithuanian",
    "Luxembourg": "Luxembourger", "Madagascar": "Malagasy", "Malawi": "Malawian",
    "Malaysia": "Malaysian", "Maldives": "Maldivian", "Mali": "Malian", "Malta": "Maltese",
    "Marshall Islands": "Marshallese", "Mauritania": "Mauritanian", "Mauritius": "Mauritian",
    "Mexico": "Mexican", "Micronesia": "Micronesian", "Moldova": "Moldovan",
    "Monaco": "Monegasque", "Mongolia": "Mongolian", "Montenegro": "Montenegrin",
    "Morocco": "Moroccan", "Mozambique": "Mozambican", "Namibia": "Namibian", "Nauru": "Nauruan",
    "Nepal": "Nepalese", "Netherlands": "Dutch", "New Zealand": "New Zealander",
    "Nicaragua": "Nicaraguan", "Niger": "Nigerien", "Nigeria": "Nigerian",
    "North Korea": "North Korean", "North Macedonia": "Macedonian", "Norway": "Norwegian",
    "Oman": "Omani", "Pakistan": "Pakistani", "Palau": "Palauan", "Palestine": "Palestinian",
    "Panama": "Panamanian", "Papua New Guinea": "Papua New Guinean", "Paraguay": "Paraguayan",
    "Peru": "Peruvian", "Philippines": "Filipino", "Poland": "Polish", "Portugal": "Portuguese",
    "Qatar": "Qatari", "Romania": "Romanian", "Russia": "Russian", "Rwanda": "Rwandan",
    "Samoa": "Samoan", "San Marino": "Sammarinese", "Sao Tome and Principe": "Sao Tomean",
    "Saudi Arabia": "Saudi Arabian", "Senegal": "Senegalese", "Serbia": "Serbian",
    "Seychelles": "Citizen of Seychelles", "Sierra Leone": "Sierra Leonean",
    "Singapore": "Singaporean", "Slovakia": "Slovak", "Slovenia": "Slovenian",
    "Solomon Islands": "Solomon Islander", "Somalia": "Somali", "South Africa": "South African",
    "South Korea": "South Korean", "South Sudan": "South Sudanese", "Spain": "Spanish",
    "Sri Lanka": "Sri Lankan", "St Kitts and Nevis": "Kittitian", "St Lucia": "St Lucian",
    "St Vincent": "Vincentian", "Sudan": "Sudanese", "Suriname": "Surinamese", "Sweden": "Swedish",
    "Switzerland": "Swiss", "Syria": "Syrian", "Tajikistan": "Tajik", "Tanzania": "Tanzanian",
    "Thailand": "Thai", "The Bahamas": "Bahamian", "The Gambia": "Gambian", "Togo": "Togolese",
    "Tonga": "Tongan", "Trinidad and Tobago": "Trinidadian", "Tunisia": "Tunisian",
    "Turkey": "Turkish", "Turkmenistan": "Turkmen", "Tuvalu": "Tuvaluan", "Uganda": "Ugandan",
    "Ukraine": "Ukrainian", "United Arab Emirates": "Emirati", "United Kingdom": "British",
    "United States": "American", "Uruguay": "Uruguayan", "Uzbekistan": "Uzbek",
    "Vanuatu": "Citizen of Vanuatu", "Vatican City": "Vatican citizen", "Venezuela": "Venezuelan",
    "Vietnam": "Vietnamese", "Yemen": "Yemeni", "Zambia": "Zambian", "Zimbabwe": "Zimbabwean",
}
"""Country entry -> nationality entry, so "Vietnam" answers a nationality question."""
COUNTRY_OF_NATIONALITY: dict[str, str] = {nationality: country for country, nationality in NATIONALITY_OF_COUNTRY.items()}

ALIASES: dict[str, dict[str, str]] = {
    "uk-police-forces": _POLICE_ALIASES,
    "first-responder-organisations": {
        **_POLICE_ALIASES,
        "sally army": "The Salvation Army",
        "border force": "Home Office - UK Border Force UKBF",
        "ukbf": "Home Office - UK Border Force UKBF",
        "nca": "National Crime Agency NCA",
        "glaa": "Gangmasters and Labour Abuse Authority GLAA",
        "nspcc": "National Society for the Prevention of Cruelty to Children NSPCC CTAC",
        "tara": "Trafficking Awareness Raising Alliance TARA",
        "gla": "Greater London Authority",
        "bham": "Birmingham City Council",
        "brum": "Birmingham City Council",
    },
    "uk-local-authorities": {
        "bham": "Birmingham City Council",
        "brum": "Birmingham City Council",
        "gla": "Greater London Authority",
    },
    "uk-towns": {
        "bham": "Birmingham",
        "brum": "Birmingham",
        "ldn": "London",
        "manc": "Manchester",
        "newcastle": "Newcastle upon Tyne",
    },
    "uk-regions": {
        "london": "Greater London",
        "manchester": "Greater Manchester",
        "birmingham": "West Midlands",
        "bham": "West Midlands",
        "west mids": "West Midlands",
        "derry": "County Derry / Londonderry",
        "londonderry": "County Derry / Londonderry",
    },
    "nationalities": {
        **{name: NATIONALITY_OF_COUNTRY[country] for name, country in _COUNTRY_ALIASES.items()},
        **NATIONALITY_OF_COUNTRY,
        "england": "English",
        "scotland": "Scottish",
        "wales": "Welsh",
        "northern ireland": "Northern Irish",
        "usa citizen": "American",
        "us citizen": "American",
        "uk citizen": "British",
    },
    "countries": {
        **COUNTRY_OF_NATIONALITY,
        **_COUNTRY_ALIASES,
    },
}
"""Per list: short or other form -> exact entry (keys are compared after ``_key``; a test checks
every target is in its list). Lists with an "Unknown" entry also take UNKNOWN_WORDS."""

OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "uk-regions": (
        "North East", "North West", "Yorkshire and the Humber", "East Midlands", "East of England",
        "South East", "South West",
    ),
}
"""True answers a Home Office list lacks, found like its entries: the regions of England
("East of England" spans six counties of the list). Only for questions that keep free text
(``Question.free_text``: a test checks it), since they are not entries of the form's list."""

UNKNOWN_WORDS = ("dont know", "do not know", "not known", "unsure", "not sure", "dk", "idk")


@cache
def _aliases(list_name: str) -> dict[str, str]:
    """The alias table of a list with normalised keys."""
    table = {_key(alias): entry for alias, entry in ALIASES.get(list_name, {}).items()}
    if "Unknown" in entries(list_name):
        table.update({_key(word): "Unknown" for word in UNKNOWN_WORDS})
    return table


@cache
def entries(list_name: str) -> tuple[str, ...]:
    """The entries of a reference list, in file order, read once.

    Surrounding spaces are stripped (two source entries have a trailing space) and repeats dropped.
    """
    if list_name not in LISTS:
        raise KeyError(f"unknown reference list: {list_name!r}")
    text = (DATA_DIR / f"{list_name}.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(dict.fromkeys(line for line in lines if line))


@cache
def _names_file(path: Path) -> tuple[tuple[str, str, str], ...]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            list_name, entry, name = line.split("\t")
            rows.append((list_name, entry, name))
    return tuple(rows)


@cache
def names(list_name: str, language: str) -> tuple[tuple[str, str], ...]:
    """(name, entry) pairs: the entries of ``list_name`` as ``language`` names them.

    A country's name also answers a nationality question (its nationality) and a nationality
    adjective a country question, as the English names do (``NATIONALITY_OF_COUNTRY``); a
    council's or police force's name also names it as a first responder organisation."""
    found: list[tuple[str, str]] = []
    for path in sorted(NAMES_DIR.glob(f"*.{language}.tsv")):
        for listed, entry, name in _names_file(path):
            if listed == list_name:
                found.append((name, entry))
            elif (listed, list_name) == ("countries", "nationalities") and entry in NATIONALITY_OF_COUNTRY:
                found.append((name, NATIONALITY_OF_COUNTRY[entry]))
            elif (listed, list_name) == ("nationalities", "countries") and entry in COUNTRY_OF_NATIONALITY:
                found.append((name, COUNTRY_OF_NATIONALITY[entry]))
            elif list_name == "first-responder-organisations" and entry in entries(list_name):
                found.append((name, entry))  # councils and police forces are first responders
    return tuple(found)


@cache
def _index(list_name: str, language: str = "en") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Parallel tuples (key, entry): each entry under its whole key and each " / " part, then
    under its names in ``language``, then in the other languages of NAME_LANGUAGES."""
    return _own_index(list_name, language)[:2]


@cache
def _own_index(list_name: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """``_index`` and how many of its keys are English or ``language`` (they come first)."""
    keys: list[str] = []
    owners: list[str] = []
    for entry in (*entries(list_name), *OTHER_NAMES.get(list_name, ())):
        variants = {_key(entry), *(_key(part) for part in entry.split(" / "))}
        for variant in sorted(variants):
            if variant:
                keys.append(variant)
                owners.append(entry)
    own = len(keys)
    for code in dict.fromkeys((language, *NAME_LANGUAGES)):
        for name, entry in names(list_name, code):
            if _key(name):
                keys.append(_key(name))
                owners.append(entry)
        if code == language:
            own = len(keys)
    return tuple(keys), tuple(owners), own


@cache
def _exact(list_name: str, language: str) -> dict[str, tuple[str, ...]]:
    """Key -> the entries it names exactly; entries whose whole name it is come first, and a key
    that is an English name or a name in ``language`` names only those entries."""
    keys, owners, own = _own_index(list_name, language)
    named_here = set(keys[:own])
    found: dict[str, list[str]] = {}
    for position, (key, entry) in enumerate(zip(keys, owners)):
        if position >= own and key in named_here:
            continue  # another language's name for what English or this language names so
        if entry not in found.setdefault(key, []):
            found[key].append(entry)
    return {
        key: tuple(sorted(named, key=lambda entry: _key(entry) != key))
        for key, named in found.items()
    }


def match(list_name: str, text: str, exclude: tuple[str, ...] = (), language: str = "en") -> str:
    """The list entry meant by ``text``, typed in English or in ``language``; ``Ambiguous`` with
    the closest few, or ``Invalid``."""
    query = _key(text)
    if not query:
        raise Invalid(N_("Please type a name"))
    excluded = set(exclude)

    alias = _aliases(list_name).get(query)
    if alias is not None:
        return _allowed(alias, excluded)

    exact = _exact(list_name, language).get(query, ())
    if exact:
        allowed = [entry for entry in exact if entry not in excluded]
        if not allowed:
            return _allowed(exact[0], excluded)
        if len(allowed) == 1:
            return allowed[0]
        raise Ambiguous(allowed[:MAX_CANDIDATES])

    if len(query.replace(" ", "")) < MIN_FUZZY_LENGTH:
        raise _no_match(text)
    ranked = _rank(list_name, query, excluded, language)
    return _decide(ranked, text)


def _allowed(entry: str, excluded: set[str]) -> str:
    """Return ``entry`` unless this question excludes it (United Kingdom for overseas countries)."""
    if entry in excluded:
        raise Invalid(N_("{entry} cannot be given for this question"), entry=entry)
    return entry


def _rank(list_name: str, query: str, excluded: set[str], language: str) -> list[tuple[str, float]]:
    """Entries scoring at least SUGGEST_SCORE (only those can be accepted or offered), with their
    best score over their keys, best first (ties: closer whole string, then list order).

    A key scores the better of the whole-text similarity (typos, missing spaces: fuzz.ratio) and
    a word score (each typed word found in the key, in any order: "hackney council"). Partial
    whole-string scorers such as WRatio are avoided on purpose: they rate "kent" as 90% "Kenton".
    A word score is the mean of the typed words' best scores, so it only reaches SUGGEST_SCORE
    on a key holding a word that scores that much: the word score of no other key is computed.
    """
    from rapidfuzz import fuzz, process  # imported at the first list answer: start-up needs none

    _, owners = _index(list_name, language)
    typed = query.split()
    # one word typed: its best word in a key scores SUGGEST_SCORE or more (that is how the key is
    # found), so the words below that change no word score and need not be collected
    similar, ratios = _resembling(list_name, typed, language, SUGGEST_SCORE if len(typed) == 1 else 50)
    holders = _word_holders(list_name, language)
    whole: dict[int, float] = {}
    scores: dict[str, float] = {}
    one_word = _one_word_keys(list_name, language)
    # one distinctive word typed: a one-word key scores as its word resembles it (its ratio, or
    # the prefix score), so these keys are scored from the words alone; any other key's word
    # score is its word closest to it less the penalty for its other distinctive words
    one_word_score = similar[query] if len(typed) == 1 and query not in GENERIC_WORDS else None
    if one_word_score is not None:
        holders = _multi_word_holders(list_name, language)
        for word, score in one_word_score.items():
            if score >= SUGGEST_SCORE:
                for position in one_word.get(word, ()):
                    entry = owners[position]
                    if entry not in excluded and score > scores.get(entry, 0.0):
                        scores[entry] = score
    elif len(typed) == 1:  # a one-word key is one of the list's words: its ratio is known already
        for word, score in ratios[query].items():
            if score >= SUGGEST_SCORE and word in one_word:
                whole.update(dict.fromkeys(one_word[word], score))
    if len(typed) == 1:
        distinct, places = _whole_keys(list_name, language, True, _script(query))
    else:
        distinct, places = _whole_keys(list_name, language, False, ANY_SCRIPT)
    start, end = _within_reach(distinct, len(query), SUGGEST_SCORE)
    for _, score, index in process.extract(query, distinct[start:end], scorer=fuzz.ratio, limit=None,
                                           score_cutoff=SUGGEST_SCORE):
        whole.update(dict.fromkeys(places[start + index], score))
    by_words = {
        position
        for word in typed
        for candidate, score in similar[word].items()
        if score >= SUGGEST_SCORE
        for position in holders[candidate]
    }
    words = _key_words(list_name, language)
    distinctive = _distinctive_words(list_name, language)
    for position in whole.keys() | by_words:
        entry = owners[position]
        if entry in excluded:
            continue
        score = whole.get(position, 0.0)
        if position in by_words:
            if one_word_score is not None:
                score = max(score, _one_word_score(one_word_score, words[position], distinctive[position]))
            else:
                score = max(score, _word_score(typed, words[position], similar))
        if score >= SUGGEST_SCORE and score > scores.get(entry, 0.0):
            scores[entry] = score
    # the closest whole key of the entry (below SUGGEST_SCORE / 2: 0), needed only to order
    # entries of equal score: the best of its keys in ``whole`` when it has one (the others
    # score less than SUGGEST_SCORE), else the best of all its keys
    tiebreak: dict[str, float] = {}
    tied = _sharing_a_score(scores)
    if tied:
        if one_word_score is not None:  # the one-word keys' whole ratios, not kept in ``whole``
            for word, score in ratios[query].items():
                whole.update(dict.fromkeys(one_word.get(word, ()), score))
        for position, score in whole.items():
            entry = owners[position]
            if entry in tied and score > tiebreak.get(entry, 0.0):
                tiebreak[entry] = score
        keys_of = _entry_keys(list_name, language)
        for entry in tied - tiebreak.keys():
            closest = process.extractOne(query, keys_of[entry], scorer=fuzz.ratio, score_cutoff=SUGGEST_SCORE / 2)
            tiebreak[entry] = 0.0 if closest is None else closest[1]
    order = _order(list_name, language)
    return sorted(scores.items(), key=lambda item: (-item[1], -tiebreak.get(item[0], 0.0), order[item[0]]))


def _sharing_a_score(scores: dict[str, float]) -> set[str]:
    """The entries whose score another entry has too."""
    seen: dict[float, int] = {}
    for score in scores.values():
        seen[score] = seen.get(score, 0) + 1
    return {entry for entry, score in scores.items() if seen[score] > 1}


@cache
def _entry_keys(list_name: str, language: str) -> dict[str, tuple[str, ...]]:
    """Each entry -> its keys in ``_index``."""
    keys, owners = _index(list_name, language)
    found: dict[str, list[str]] = {}
    for key, entry in zip(keys, owners):
        found.setdefault(entry, []).append(key)
    return {entry: tuple(entry_keys) for entry, entry_keys in found.items()}


@cache
def _key_words(list_name: str, language: str) -> tuple[tuple[str, ...], ...]:
    """The words of each key of ``_index``, in its order."""
    keys, _ = _index(list_name, language)
    return tuple(tuple(key.split()) for key in keys)


@cache
def _order(list_name: str, language: str) -> dict[str, int]:
    """Each entry's place in its list (the last tie-break)."""
    _, owners = _index(list_name, language)
    return {entry: position for position, entry in enumerate(dict.fromkeys(owners))}


GENERIC_WORDS = frozenset(
    "the of and on upon in city council borough county district metropolitan police "
    "constabulary service authority cyngor heddlu sir sirol bwrdeistref dinas a".split()
)
"""Words that do not identify an entry: typed but absent from an entry, they are not held
against it ("hackney council" still finds London Borough of Hackney)."""
EXTRA_WORD_PENALTY = 5.0
PREFIX_WORD_SCORE = 85.0
"""A typed word that starts a longer word of the entry ("salv" of Salvation): close, not sure."""


@cache
def _word_holders(list_name: str, language: str) -> dict[str, tuple[int, ...]]:
    """Each distinct word of the list's keys -> the positions of the keys containing it."""
    keys, _ = _index(list_name, language)
    holders: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        for word in set(key.split()):
            holders.setdefault(word, []).append(position)
    return {word: tuple(positions) for word, positions in holders.items()}


@cache
def _multi_word_holders(list_name: str, language: str) -> dict[str, tuple[int, ...]]:
    """``_word_holders`` less the keys of one word."""
    words = _key_words(list_name, language)
    return {word: tuple(p for p in positions if len(words[p]) > 1)
            for word, positions in _word_holders(list_name, language).items()}


@cache
def _places(list_name: str, language: str) -> dict[str, tuple[int, ...]]:
    """Each distinct key of ``_index`` -> its positions."""
    keys, _ = _index(list_name, language)
    found: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        found.setdefault(key, []).append(position)
    return {key: tuple(positions) for key, positions in found.items()}


@cache
def _whole_keys(
    list_name: str, language: str, several_words: bool, script: int
) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """The distinct keys of ``_index`` (only those of several words if ``several_words``) and the
    positions of each: each key is compared with what was typed once, and a one-word key not at
    all when one word was typed (``_resembling`` has compared it). Only keys with a letter of
    ``script`` (see :func:`_script`), shortest first (see :func:`_within_reach`)."""
    places = sorted(((key, found) for key, found in _places(list_name, language).items()
                     if (" " in key or not several_words) and _script(key) & script), key=lambda item: len(item[0]))
    return _ByLength(key for key, _ in places), tuple(found for _, found in places)


class _ByLength(tuple[str, ...]):
    """Strings shortest first, with the length of each (see :func:`_within_reach`)."""

    lengths: tuple[int, ...] = ()

    def __new__(cls, strings: Iterable[str]) -> _ByLength:
        found = super().__new__(cls, sorted(strings, key=len))
        found.lengths = tuple(map(len, found))
        return found


def _within_reach(strings: _ByLength, typed: int, least: float) -> tuple[int, int]:
    """The slice of ``strings`` whose fuzz.ratio with a text of ``typed`` characters may reach
    ``least``: the ratio is 200 * LCS / (typed + length), and the longest common subsequence is
    at most the shorter of the two, so longer or shorter strings cannot (one more character
    either side, for rounding)."""
    shortest = int(least * typed / (200 - least)) - 1
    longest = int((200 - least) * typed / least) + 1
    return bisect_left(strings.lengths, shortest), bisect_right(strings.lengths, longest)


LATIN = 1
"""A letter or digit of ASCII (what ``fold`` leaves of Latin script)."""
OTHER_SCRIPT = 2
"""Any character beyond ASCII (Arabic script)."""
ANY_SCRIPT = LATIN | OTHER_SCRIPT


def _script(text: str) -> int:
    """Which of LATIN and OTHER_SCRIPT ``text`` has characters of (spaces count for neither).

    A word with no character of a typed word's scripts shares no character with it, so its
    fuzz.ratio with it is 0: a word typed in Latin letters is compared with none of the Arabic
    names, nor an Arabic word with the Latin ones (a word has no spaces, so none are shared)."""
    if text.isascii():
        return LATIN if text.strip(" ") else 0
    return OTHER_SCRIPT | (LATIN if any(ch.isascii() and ch != " " for ch in text) else 0)


@cache
def _one_word_keys(list_name: str, language: str) -> dict[str, tuple[int, ...]]:
    """The keys of one word -> their positions in ``_index``."""
    return {key: found for key, found in _places(list_name, language).items() if " " not in key}


@cache
def _vocabulary(list_name: str, language: str, script: int = ANY_SCRIPT) -> _ByLength:
    """The distinct words of the list's keys (only those with a character of ``script``),
    shortest first."""
    return _ByLength(word for word in _word_holders(list_name, language) if _script(word) & script)


@cache
def _distinctive_words(list_name: str, language: str) -> tuple[tuple[str, ...], ...]:
    """The words of each key of ``_index`` that are not GENERIC_WORDS, in its order."""
    return tuple(tuple(word for word in words if word not in GENERIC_WORDS) for words in _key_words(list_name, language))


def _similar_words(list_name: str, typed: list[str], language: str) -> dict[str, dict[str, float]]:
    """For each typed word, the list's words that resemble it (fuzz.ratio), or that it starts
    (scored PREFIX_WORD_SCORE at least: "salv" of "salvation")."""
    return _resembling(list_name, typed, language, 50)[0]


def _resembling(
    list_name: str, typed: list[str], language: str, least: float
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """``_similar_words`` with the words whose fuzz.ratio is at least ``least``, and for each typed
    word those words with their fuzz.ratio alone."""
    from rapidfuzz import fuzz, process

    alphabetical = _alphabetical(list_name, language)
    similar: dict[str, dict[str, float]] = {}
    ratios: dict[str, dict[str, float]] = {}
    for word in set(typed):
        vocabulary = _vocabulary(list_name, language, _script(word))
        start, end = _within_reach(vocabulary, len(word), least)
        ratios[word] = {
            found: score
            for found, score, _ in process.extract(
                word, vocabulary[start:end], scorer=fuzz.ratio, limit=None, score_cutoff=least
            )
        }
        found = dict(ratios[word])
        if len(word) >= MIN_FUZZY_LENGTH:
            for candidate in alphabetical[bisect_left(alphabetical, word):]:  # the words it starts
                if not candidate.startswith(word):
                    break
                if candidate != word:
                    found[candidate] = max(found.get(candidate, 0.0), PREFIX_WORD_SCORE)
        similar[word] = found
    return similar, ratios


@cache
def _alphabetical(list_name: str, language: str) -> tuple[str, ...]:
    """The words of the list's keys in sorted order (the words a typed prefix starts are adjacent)."""
    return tuple(sorted(_word_holders(list_name, language)))


def _one_word_score(resembling: dict[str, float], words: Sequence[str], distinctive: Sequence[str]) -> float:
    """``_word_score`` of one typed word that is not generic: the score of the key's word closest
    to it (the first of equals), less EXTRA_WORD_PENALTY for each other distinctive word."""
    best, best_word = 0.0, ""
    for candidate in words:
        score = resembling.get(candidate, 0.0)
        if score > best:
            best, best_word = score, candidate
    return best - EXTRA_WORD_PENALTY * (len(distinctive) - distinctive.count(best_word))


def _word_score(typed: list[str], words: Sequence[str], similar: dict[str, dict[str, float]]) -> float:
    """How well the typed words are found among the key's words, less EXTRA_WORD_PENALTY for
    each distinctive key word that nothing typed matched ("glasgow" prefers Glasgow to Port
    Glasgow). Generic words are neither required nor penalised, nor enough on their own: "the"
    is not Yorkshire and the Humber."""
    if GENERIC_WORDS.issuperset(typed):
        return 0.0
    total = 0.0
    counted = 0
    used: set[str] = set()
    for word in typed:
        best, best_word = 0.0, ""
        resembling = similar[word]
        for candidate in words:
            score = resembling.get(candidate, 0.0)
            if score > best:
                best, best_word = score, candidate
        if word in GENERIC_WORDS and best < 80:
            continue
        total += best
        counted += 1
        used.add(best_word)
    if not counted:
        return 0.0
    extra = len([word for word in words if word not in used and word not in GENERIC_WORDS])
    return total / counted - EXTRA_WORD_PENALTY * extra


def _decide(ranked: list[tuple[str, float]], text: str) -> str:
    """Accept a clear winner, offer the close ones, or report that nothing is close."""
    if not ranked or ranked[0][1] < SUGGEST_SCORE:
        raise _no_match(text)
    best_entry, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best >= ACCEPT_SCORE and best - runner_up >= MARGIN:
        return best_entry
    floor = max(SUGGEST_SCORE, best - SUGGEST_SPREAD)
    close = [entry for entry, score in ranked if score >= floor]
    raise Ambiguous(close[:MAX_CANDIDATES])


class NoMatch(Invalid):
    """Nothing in the list is close to what was typed."""


def shortened(text: str, width: int = 40) -> str:
    """Typed text as it is quoted back in a short message: one line, at most ``width`` characters."""
    shown = " ".join(text.split())
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _no_match(text: str) -> NoMatch:
    return NoMatch(N_("Nothing matches \"{text}\". Check the spelling and try again"), text=shortened(text))
