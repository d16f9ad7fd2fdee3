"""Seven languages in the dialogue: the first-contact menu, LANGUAGE at any step, answers and
commands in the active language and in English, dates read day first with local month names,
and EXPLAIN: the consent explanation in another language, recorded in the payload.

The catalogues are compiled in memory from translations/*.po (``bot.translate.in_memory``), so
these tests do not depend on ``make translations`` having run.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

import pytest

from bot.segments import segments
from bot.translate import in_memory
from flows import consent, dialogue, languages, payload
from flows.commands import Command, recognise
from flows.dialogue import Turn
from flows.i18n import ENGLISH, Translator
from flows.question import ParseContext
from flows.referral_questions import QUESTIONS
from flows.state import DialogueState
from flows.validators import parse
from tests.flows.conversation import ADULT_NRM, CHILD, conversation_at, validate

TODAY = date(2026, 11, 28)
BY_ID = {q.id: q for q in QUESTIONS}
NAMES = ["English", "Cymraeg", "Shqip", "Tiếng Việt", "Română", "Polski", "العربية"]


@cache
def catalogue(code: str) -> Translator:
    """The catalogue of a dialogue language, or the consent catalogue of an EXPLAIN-only one."""
    return ENGLISH if code == "en" else in_memory(languages.EXPLAIN_BY_CODE[code].catalogue or code)


class Chat:
    """A conversation with real catalogues, as a channel runs it (state kept between messages)."""

    def __init__(self, language: str | None = None, state: DialogueState | None = None,
                 registration: dict[str, Any] | None = None) -> None:
        if state is None:
            self.turn: Turn = dialogue.start(
                catalogue(language or "en"), registration, language, catalogues=catalogue
            )
        else:
            self.turn = dialogue.repeat(state, catalogue(state.language))
        self.state = self.turn.state

    @classmethod
    def at(cls, qid: str, route: str = "adult") -> Chat:
        """English so far, everything before ``qid`` answered, ``qid`` asked now."""
        stored = conversation_at(qid, route).stored()
        return cls(state=DialogueState.from_dict(json.loads(stored)))

    def say(self, text: str) -> str:
        self.turn = dialogue.handle(
            self.state, text, catalogue(self.state.language), TODAY, catalogues=catalogue
        )
        self.state = self.turn.state
        return "\n".join(self.turn.messages)

    @property
    def question_id(self) -> str | None:
        """What is asked (None at the summary, kind confirm, and at the end)."""
        question = self.turn.question
        return question.id if question is not None and question.kind != "confirm" else None

    @property
    def last(self) -> str:
        return self.turn.messages[-1]


def prompt_in(code: str, qid: str) -> str:
    """The text of a question's prompt in a language (to find it in a reply)."""
    return catalogue(code).gettext(BY_ID[qid].prompt)


# -- first contact ---------------------------------------------------------------------------


def test_first_contact_offers_the_seven_languages_each_named_in_itself() -> None:
    chat = Chat()

    menu = chat.last
    assert [line.split(" ", 1)[1] for line in menu.splitlines()[1:]] == NAMES
    assert [line.split(" ", 1)[0] for line in menu.splitlines()[1:]] == [str(n) for n in range(1, 8)]
    view = chat.turn.question
    assert view is not None and view.id == "language" and view.kind == "choice"
    assert [c["label"] for c in view.choices] == NAMES
    assert [c["value"] for c in view.choices] == list(languages.CODES)
    assert set(view.as_json()) == {"id", "kind", "choices", "optional", "step", "of", "section",
                                   "section_number", "sections"}
    assert segments(menu) <= 3


@pytest.mark.parametrize(
    ("reply", "code"),
    [("6", "pl"), ("Polski", "pl"), ("polish", "pl"), ("PL", "pl"), ("tieng viet", "vi"),
     ("Tiếng Việt", "vi"), ("٧", "ar"), ("العربية", "ar"), ("Cymraeg", "cy"), ("welsh", "cy"),
     ("3.", "sq"), ("1", "en"), ("romana", "ro")],
)
def test_a_language_is_picked_by_number_or_by_name(reply: str, code: str) -> None:
    chat = Chat()

    chat.say(reply)

    assert chat.state.language == code
    assert chat.state.pending is None
    assert chat.question_id == "reference"
    assert prompt_in(code, "reference") in chat.last
    t = catalogue(code)
    assert chat.last.startswith(t.gettext("({section} {step}/{of})").format(
        section=t.gettext("About you"), step=1, of=4))


def test_anything_else_at_first_contact_gets_the_list_again() -> None:
    chat = Chat()

    chat.say("hello")

    assert chat.question_id == "language"
    assert chat.turn.messages[0] == "Please reply with the number of your answer, 1 to 7"
    assert chat.last.splitlines()[1:] == [f"{n} {name}" for n, name in enumerate(NAMES, 1)]
    chat.say("9")
    assert chat.question_id == "language"
    chat.say("2")
    assert chat.state.language == "cy" and chat.question_id == "reference"


def test_a_channel_that_knows_the_language_skips_the_list() -> None:
    chat = Chat(language="ro")

    assert chat.question_id == "reference"
    assert prompt_in("ro", "reference") in chat.last
    assert "REZUMAT" not in chat.turn.messages[0]  # the welcome, in Romanian
    assert "VERIFICĂ" in chat.turn.messages[0]


def test_registration_answers_are_kept_through_the_language_question() -> None:
    chat = Chat(registration={"user-organisation": "The Salvation Army", "user-email": "a@example.org"})
    chat.say("5")
    chat.say("Ref A")
    assert chat.question_id == "fr-location"
    assert chat.state.answers["user-email"]["source"] == "registration"


def test_a_draft_waiting_for_a_language_is_resumed_with_the_list() -> None:
    """A stored draft shown again (SMS START, web chat reload) while the list waits for a reply
    shows the list, not the question behind it: the next reply is read as a language."""
    first = Chat()
    resumed = Chat(state=DialogueState.from_dict(json.loads(json.dumps(first.state.to_dict()))))
    assert resumed.question_id == "language"
    assert resumed.turn.messages == [languages.menu(ENGLISH)]
    resumed.say("2")
    assert resumed.state.language == "cy" and resumed.question_id == "reference"

    mid = Chat.at("fr-location")
    mid.say("LANGUAGE")
    again = Chat(state=DialogueState.from_dict(json.loads(json.dumps(mid.state.to_dict()))))
    assert again.question_id == "language" and again.last.endswith("7 العربية")
    again.say("6")
    assert again.state.language == "pl" and again.question_id == "fr-location"


# -- LANGUAGE at any step ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["LANGUAGE", "language", "IAITH", "GJUHA", "gjuhë", "NGÔN NGỮ", "ngon ngu", "NGONNGU",
             "LIMBA", "limbă", "JĘZYK", "jezyk", "لغة", "اللغة"],
)
def test_the_word_for_language_in_any_of_the_seven_opens_the_list_from_any_language(word: str) -> None:
    for code in ("en", "vi"):
        chat = Chat(language=code)
        chat.say("Ref A")
        chat.say(word)
        assert chat.question_id == "language", (code, word, chat.turn.messages)
        assert chat.last.endswith("7 العربية")


def test_switching_re_asks_the_same_question_in_the_new_language_and_keeps_every_answer() -> None:
    chat = Chat.at("fr-location")
    before = chat.state.values()

    chat.say("LANGUAGE")
    assert chat.question_id == "language"
    chat.say("6")

    assert chat.state.language == "pl"
    assert chat.state.values() == before
    assert chat.question_id == "fr-location"
    assert prompt_in("pl", "fr-location") in chat.last
    assert "2 Walia" in chat.last
    assert chat.turn.messages[0] == "Zmieniono język. Odpowiedzi są zachowane."
    assert chat.turn.question is not None
    assert {"value": "wales", "label": "Walia"} in chat.turn.question.choices


def test_language_and_a_number_switches_at_once() -> None:
    chat = Chat.at("pv-under-age")

    chat.say("JĘZYK 4")

    assert chat.state.language == "vi"
    assert chat.question_id == "pv-under-age"
    assert prompt_in("vi", "pv-under-age") in chat.last


def test_answers_record_the_language_they_were_typed_in() -> None:
    chat = Chat.at("fr-location")
    chat.say("LANGUAGE 6")
    chat.say("Walia")

    assert chat.state.answers["fr-location"] == {
        "value": "wales", "typed": "Walia", "lang": "pl", "source": "user"
    }
    assert chat.state.answers["reference"]["lang"] == "en"
    chat.say("LANGUAGE 1")
    chat.say("no")
    assert chat.state.answers["pv-under-age"]["lang"] == "en"


def test_a_command_while_the_list_is_open_closes_it_and_is_carried_out() -> None:
    chat = Chat.at("fr-location")
    chat.say("LANGUAGE")

    chat.say("BACK")

    assert chat.state.pending is None
    assert chat.state.language == "en"
    assert chat.question_id == "user-email"


def test_the_summary_is_shown_again_in_the_new_language() -> None:
    chat = Chat.at("fr-location")
    chat.say("REVIEW")
    chat.say("LANGUAGE 7")
    assert chat.state.language == "ar"
    assert prompt_in("ar", "fr-location") in chat.last


# -- answers and commands in the active language and in English ---------------------------------


@pytest.mark.parametrize(
    ("code", "typed", "stored"),
    [("pl", "Tak", "yes"), ("pl", "nie", "no"), ("pl", "Nie mam pewności", "not-sure"),
     ("pl", "nie mam pewnosci", "not-sure"), ("pl", "yes", "yes"), ("pl", "2", "no"),
     ("cy", "Ie", "yes"), ("cy", "nac ydy", "no"), ("cy", "ydy", "yes"), ("sq", "po", "yes"),
     ("sq", "Jo", "no"), ("vi", "Có", "yes"), ("vi", "khong", "no"), ("vi", "Không chắc", "not-sure"),
     ("ro", "da", "yes"), ("ro", "Nu știu sigur", "not-sure"), ("ar", "نعم", "yes"), ("ar", "لا", "no"),
     ("ar", "٢", "no"), ("ar", "no", "no")],
)
def test_choices_are_read_in_the_dialogue_language_and_in_english(code: str, typed: str, stored: str) -> None:
    chat = Chat.at("pv-under-age")
    chat.say(f"LANGUAGE {languages.number_of(code)}")

    chat.say(typed)

    assert chat.state.values()["pv-under-age"] == stored, chat.turn.messages


def test_several_choices_with_the_local_word_for_and() -> None:
    chat = Chat.at("types-of-exploitation")
    chat.say("JĘZYK 6")
    chat.say("1, 3 i 4")
    assert chat.state.values()["types-of-exploitation"] == ["forced-to-work", "forced-to-commit-fraud", "prostitution"]


@pytest.mark.parametrize(
    ("code", "typed", "command"),
    [("pl", "WSTECZ", Command.BACK), ("pl", "wstecz", Command.BACK), ("pl", "BACK", Command.BACK),
     ("pl", "pomoc", Command.HELP), ("vi", "QUAY LẠI", Command.BACK), ("vi", "quay lai", Command.BACK),
     ("vi", "SỬA 3", Command.EDIT), ("vi", "giai thich 4", Command.EXPLAIN), ("cy", "nol", Command.BACK),
     ("ar", "رجوع", Command.BACK), ("ar", "تعديل 2", Command.EDIT), ("ro", "INAPOI", Command.BACK),
     ("sq", "NDIHME", Command.HELP), ("en", "EXPLAIN 4", Command.EXPLAIN)],
)
def test_commands_in_the_active_language_and_in_english(code: str, typed: str, command: Command) -> None:
    found = recognise(typed, catalogue(code))
    assert found is not None and found.command is command


def test_a_yes_to_restart_in_the_dialogue_language() -> None:
    chat = Chat.at("fr-location")
    chat.say("LANGUAGE 4")
    chat.say("LÀM LẠI")
    assert chat.state.pending == {"confirm": "restart"}
    chat.say("co")
    assert chat.question_id == "reference"
    assert "reference" not in chat.state.answers


def test_unknown_in_a_list_question_in_the_dialogue_language() -> None:
    ctx = ParseContext(TODAY, "pl", catalogue("pl"))
    assert parse(BY_ID["pv-nationality"], "Nieznane", ctx) == "Unknown"
    assert parse(BY_ID["pv-nationality"], "nie wiem", ctx) == "Unknown"
    assert parse(BY_ID["pv-nationality"], "Polish", ctx) == "Polish"


# -- dates, day first, with month names in each language ----------------------------------------


@pytest.mark.parametrize(
    ("code", "typed", "stored"),
    [("pl", "3 lutego 1990", "1990-02-03"), ("pl", "3.02.1990", "1990-02-03"), ("pl", "luty 1990", "1990-02"),
     ("pl", "około 1990", "1990"), ("vi", "3 tháng 2 1990", "1990-02-03"), ("vi", "ngày 3 tháng 2 năm 1990", "1990-02-03"),
     ("vi", "tháng 12/1990", "1990-12"), ("vi", "khoảng 1990", "1990"), ("cy", "3 Chwefror 1990", "1990-02-03"),
     ("cy", "tua 1990", "1990"), ("sq", "3 shkurt 1990", "1990-02-03"), ("ro", "3 februarie 1990", "1990-02-03"),
     ("ro", "circa 1990", "1990"), ("ar", "٣/٢/١٩٩٠", "1990-02-03"), ("ar", "3 فبراير 1990", "1990-02-03"),
     ("ar", "شباط 1990", "1990-02"), ("ar", "حوالي 1990", "1990"), ("pl", "3 Feb 1990", "1990-02-03"),
     ("pl", "12/11/1990", "1990-11-12")],
)
def test_dates_are_read_day_first_with_local_month_names(code: str, typed: str, stored: str) -> None:
    value = parse(BY_ID["pv-dob"], typed, ParseContext(TODAY, code, catalogue(code)))
    assert value["date"] == stored


# -- EXPLAIN: the consent explanation, possibly in another language -----------------------------


def test_explain_is_offered_before_the_consent_question_for_adults() -> None:
    chat = Chat.at("pv-want-to-submit-nrm")
    chat.say("HELP")
    offer = chat.turn.messages[-2]
    assert offer.startswith("Reply EXPLAIN to see the explanation")
    assert "\n".join(f"{n} {name}" for n, name in enumerate(NAMES, 1)) in offer  # the dialogue's seven keep their numbers
    assert offer.endswith("\n8 ትግርኛ\n9 አማርኛ\n10 فارسی\n11 دری\n12 پښتو\n13 کوردی\n14 اردو\n15 বাংলা\n16 中文"
                          "\n17 Português\n18 Español")
    assert segments(offer) <= 4  # Ethiopic, Arabic, Bengali and Chinese script: UCS-2 in any dialogue


def test_explain_is_not_offered_to_children() -> None:
    chat = Chat.at("local-authority-contacted-about-child-local-authority-name", "child")
    answers = {**CHILD}
    seen = []
    for _ in range(120):
        if chat.question_id is None:
            break
        seen.extend(chat.turn.messages)
        chat.say(answers[chat.question_id])
    assert not any("EXPLAIN" in message for message in seen)


def test_explain_with_a_number_shows_the_explanation_in_that_language_and_the_payload_records_it() -> None:
    chat = Chat.at("pv-want-to-submit-nrm")

    chat.say("EXPLAIN 4")

    vi = catalogue("vi")
    assert chat.turn.messages[0].startswith("Warning: the explanation in Tiếng Việt (Vietnamese) is a machine-assisted draft")
    assert chat.turn.messages[1:5] == [vi.gettext(text) for text in consent.ADULT.texts]
    assert chat.turn.messages[1] != consent.ADULT_IF_YES
    assert chat.state.language == "en"  # the dialogue stays in English
    assert chat.question_id == "pv-want-to-submit-nrm"
    assert chat.last.endswith("1 Yes\n2 No")

    chat.say("EXPLAIN")  # and in the dialogue's own language
    assert chat.turn.messages[:4] == list(consent.ADULT.texts)

    chat.say("yes")
    for _ in range(120):
        if chat.question_id is None:
            break
        chat.say(ADULT_NRM[chat.question_id])
    chat.say("CONFIRM")
    submission = chat.turn.submission
    assert submission is not None
    validate(submission)
    assert submission["consent_question_version"] == consent.QUESTION_VERSION == "consent-question-v2"
    assert submission["consent_explanations"] == [
        {"version": "explanation-adult-v2", "language": "vi"},
        {"version": "explanation-adult-v2", "language": "en"},
    ]


EXPLAIN_ONLY = [language.code for language in languages.EXPLAIN_ONLY]


@pytest.mark.parametrize("code", EXPLAIN_ONLY)
def test_explain_in_a_language_of_the_people_referred_shows_its_translation_after_a_warning(code: str) -> None:
    """Tigrinya, Amharic, Farsi, Dari, Pashto, Sorani, Urdu, Bengali, Chinese, Portuguese and
    Spanish: not dialogue languages, but the explanation and privacy summary exist in each, and
    the responder is warned, in the dialogue's language, that no native speaker has reviewed it."""
    number = [language.code for language in languages.EXPLAIN_LANGUAGES].index(code) + 1
    for route, at in (("adult", "pv-want-to-submit-nrm"), ("child", "local-authority-contacted-about-child-local-authority-name")):
        chat = Chat.at(at, route)
        chat.say(f"EXPLAIN {number}")
        explanation = consent.ADULT if route == "adult" else consent.CHILD
        translated = [catalogue(code).gettext(text) for text in explanation.texts]
        assert all(text not in explanation.texts for text in translated), (code, "untranslated")
        warning = chat.turn.messages[0]
        assert warning.startswith("Warning: the explanation in ") and "not yet reviewed by a native speaker" in warning
        assert languages.EXPLAIN_BY_CODE[code].name in warning
        assert chat.turn.messages[1:1 + len(translated)] == translated
        assert chat.state.language == "en" and {"version": explanation.version, "language": code} in chat.state.consent_explanations


def test_the_warning_comes_in_the_dialogue_language_and_never_for_a_reviewed_text() -> None:
    chat = Chat.at("pv-want-to-submit-nrm")
    chat.say("EXPLAIN")  # English: the source text, reviewed
    assert chat.turn.messages[0] == consent.ADULT_IF_YES
    assert not any("native speaker" in message for message in chat.turn.messages)
    chat.say("LANGUAGE 6")  # Polish dialogue, Tigrinya explanation: the warning is in Polish
    chat.say("EXPLAIN 8")
    polish = catalogue("pl").gettext(consent.UNREVIEWED).format(language="ትግርኛ (Tigrinya)")
    assert chat.turn.messages[0] == polish and polish.startswith("Uwaga")
    assert consent.reviewed("en") and not consent.reviewed("ti") and not consent.reviewed("pl")


@pytest.mark.parametrize(("typed", "code"), [
    ("EXPLAIN Tigrinya", "ti"), ("explain ትግርኛ", "ti"), ("EXPLAIN dari", "prs"), ("EXPLAIN دری", "prs"),
    ("explain farsi", "fa"), ("EXPLAIN Persian", "fa"), ("EXPLAIN Sorani", "ckb"), ("EXPLAIN Kurdish", "ckb"),
    ("EXPLAIN Español", "es"), ("explain espanol", "es"), ("EXPLAIN 中文", "zh"), ("EXPLAIN Urdu", "ur"),
    ("EXPLAIN Albanian", "sq"), ("EXPLAIN العربية", "ar"),
])
def test_explain_takes_a_language_name_as_well_as_a_number(typed: str, code: str) -> None:
    found = recognise(typed, ENGLISH)
    assert found is not None and found.command is Command.EXPLAIN
    assert languages.explain_by_number(found.number) == code


def test_explain_with_an_unknown_language_name_is_not_a_command() -> None:
    assert recognise("EXPLAIN Klingon", ENGLISH) is None


def test_without_explain_the_payload_says_no_explanation_was_shown() -> None:
    chat = Chat.at("pv-want-to-submit-nrm")
    chat.say("yes")
    record = payload.build(chat.state)
    assert record["consent_question_version"] == "consent-question-v2"
    assert record["consent_explanations"] == []


def test_explain_with_a_number_that_is_no_language() -> None:
    chat = Chat.at("pv-want-to-submit-nrm")
    chat.say("EXPLAIN 19")
    assert chat.turn.messages[0] == "There is no option 19. Choose from 1 to 18"
    assert chat.state.consent_explanations == []
    assert chat.question_id == "pv-want-to-submit-nrm"


def test_the_explanation_is_short_enough_to_read_on_a_phone_in_every_language() -> None:
    for code in (language.code for language in languages.EXPLAIN_LANGUAGES):
        for text in sorted(consent.READ_ALOUD):
            translated = catalogue(code).gettext(text)
            assert segments(translated) <= 7, (code, segments(translated), translated)


# -- SMS fitting --------------------------------------------------------------------------------


def test_unaccented_keeps_what_gsm_has_and_maps_the_rest() -> None:
    assert languages.unaccented("Tiếng Việt, Română, Polski: łódź, ŵ, ë, ç, ß, ñ, é") == (
        "Tieng Viet, Romana, Polski: lodz, w, e, c, ß, ñ, é"
    )
