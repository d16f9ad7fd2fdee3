"""Words read once per language are the words of the language spoken now (issue 14: command
words, yes/no words and choice labels are reduced once per catalogue and remembered)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from flows import languages
from flows.commands import Command, recognise, says
from tests.flows.test_languages import Chat, catalogue


def test_after_switching_language_the_new_languages_command_words_work() -> None:
    chat = Chat.at("pv-gender")
    chat.say("HELP")  # English words read and remembered first
    chat.say("JĘZYK 6")

    chat.say("WSTECZ")

    assert chat.question_id == "pv-dob"
    chat.say("LANGUAGE 5")
    chat.say("ÎNAPOI")
    assert chat.question_id == "pv-name-nickname"


def test_a_command_word_of_the_language_left_is_no_longer_a_command() -> None:
    chat = Chat.at("does-pv-have-children")
    chat.say("LANGUAGE 6")
    assert recognise("wstecz", catalogue("pl"), "pl") == recognise("BACK", catalogue("pl"), "pl")

    chat.say("LANGUAGE 5")
    chat.say("wstecz")

    assert chat.question_id == "does-pv-have-children"  # a Romanian dialogue does not go back
    assert recognise("wstecz", catalogue("ro"), "ro") is None


def test_two_dialogues_in_different_languages_interleaved_each_get_their_own_words() -> None:
    polish, welsh = Chat.at("does-pv-have-children"), Chat.at("does-pv-have-children")
    polish.say("LANGUAGE 6")
    welsh.say("LANGUAGE 2")

    polish.say("tak")  # yes in Polish
    welsh.say("nac oes")  # no in Welsh
    assert polish.state.values()["does-pv-have-children"] == "yes"
    assert welsh.state.values()["does-pv-have-children"] == "no"

    assert welsh.question_id == "pv-nationality"
    polish.say("NÔL")  # Welsh BACK means nothing in Polish
    assert polish.question_id == "does-pv-have-children-yes-amount"
    polish.say("WSTECZ")
    welsh.say("NÔL")
    assert polish.question_id == "does-pv-have-children"
    assert welsh.question_id == "does-pv-have-children"
    assert polish.turn.messages[-1].splitlines()[1:3] == ["1 Tak", "2 Nie"]
    assert welsh.turn.messages[-1].splitlines()[1:3] == ["1 Ie", "2 Na"]


def test_a_yes_to_restart_is_read_in_each_dialogues_own_language() -> None:
    polish, vietnamese = Chat.at("fr-location"), Chat.at("fr-location")
    polish.say("LANGUAGE 6")
    vietnamese.say("LANGUAGE 4")
    polish.say("RESTART")
    vietnamese.say("RESTART")

    polish.say("co")  # "yes" in Vietnamese is no yes in Polish: nothing deleted
    vietnamese.say("co")

    assert polish.state.pending is None and "reference" in polish.state.answers
    assert "reference" not in vietnamese.state.answers


def test_a_channels_own_words_are_read_in_the_translators_language() -> None:
    assert says("wznow!", catalogue("pl"), "RESUME")
    assert not says("wznow!", catalogue("cy"), "RESUME")
    assert says("Parhau", catalogue("cy"), "RESUME")
    assert not says("Parhau", catalogue("pl"), "RESUME")
    assert says("resume", catalogue("pl"), "RESUME") and says("resume", catalogue("cy"), "RESUME")


def _reduced_slowly(text: str) -> str:
    """``languages.key`` without its shortcut for plain ASCII."""
    decomposed = unicodedata.normalize("NFKD", text.translate(languages._UNACCENTED))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.translate(languages._ARABIC_LETTERS).replace("\u0640", "")
    return " ".join(languages._NOT_WORD.sub(" ", plain).split())


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_plain_ascii_text_is_reduced_as_any_text_is(text: str) -> None:
    assert languages.key(text) == _reduced_slowly(text)


def test_back_is_recognised_in_english_in_every_language() -> None:
    for code in languages.CODES:
        found = recognise("Back!", catalogue(code), code)
        assert found is not None and found.command is Command.BACK


def test_choice_labels_are_read_in_each_interleaved_dialogues_own_language() -> None:
    polish, welsh = Chat.at("fr-location"), Chat.at("fr-location")
    polish.say("LANGUAGE 6")
    welsh.say("LANGUAGE 2")

    welsh.say("Walia")  # Polish for Wales: not a Welsh label, asked again
    polish.say("Walia")
    welsh.say("yr alban")

    assert polish.state.values()["fr-location"] == "wales"
    assert welsh.state.values()["fr-location"] == "scotland"
    assert welsh.state.answers["fr-location"]["typed"] == "yr alban"
