"""Commands as people type them, in each language, and "Did you mean BACK?" before a command
word is stored as a free-text answer (issue 8: the dialogue never records what is not true)."""

from __future__ import annotations

import pytest

from flows import languages
from flows.commands import Command, recognise
from tests.flows.test_languages import Chat, catalogue

LAST_NAME = "pv-name-last-name"


@pytest.mark.parametrize(
    ("code", "typed", "command"),
    [
        ("cy", "yn ôl", Command.BACK),
        ("cy", "Yn ol", Command.BACK),
        ("pl", "cofnij", Command.BACK),
        ("pl", "wróć", Command.BACK),
        ("pl", "wroc", Command.BACK),
        ("sq", "prapa", Command.BACK),
        ("sq", "kapërce", Command.SKIP),
        ("sq", "kaperce", Command.SKIP),
        ("ro", "omite", Command.SKIP),
        ("ro", "Omiteți", Command.SKIP),
        ("vi", "quaylai", Command.BACK),
        ("vi", "quay lai", Command.BACK),
        ("vi", "boqua", Command.SKIP),
        ("vi", "trogiup", Command.HELP),
        ("vi", "xemlai", Command.REVIEW),
        ("ar", "الرجوع", Command.BACK),
        ("ar", "المساعدة", Command.HELP),
        ("ar", "التخطي", Command.SKIP),
        ("ar", "تخطٍّ", Command.SKIP),
        ("ar", "المراجعة", Command.REVIEW),
        ("ar", "التعديل 3", Command.EDIT),
        ("pl", "popraw 3", Command.EDIT),
        ("en", "go back", Command.BACK),
        ("en", "Confirm and send", Command.CONFIRM),
    ],
)
def test_each_languages_common_forms_of_the_commands_are_recognised(
    code: str, typed: str, command: Command
) -> None:
    found = recognise(typed, catalogue(code), code)
    assert found is not None and found.command is command, (code, typed, found)


@pytest.mark.parametrize(("code", "typed"), [("pl", "cofnij"), ("cy", "yn ôl"), ("sq", "prapa"),
                                             ("vi", "quaylai"), ("ar", "الرجوع")])
def test_back_typed_as_people_type_it_goes_back_and_stores_nothing(code: str, typed: str) -> None:
    chat = Chat.at("does-pv-have-children")
    chat.say(f"LANGUAGE {languages.number_of(code)}")
    before = chat.state.values()

    chat.say(typed)

    assert chat.question_id == "pv-gender"
    assert chat.state.values() == before


@pytest.mark.parametrize(("code", "typed"), [("sq", "kapërce"), ("ro", "omite"), ("vi", "bo qua")])
def test_skip_typed_as_people_type_it_skips_an_optional_question(code: str, typed: str) -> None:
    chat = Chat.at("pv-dob")
    chat.say(f"LANGUAGE {languages.number_of(code)}")

    chat.say(typed)

    assert chat.question_id == "pv-gender"
    assert chat.state.answers["pv-dob"]["value"] is None


# -- "Did you mean BACK?" ----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["back", "Back", "cofnij"])
def test_a_command_word_typed_as_a_surname_is_asked_about_first(typed: str) -> None:
    chat = Chat.at(LAST_NAME)

    chat.say(typed)

    assert chat.last == "Did you mean BACK? Reply YES for BACK, or NO to keep what you typed as the answer."
    assert LAST_NAME not in chat.state.answers
    view = chat.turn.question
    assert view is not None and view.id == "did-you-mean" and view.kind == "yes_no"
    assert [c["label"] for c in view.choices] == ["Yes", "No"]


@pytest.mark.parametrize("yes", ["yes", "1", "Y"])
def test_yes_to_did_you_mean_back_goes_back(yes: str) -> None:
    chat = Chat.at(LAST_NAME)
    chat.say("cofnij")

    chat.say(yes)

    assert chat.question_id == "pv-name-first-name"
    assert LAST_NAME not in chat.state.answers
    assert chat.state.pending is None


@pytest.mark.parametrize(("typed", "no"), [("back", "no"), ("cofnij", "2"), ("Back", "n")])
def test_no_to_did_you_mean_back_stores_what_was_typed(typed: str, no: str) -> None:
    chat = Chat.at(LAST_NAME)
    chat.say(typed)

    chat.say(no)

    assert chat.state.answers[LAST_NAME]["value"] == typed
    assert chat.question_id == "pv-name-nickname"


def test_did_you_mean_is_asked_in_the_dialogues_language_with_its_words() -> None:
    chat = Chat.at(LAST_NAME)
    chat.say("LANGUAGE 6")

    chat.say("Back")  # a Polish dialogue: English works too, and "Back" may be a surname

    assert chat.last.startswith("Czy chodziło o WSTECZ?")
    chat.say("tak")
    assert chat.question_id == "pv-name-first-name"


def test_a_command_word_of_another_language_is_asked_about_on_any_free_text_question() -> None:
    chat = Chat.at("family")

    chat.say("wróć")

    assert chat.last.startswith("Did you mean BACK?")
    chat.say("NO")
    assert chat.state.answers["family"]["value"] == "wróć"


def test_a_command_word_as_the_dialogue_shows_it_acts_at_once() -> None:
    chat = Chat.at(LAST_NAME)

    chat.say("BACK")

    assert chat.question_id == "pv-name-first-name"


def test_something_else_after_did_you_mean_is_the_answer_to_the_question() -> None:
    chat = Chat.at(LAST_NAME)
    chat.say("back")

    chat.say("Hoxha")

    assert chat.state.answers[LAST_NAME]["value"] == "Hoxha"
    assert chat.question_id == "pv-name-nickname"
