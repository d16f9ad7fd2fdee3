"""What one message of the dialogue costs, counted rather than timed (issue 14: the pure dialogue
at 20,000 steps a second or more).

The costs the issue names, and those profiling found after them, each counted here so that a
change bringing one back fails: route conditions evaluated on messages that change no answer (or
an answer no condition reads), chart transitions tried per event, command spellings reduced per
message, summary lines rendered again for answers that did not change, and typed list names
compared with every key of a list. What is handed on from one message to the next must equal what
the answers give afresh (the last test walks whole conversations to check it).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flows import commands, consistency, lookups, render, standing
from flows.dialogue import BY_ID, CHART, CONDITIONS
from flows.i18n import ENGLISH
from flows.question import Question
from flows.referral_questions import QUESTIONS
from flows.route import REVIEW, Arrow, Chart, Route
from flows.state import DialogueState
from tests.flows.conversation import ADULT_NRM, CHILD, TODAY, Conversation, conversation_at

REGISTERED = {"user-organisation": "Salvation Army", "fr-details-phone": "+447700900123",
              "user-email": "sam.jones@example.org", "fr-details-first-name": "Sam", "fr-details-last-name": "Jones"}


class Calls(Counter[str]):
    """How many times each watched function ran since the last ``clear``."""

    def watch(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            self[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Counts route conditions evaluated (the remembered key and each question's condition) and
    the rules between answers checked."""
    counted = Calls()
    counted.watch(monkeypatch, CONDITIONS, "key")
    counted.watch(monkeypatch, Question, "applies")
    counted.watch(monkeypatch, Question, "may_apply")
    counted.watch(monkeypatch, consistency, "broken")
    return counted


def _not_routing_text_question() -> str:
    """A question of the adult route that no route condition and no rule between answers reads."""
    read = {*CONDITIONS.value_fields, *CONDITIONS.given_fields, *consistency.FIELDS}
    return next(q.id for q in QUESTIONS if q.kind.value == "text" and q.id in ADULT_NRM and q.id not in read)


@pytest.mark.parametrize("text", ["HELP", "BACK", "REVIEW", "EDIT 2", "32/2/1990", "cofnij"])
def test_a_message_that_changes_no_answer_evaluates_no_route_condition_and_checks_no_rule(
    calls: Calls, text: str
) -> None:
    conversation = conversation_at("pv-dob")  # resumed from storage, as a channel loads it:
    conversation.say("HELP")  # its first message derives what the answers imply
    before = conversation.values()
    calls.clear()

    conversation.say(text)

    assert calls == {}, text
    assert conversation.values() == before


def test_an_answer_no_route_condition_reads_evaluates_no_route_condition(calls: Calls) -> None:
    qid = _not_routing_text_question()
    conversation = conversation_at(qid)
    conversation.say("HELP")
    calls.clear()

    conversation.say("Offered a restaurant job in London")

    assert conversation.values()[qid] == "Offered a restaurant job in London"
    assert conversation.question_id != qid
    assert calls == {}


def test_an_answer_that_moves_the_route_derives_the_route_once(calls: Calls) -> None:
    conversation = conversation_at("where-exploitation-happened")
    conversation.say("HELP")
    calls.clear()

    conversation.say("2")  # overseas: the UK places leave the route, the countries come on it

    assert conversation.question_id == "where-exploitation-happened-overseas-country-1"
    assert calls["key"] == 1
    assert calls["applies"] <= len(QUESTIONS) and calls["may_apply"] <= len(QUESTIONS)


def test_the_summary_renders_only_the_answers_changed_since_it_was_last_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    calls.watch(monkeypatch, render, "summary_line")
    conversation = Conversation()
    conversation.answer_all(ADULT_NRM)
    shown = conversation.summary()
    calls.clear()

    conversation.say("REVIEW")
    assert calls["summary_line"] == 0 and conversation.summary() == shown

    conversation.say(f"EDIT {conversation.summary_number(BY_ID['pv-gender'].summary)}")
    conversation.say("2")
    assert calls["summary_line"] == 1
    assert conversation.summary() != shown


class _Examined(tuple):  # type: ignore[type-arg]
    """A chain of transitions that counts the ones tried."""

    tried = 0

    def __iter__(self) -> Iterator[Arrow]:
        for arrow in tuple.__iter__(self):
            _Examined.tried += 1
            yield arrow


def _counting_chart() -> Chart:
    own = {state: {event: _Examined(chain) for event, chain in events.items()} for state, events in CHART.own.items()}
    anywhere = {event: _Examined(chain) for event, chain in CHART.anywhere.items()}
    chart = Chart(CHART.questions, own, anywhere)
    assert chart.requested  # derived (and counted) before any event
    return chart


@pytest.mark.parametrize("values", [ADULT_NRM, CHILD], ids=["adult", "child"])
def test_an_event_tries_only_its_own_states_transitions_and_edit_tries_none(values: dict[str, str]) -> None:
    """python-statemachine's engine tried the enclosing state's 129 ``edit`` transitions for every
    event; each event now tries at most the transitions declared on the state it leaves."""
    conversation = Conversation()
    conversation.answer_all(values)
    chart = _counting_chart()
    for current in [q.id for q in QUESTIONS] + [REVIEW]:
        for event in ("advance", "back", "edit"):
            state = DialogueState(current=current, answers=dict(conversation.state.answers))
            _Examined.tried = 0
            Route(chart, state).send(event, field=QUESTIONS[3].id)
            assert _Examined.tried <= len(CHART.own[current].get(event, ())), (current, event)
            if event == "edit":
                assert _Examined.tried == 0 and state.current == QUESTIONS[3].id


@pytest.mark.parametrize("text", ["BACK", "back", "Wstecz", "EDIT 3", "cofnij", "Albanian", "3 February 1990"])
def test_command_words_are_not_reduced_again_for_each_message(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Each message reduces what was typed (once to recognise it, once more to ask about a command
    word of another language); the spellings of every command in every language are not."""
    conversation = conversation_at("pv-name-first-name")
    conversation.say("HELP")  # every spelling of this translator reduced once, by the first message
    calls = Calls()
    calls.watch(monkeypatch, commands, "key")

    conversation.say(text)

    assert calls["key"] <= 2, text


def test_a_long_answer_is_not_tried_word_by_word_as_explain_and_a_language_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """"EXPLAIN Tigrinya" is looked for only in heads no longer than an EXPLAIN word: a long answer
    costs a few look-ups, not one per word (and a join of all the words before it)."""
    long_answer = " ".join(["Offered a restaurant job in London by a man she met online"] * 30)
    assert commands.recognise("EXPLAIN Tigrinya", ENGLISH) is not None  # the words are reduced once
    calls = Calls()
    calls.watch(monkeypatch, commands, "_variants")

    assert commands.recognise(long_answer, ENGLISH) is None

    assert calls["_variants"] <= 3


def _searched(typed: str, t: Any, language: str) -> commands.Typed | None:
    """What a message is as every command spelling is searched for it (without the quick refusal
    by its first word)."""
    from flows.languages import language_command

    is_language, number = language_command(typed)
    if is_language:
        return commands.Typed(commands.Command.LANGUAGE, number)
    forms = commands._forms(t, language)
    return commands._look_up(typed, forms) or commands._explain_named(typed, forms)


@pytest.mark.parametrize("language", ["en", "cy", "sq", "vi", "ro", "pl", "ar"])
def test_the_quick_refusal_by_the_first_word_refuses_no_command(language: str) -> None:
    from flows.languages import LANGUAGE_WORDS, key
    from tests.flows.test_languages import catalogue

    t = catalogue(language)
    spellings = [*commands._forms(t, language), *LANGUAGE_WORDS]
    typed = [text for spelling in spellings
             for text in (spelling, f"{spelling} 3", f"{spelling}3", f"{spelling} tigrinya", f"3 {spelling}", f"{spelling[:-1]} 2")]
    typed += ["3 February 1990", "32/2/1990", "1", "Offered a restaurant job in London", "07700 900123", "٣"]
    for text in typed:
        reduced = key(text)
        assert commands.recognise(text, t, language) == (None if not reduced else _searched(reduced, t, language)), text


def test_a_typed_name_is_compared_once_with_each_distinct_key_and_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-word typo compared with the list's words and with its keys of several words (a
    one-word key is one of its words), then with the keys of entries that tie: fewer comparisons
    than comparing every key and every word once, as the ranking first did."""
    from rapidfuzz import fuzz

    calls = Calls()
    calls.watch(monkeypatch, fuzz, "ratio")
    keys, _ = lookups._index("nationalities", "en")
    words = lookups._word_holders("nationalities", "en")

    with pytest.raises(lookups.Ambiguous) as offered:
        lookups.match("nationalities", "Albanain")

    assert offered.value.candidates[0] == "Albanian"
    several_words = {key for key in keys if " " in key}
    tied_keys = 200  # generous: the keys of the few entries that share a score
    assert calls["ratio"] <= len(words) + len(several_words) + tied_keys < len(keys) + len(words)


def _afresh(state: DialogueState) -> standing.Standing:
    return standing.Standing(state.answers, state.revision)


def _broken(derived: standing.Standing) -> list[tuple[str, str, dict[str, Any]]]:
    return [(rule.id, problem.message, problem.params) for rule, problem in derived.broken(TODAY)]


def _same_as_afresh(state: DialogueState) -> None:
    kept, fresh = standing.of(state), _afresh(state)
    assert kept.on_route == fresh.on_route and kept.on_route.order == fresh.on_route.order
    assert _broken(kept) == _broken(fresh)
    assert kept.first_unanswered() == fresh.first_unanswered()
    assert kept.items() == fresh.items()
    assert kept.registered() == fresh.registered()
    assert kept.summary(ENGLISH) == fresh.summary(ENGLISH)
    question = BY_ID.get(state.current)
    if question is not None:
        assert kept.progress(question) == fresh.progress(question)


@pytest.mark.parametrize("registered", [False, True], ids=["unregistered", "registered"])
def test_what_is_handed_on_from_message_to_message_is_what_the_answers_give_afresh(registered: bool) -> None:
    conversation = Conversation(registration=REGISTERED if registered else None)
    for qid_answers in (CHILD, ADULT_NRM):  # a child's route, then RESTART and an adult's
        for _ in range(200):
            _same_as_afresh(conversation.state)
            qid = conversation.question_id
            if qid is None:
                break
            conversation.say(qid_answers.get(qid, "SKIP"))
        for text in ("REVIEW", f"EDIT {conversation.summary_number(BY_ID['pv-under-age'].summary)}",
                     "no" if qid_answers is CHILD else "yes", "BACK", "BACK", "HELP",
                     f"EDIT {conversation.summary_number(BY_ID['user-email'].summary)}",
                     "other.person@example.org", "REVIEW", "RESTART", "YES"):
            conversation.say(text)
            _same_as_afresh(conversation.state)


@pytest.mark.parametrize("text", ["HELP", "BACK", "REVIEW", "EDIT 2", "32/2/1990", "3/2/1990", "cofnij", "SKIP"])
def test_a_message_leaves_no_reference_cycle_for_the_cycle_collector(text: str) -> None:
    """Each message's step, route and replies are freed as soon as the message is answered: a
    cycle among them (the step's route holding a closure over the step) left garbage for
    Python's cycle collector, whose runs took about a tenth of the dialogue's time."""
    conversation = conversation_at("pv-dob")
    conversation.say("HELP")
    gc.collect()
    gc.disable()
    try:
        conversation.say(text)
        assert gc.collect() == 0, text
    finally:
        gc.enable()


def test_a_typo_is_compared_only_with_names_that_share_its_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name typed in Latin letters is not compared with the Arabic names of a list (no letter in
    common: they score 0), nor one typed in Arabic script with the Latin names."""
    from rapidfuzz import process

    compared: list[str] = []
    extract = process.extract

    def recording(query: str, choices: Any, **kwargs: Any) -> Any:
        compared.extend(choices)
        return extract(query, choices, **kwargs)

    monkeypatch.setattr(process, "extract", recording)
    with pytest.raises(lookups.Ambiguous):
        lookups.match("nationalities", "Albanain")
    assert compared and not [word for word in compared if not word.isascii()]

    arabic = next(name for name, entry in lookups.names("nationalities", "ar") if entry == "Albanian")
    compared.clear()
    try:
        lookups.match("nationalities", arabic[:2] + arabic[3] + arabic[2] + arabic[4:], language="ar")  # two swapped
    except (lookups.Ambiguous, lookups.Invalid):
        pass
    assert compared and not [word for word in compared if any(ch.isascii() and ch != " " for ch in word)]


def test_review_after_one_answer_changed_numbers_only_that_line_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary's numbered lines are kept with the answers and handed on when one answer
    changes, even one that a route condition reads but that leaves the route as it was."""
    calls = Calls()
    calls.watch(monkeypatch, render, "numbered")
    conversation = Conversation()
    conversation.answer_all(ADULT_NRM)
    conversation.say("REVIEW")
    shown = conversation.summary()
    for qid, again in (("pv-gender", "2"), ("pv-interpreter-requirements", "no")):
        assert qid in CONDITIONS.value_fields or qid == "pv-gender"
        calls.clear()
        conversation.say(f"EDIT {conversation.summary_number(BY_ID[qid].summary)}")
        conversation.say(again)
        conversation.say("REVIEW")
        assert calls["numbered"] == 1, qid
    assert conversation.summary() != shown
    assert conversation.summary() == _afresh(conversation.state).summary(ENGLISH)
