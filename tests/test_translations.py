"""The catalogues under translations/ are complete, consistent and fit for SMS.

- every msgid of a freshly extracted template (``bot.translate.fresh_template``: the code as it is
  now, not a possibly stale messages.pot) is translated in every language, with no fuzzy entry
  and exactly the msgid's ``{named}`` placeholders (Babel reads the catalogues);
- every SMS prompt (``render.prompt`` of every question, with its part of the form and two-digit
  step numbers: a part has fewer than 100 questions) is within its language's segment budget
  (:data:`SEGMENT_BUDGET`), counted as GSM-7 or UCS-2 by ``bot.segments``, as the SMS channel
  sends it: sanitised, with every letter and accent as written (nothing is ever stripped);
- the staff pages' msgids (templates, backend/) are extracted too, with the same {named}
  placeholders; they are not held to the SMS budget (:func:`sent_by_sms`);
- command words are recognised in each language, are distinct, and are not carrier keywords;
  the words a message tells the user to type are the ones that language recognises;
- the date hints' examples are read back by the date parser in each language, and no NBSP or
  U+202F (Babel's date and number formatting) reaches a catalogue or a prompt.
"""

from __future__ import annotations

import re
from pathlib import Path
from functools import cache

import pytest
from babel.dates import get_month_names
from babel.messages.catalog import Catalog

from bot import translate
from bot.segments import GSM7, encoding, sanitise, segments
from flows import consent, languages, render
from flows.commands import LABELS, WORDS, Command, recognise, says
from flows.languages import COMMAND_WORDS
from flows.i18n import ENGLISH, Translator, tr
from flows.question import Kind, ParseContext, Question
from flows.referral_questions import PARTS, QUESTIONS, part_of
from flows.validators import parse

LOCALES = translate.LOCALES
ALL = languages.CODES
BIG = 99
"""Step numbers for the budget: as many digits as any part of the form has."""


def widest(question: Question, step: int = BIG, of: int = BIG) -> render.Progress:
    """The progress shown before a question's prompt, with ``step`` of ``of`` in its part."""
    number, name = part_of(question)
    return render.Progress(name, number, len(PARTS), step, of)

CARRIER_KEYWORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
                    "start", "unstop", "yes", "help", "info"}
"""Single words a carrier (Twilio) acts on: a translated command must not be one of them (the
English HELP, INFO and CANCEL are the dialogue's own English words and are allowed)."""


@cache
def template() -> Catalog:
    return translate.fresh_template()


@cache
def catalogue(code: str) -> Translator:
    return ENGLISH if code == "en" else translate.in_memory(code)


PAGE_SOURCES = ("backend/", "bot/templates/", "bot/chat_page.py")
"""Where the staff pages' strings live (backend.i18n): shown on a web page, never sent by SMS."""


def sent_by_sms(message) -> bool:
    """Whether a msgid is used outside the pages (the dialogue, SMS replies, commands)."""
    return any(not filename.startswith(PAGE_SOURCES) for filename, _ in message.locations)


SEGMENT_BUDGET = {"en": 3, "cy": 6, "sq": 6, "vi": 5, "ro": 6, "pl": 6, "ar": 4}
"""The SMS segments one reply may take, per language, written faithfully: English fits GSM-7's
153 characters a segment; the others need UCS-2 (67 a segment) for ŵ, ë, ư, ș, ł or Arabic
letters, and their longest prompt, the ten kinds of exploitation, takes up to six."""


def as_sent(text: str) -> str:
    """As the SMS channel sends a text: sanitised (curly quotes...), every letter kept."""
    return sanitise(text)


def test_the_segment_budget_of_each_language_is_the_one_stated() -> None:
    assert {code: languages.sms_segments(code) for code in ALL} == SEGMENT_BUDGET


# -- complete, not fuzzy, same placeholders ------------------------------------------------------


def test_the_template_is_extracted_with_the_dialogue_keywords() -> None:
    ids = {m.id for m in template() if m.id}
    assert "NRM referral. One question at a time. Reply HELP for help with a question, BACK to go back, REVIEW to check your answers." in ids  # step.say
    assert "Reply SKIP to leave it out." in ids  # tr(t, ...)
    assert "Is the person under 18?" in ids  # N_
    assert consent.ADULT_IF_NO in ids
    plural = ("A reasonable grounds decision is due within {n} working day.",
              "A reasonable grounds decision is due within {n} working days.")
    assert plural in ids  # trn(t, singular, plural, n)


def test_the_template_has_the_pages_strings() -> None:
    ids = {m.id for m in template() if m.id}
    assert "Sign in" in ids  # backend/templates, _("...")
    assert "Web chat referral" in ids  # bot/templates/chat.html
    assert "{section}: question {step} of {of} (part {number} of {parts})" in ids  # chat.js's words, passed in by chat.html
    assert "Select whether the decision is positive or negative" in ids  # lazy_gettext in backend/forms.py
    assert "You have claimed case {reference} until {time}." in ids  # a flash message
    assert ("{n} case waiting for a decision", "{n} cases waiting for a decision") in ids  # ngettext
    assert not sent_by_sms(next(m for m in template() if m.id == "Sign in"))
    assert sent_by_sms(next(m for m in template() if m.id == "Yes"))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalogue_is_complete_without_fuzzy_entries_and_keeps_the_placeholders(locale: str) -> None:
    problems = translate.problems(locale, template())
    assert not problems, "\n".join(problems[:40])


def test_placeholders_are_parsed_like_str_format() -> None:
    assert translate.placeholders("({section} {step}/{of})") == {"section", "step", "of"}
    assert translate.placeholders("{{literal}} {name}") == {"name"}
    assert translate.placeholders("no placeholder") == set()


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_forms_match_the_language(locale: str) -> None:
    catalog = translate.load_po(locale)
    for message in catalog:
        if isinstance(message.id, tuple):
            assert len(message.string) == catalog.num_plurals, message.id


def test_the_translator_is_used_for_plurals() -> None:
    pl = catalogue("pl")
    singular, plural = ("A reasonable grounds decision is due within {n} working day.",
                        "A reasonable grounds decision is due within {n} working days.")
    assert "1 dnia roboczego" in pl.ngettext(singular, plural, 1).format(n=1)
    assert "5 dni roboczych" in pl.ngettext(singular, plural, 5).format(n=5)


# -- SMS budget -----------------------------------------------------------------------------------


def _prompts(code: str) -> list[tuple[str, str]]:
    t = catalogue(code)
    return [(q.id, render.prompt(q, widest(q), None, t)) for q in QUESTIONS]


@pytest.mark.parametrize("code", ALL)
def test_every_sms_prompt_is_within_its_language_budget_with_every_accent(code: str) -> None:
    over = []
    for qid, prompt in _prompts(code):
        sent = as_sent(prompt)
        if segments(sent) > SEGMENT_BUDGET[code]:
            over.append((qid, segments(sent), encoding(sent)))
    assert not over, f"{code}: over {SEGMENT_BUDGET[code]} segments: {over}"


def test_english_prompts_are_gsm7() -> None:
    for qid, prompt in _prompts("en"):
        assert encoding(sanitise(prompt)) == GSM7, qid


@pytest.mark.parametrize("code", ALL)
def test_the_language_list_and_the_explain_offer_fit(code: str) -> None:
    t = catalogue(code)
    assert segments(languages.menu(t)) <= 3
    assert segments(tr(t, languages.EXPLAIN_OFFER) + "\n" + languages.menu_lines()) <= 3


@pytest.mark.parametrize("code", ALL)
def test_every_other_message_fits_as_sent(code: str) -> None:
    """Errors, notices, help texts: each within its language's budget as the SMS channel sends it (the
    consent explanation and privacy summary are read out and may take more; the staff pages'
    strings are never sent by SMS)."""
    t = catalogue(code)
    long_texts = consent.READ_ALOUD
    for message in template():
        if not message.id or isinstance(message.id, tuple) or message.id in long_texts:
            continue
        if not sent_by_sms(message):
            continue
        text = t.gettext(message.id)
        assert segments(as_sent(text)) <= SEGMENT_BUDGET[code], (code, message.id, text)


# -- no NBSP / U+202F ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ALL)
def test_no_no_break_spaces_in_prompts_or_answers_shown(code: str) -> None:
    t = catalogue(code)
    date_question = next(q for q in QUESTIONS if q.kind is Kind.DATE)
    shown = [prompt for _, prompt in _prompts(code)]
    shown.append(render.display(date_question, {"date": "1990-02-03", "approximate": True}, t))
    shown.append(render.prompt(date_question, widest(date_question, 3, 40), {"date": "1990-02", "approximate": False}, t))
    for text in shown:
        assert "\u00a0" not in text and "\u202f" not in text, text


# -- command words --------------------------------------------------------------------------------


SMS_WORDS = ("DONE", "RESUME", "NEW", "SAFE")
"""The SMS channel's own words (bot/sms.py; SAFE is the default quick-exit word), which must not
collide with the dialogue's."""


@pytest.mark.parametrize("code", LOCALES)
def test_command_words_are_recognised_distinct_and_not_carrier_keywords(code: str) -> None:
    t = catalogue(code)
    owner: dict[str, str] = {}
    for command, msgids in WORDS.items():
        for msgid in msgids:
            word = t.gettext(msgid)
            assert word == word.upper(), f"{code}: command words are in capitals: {word}"
            found = recognise(word, t)
            assert found is not None and found.command is command, (code, msgid, word)
            english = recognise(msgid, t)
            assert english is not None and english.command is command, (code, msgid)
            assert languages.key(word) not in CARRIER_KEYWORDS, (code, word)
            previous = owner.setdefault(languages.key(word), command.value)
            assert previous == command.value, f"{code}: {word} means {previous} and {command.value}"
    sms_words: dict[str, str] = {}
    for msgid in SMS_WORDS:
        word = languages.key(t.gettext(msgid))
        assert word not in owner, f"{code}: {msgid} = {word} is also a dialogue command"
        assert word not in CARRIER_KEYWORDS
        assert sms_words.setdefault(word, msgid) == msgid, f"{code}: {word} is two SMS words"
        assert says(t.gettext(msgid), t, msgid) and says(msgid.lower(), t, msgid)
        assert says(languages.unaccented(t.gettext(msgid)).lower(), t, msgid)  # typed without accents


@pytest.mark.parametrize("code", LOCALES)
def test_choice_labels_are_not_command_words(code: str) -> None:
    t = catalogue(code)
    commands = {languages.key(t.gettext(m)) for msgids in WORDS.values() for m in msgids}
    for question in QUESTIONS:
        for choice in question.options():
            label = languages.key(t.gettext(choice.label))
            assert label not in commands, (code, question.id, choice.label)


CHAT_PAGE = Path(__file__).resolve().parents[1] / "bot" / "templates" / "chat.html"


def page_buttons() -> dict[str, str]:
    """The web chat page's command buttons: label msgid -> the command word the button sends."""
    found = re.findall(r'data-command="(\w+)"[^>]*>\{\{ _\("([^"]+)"\) \}\}', CHAT_PAGE.read_text("utf-8"))
    assert found, "no command buttons found on the chat page"
    return {label: word for word, label in found}


@pytest.mark.parametrize("code", ALL)
def test_every_label_the_product_shows_for_a_command_is_recognised(code: str) -> None:
    """The catalogue's command words and the labels of the page's buttons ("Kapërce", "Yn ôl"),
    as shown, in lower case and without accents: people type what they read."""
    t = catalogue(code)
    shown = {(t.gettext(m), command) for command, msgids in WORDS.items() for m in msgids}
    for label, word in page_buttons().items():
        command = recognise(word, ENGLISH)
        assert command is not None and label in LABELS[command.command], (label, word)
        shown.add((t.gettext(label), command.command))
    for text, command in shown:
        for typed in (text, text.lower(), languages.unaccented(text).lower()):
            found = recognise(typed, t, code)
            assert found is not None and found.command is command, (code, typed, command)


@pytest.mark.parametrize("code", ALL)
def test_no_command_synonym_is_a_carrier_keyword_a_choice_label_or_two_commands(code: str) -> None:
    t = catalogue(code)
    english = {languages.key(m) for msgids in WORDS.values() for m in msgids}  # HELP, CANCEL...
    owner: dict[str, Command] = {}
    for command in Command:
        words = [*COMMAND_WORDS.get("en", {}).get(command.value, ()),
                 *COMMAND_WORDS.get(code, {}).get(command.value, ()),
                 *(t.gettext(m) for m in LABELS.get(command, ()))]
        for word in words:
            form = languages.key(word)
            found = recognise(word, t, code)
            assert found is not None and found.command is command, (code, word, found)
            assert owner.setdefault(form, command) is command, (code, word, owner[form], command)
            if form not in english:
                assert form not in CARRIER_KEYWORDS and form.replace(" ", "") not in CARRIER_KEYWORDS, (code, word)
    labels = {languages.key(label) for question in QUESTIONS for choice in question.options()
              for label in (choice.label, t.gettext(choice.label))}
    labels |= {languages.key(w) for w in (*languages.YES_WORDS.get(code, ()), *languages.NO_WORDS.get(code, ()))}
    labels |= {languages.key(t.gettext(m)) for m in SMS_WORDS}
    assert not labels & set(owner), (code, labels & set(owner))


def test_the_word_for_language_in_each_catalogue_works_from_every_language() -> None:
    for code in LOCALES:
        word = catalogue(code).gettext("LANGUAGE")
        for other in ALL:
            found = recognise(word, catalogue(other))
            assert found is not None and found.command is Command.LANGUAGE, (code, other, word)


@pytest.mark.parametrize("code", LOCALES)
def test_messages_tell_the_user_the_words_their_language_recognises(code: str) -> None:
    """"Reply HELP ..." in Polish says POMOC: every command word a msgid names appears in the
    translation as that language's word (or as the English word, which always works)."""
    t = catalogue(code)
    words = {m: t.gettext(m) for msgids in WORDS.values() for m in msgids}
    words.update({m: t.gettext(m) for m in SMS_WORDS})
    words.update({"YES": t.gettext("Yes").upper(), "NO": t.gettext("No").upper()})
    for message in template():
        if not message.id or isinstance(message.id, tuple):
            continue
        translated = t.gettext(message.id)
        for word in re.findall(r"\b[A-Z]{2,}\b", message.id):
            if word in words and message.id != word:
                assert words[word] in translated or word in translated, (code, word, message.id, translated)


# -- dates ----------------------------------------------------------------------------------------


HINT_EXAMPLES = {
    "en": ("3/2/1990", "Feb 1990", "about 1990"),
    "cy": ("3/2/1990", "Chwef 1990", "tua 1990"),
    "sq": ("3/2/1990", "shk 1990", "rreth 1990"),
    "vi": ("3/2/1990", "tháng 2/1990", "khoảng 1990"),
    "ro": ("3/2/1990", "feb. 1990", "circa 1990"),
    "pl": ("3.02.1990", "luty 1990", "około 1990"),
    "ar": ("3/2/1990", "فبراير 1990", "حوالي 1990"),
}


@pytest.mark.parametrize("code", ALL)
def test_the_date_hint_examples_are_understood(code: str) -> None:
    question = next(q for q in QUESTIONS if q.kind is Kind.DATE and q.partial_date)
    t = catalogue(code)
    hint = render.prompt(question, widest(question, 1, 1), None, t)
    ctx = ParseContext(today=__import__("datetime").date(2026, 11, 28), language=code, t=t)
    expected = ({"date": "1990-02-03", "approximate": False}, {"date": "1990-02", "approximate": False},
                {"date": "1990", "approximate": True})
    for example, value in zip(HINT_EXAMPLES[code], expected):
        assert example in hint, (code, example, hint)
        assert parse(question, example, ctx) == value, (code, example)


@pytest.mark.parametrize("code", LOCALES)
def test_month_names_of_each_language_are_read_day_first(code: str) -> None:
    question = next(q for q in QUESTIONS if q.kind is Kind.DATE)
    ctx = ParseContext(today=__import__("datetime").date(2026, 11, 28), language=code, t=catalogue(code))
    for width in ("wide", "abbreviated"):
        for number, name in get_month_names(width, "format", locale=code).items():
            value = parse(question, f"4 {name} 1991", ctx)
            assert value["date"] == f"1991-{number:02d}-04", (code, name)
    assert parse(question, "04/05/1991", ctx)["date"] == "1991-05-04"  # day first
