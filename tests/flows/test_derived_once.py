"""What a message derives from the answers is derived again whenever they change (issue 14: the
route conditions, the rules between answers, progress and a question's words are worked out once
per change of the answers, per route or per translator, and remembered).

Each test compares what the dialogue shows with what the answers give when evaluated afresh, or
changes one answer and checks that everything depending on it moved in the same message.
"""

from __future__ import annotations

import gettext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import dialogue, lookups, render, standing
from flows.dialogue import ASKED_AGAIN, BY_ID, IN_PART
from flows.i18n import ENGLISH
from flows.question import Question
from flows.referral_questions import QUESTIONS, part_of
from flows.state import REGISTRATION, DialogueState
from tests.flows.conversation import ADULT_NRM, ROUTES, TODAY, Conversation

REGISTERED = {"user-organisation": "Salvation Army", "fr-details-phone": "+447700900123",
              "user-email": "sam.jones@example.org", "fr-details-first-name": "Sam", "fr-details-last-name": "Jones"}
"""What a registration answers (bot.registration.prefill of a registered responder)."""


def _afresh(state: DialogueState, question: Question) -> tuple[int, int]:
    """(place, count) of ``question`` in its part, from the route conditions evaluated now."""
    values = state.values()
    asked = question.applies(values)
    shown = [
        q for q in IN_PART[part_of(question)[0]]
        if (q.applies(values) or q is question or (not asked and q.may_apply(values)))
        and state.answers.get(q.id, {}).get("source") != REGISTRATION
    ]
    return next((n for n, q in enumerate(shown, start=1) if q is question), len(shown)), len(shown)


def _check_turn(conversation: Conversation) -> None:
    view = conversation.turn.question
    question = BY_ID.get(conversation.state.current)
    if view is not None and question is not None:
        assert (view.progress.step, view.progress.of) == _afresh(conversation.state, question), question.id


@pytest.mark.parametrize("registered", [False, True], ids=["unregistered", "registered"])
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_turn_shows_the_progress_the_answers_give_afresh(route: str, registered: bool) -> None:
    """Progress is remembered per route; what registration answered is left out per draft."""
    conversation = Conversation(registration=REGISTERED if registered else None)
    answers = {**ROUTES[route], **{qid: "SKIP" for qid in ("pv-nationality-second",)}}
    for _ in range(200):
        _check_turn(conversation)
        qid = conversation.question_id
        if qid is None:
            break
        conversation.say(answers[qid])
    assert conversation.at_summary
    for text in ("BACK", "BACK", "REVIEW", f"EDIT {conversation.summary_number(BY_ID['pv-under-age'].summary)}",
                 "not sure", "BACK", "HELP"):
        conversation.say(text)
        _check_turn(conversation)


def test_two_drafts_on_one_route_one_registered_count_their_own_questions() -> None:
    """The same question on the same route: a registered responder is not counted the questions
    their registration answered, whichever draft came first."""
    plain, registered = Conversation(), Conversation(registration=REGISTERED)
    plain.answer_all(ADULT_NRM, until="fr-details-role")
    registered.answer_all(ADULT_NRM, until="fr-details-role")
    assert plain.turn.question is not None and registered.turn.question is not None
    assert plain.turn.question.progress.of - registered.turn.question.progress.of == 3  # first and last name, phone
    plain.say("BACK")
    assert plain.question_id == "fr-details-last-name"


def test_an_answer_that_opens_a_branch_asks_its_first_question_in_the_same_message() -> None:
    conversation = Conversation()
    conversation.answer_all(ADULT_NRM)
    conversation.say("REVIEW")
    conversation.say(f"EDIT {conversation.summary_number(BY_ID['where-exploitation-happened'].summary)}")
    conversation.say("2")  # overseas: the UK places leave the route, the countries come on it

    values = conversation.values()
    following = QUESTIONS[[q.id for q in QUESTIONS].index("where-exploitation-happened") + 1:]
    expected = next(q.id for q in following if q.applies(values) and q.id not in values)
    assert values["where-exploitation-happened"] == "overseas"
    assert conversation.question_id == expected
    _check_turn(conversation)


def test_answers_changed_within_a_message_are_read_afresh_by_the_route() -> None:
    """A message may change the answers after reading the route (answering, pruning what the
    route left, RESTART): each change is seen by whatever the message reads next."""
    state = DialogueState(current="where-exploitation-happened")
    state.answer("where-exploitation-happened", "uk", typed="1")
    step = dialogue._Step(state, ENGLISH, TODAY)
    assert "where-exploitation-happened-uk-city-1" in step.standing().on_route.applies

    state.answer("where-exploitation-happened", "overseas", typed="2")
    assert "where-exploitation-happened-uk-city-1" not in step.standing().on_route.applies
    assert step.route.send("advance") and state.current == "where-exploitation-happened-overseas-country-1"

    state.forget(["where-exploitation-happened"])
    assert "where-exploitation-happened-overseas-country-1" not in step.standing().on_route.applies
    state.answers = {"where-exploitation-happened": {"value": "uk", "typed": "1", "lang": "en", "source": "user"}}
    assert "where-exploitation-happened-uk-city-1" in step.standing().on_route.applies


CHANGES = [
    # (rule, answer changed, text typed, the rule's answer asked again or this one refused)
    ("date-of-birth-and-under-18", "pv-under-age", "yes", "asked again"),
    ("date-of-birth-and-under-18", "pv-dob", "3/2/2012", "refused"),
    ("second-nationality-not-the-first", "pv-nationality", "Vietnamese", "asked again"),
    ("second-nationality-not-the-first", "pv-nationality-second", "Albanian", "refused"),
    ("other-email-not-your-own", "user-email", "mst.team@example.org", "asked again"),
    ("other-email-not-your-own", "fr-alternative-contact", "sam.jones@example.org", "refused"),
]


@pytest.mark.parametrize(("rule", "changed", "typed", "outcome"), CHANGES, ids=[f"{c[0]}:{c[1]}" for c in CHANGES])
def test_a_rule_is_checked_again_in_the_message_that_changes_any_answer_it_reads(
    rule: str, changed: str, typed: str, outcome: str
) -> None:
    answers = {**ADULT_NRM, "pv-nationality-second": "Vietnamese"}
    conversation = Conversation()
    conversation.answer_all(answers)
    conversation.say("REVIEW")  # every derived value is now worked out from the answers as they were
    conversation.say(f"EDIT {conversation.summary_number(BY_ID[changed].summary)}")
    reply = conversation.say(typed)

    if outcome == "refused":
        assert conversation.question_id == changed
        assert conversation.values()[changed] != typed
    else:
        asked = {"date-of-birth-and-under-18": "pv-dob", "second-nationality-not-the-first": "pv-nationality-second",
                 "other-email-not-your-own": "fr-alternative-contact"}[rule]
        assert reply.startswith(ASKED_AGAIN), reply
        assert conversation.question_id == asked


class _Catalogue(gettext.NullTranslations):
    """A translator with its own words for a few msgids (a catalogue loaded by a channel)."""

    def __init__(self, words: dict[str, str]) -> None:
        super().__init__()
        self.words = words

    def gettext(self, message: str) -> str:
        return self.words.get(message, message)


def test_a_question_is_shown_in_each_translators_own_words_whatever_was_shown_before() -> None:
    question = BY_ID["pv-gender"]
    progress = render.Progress("Person", 7, 7, 1, 5)
    first = _Catalogue({question.prompt: "Rhyw?", question.choices[0].label: "Gwryw"})
    second = _Catalogue({question.prompt: "Płeć?", question.choices[0].label: "Mężczyzna"})
    for _ in range(2):
        assert render.prompt(question, progress, None, first).splitlines()[:2] == ["(Person 1/5) Rhyw?", "1 Gwryw"]
        assert render.prompt(question, progress, None, second).splitlines()[:2] == ["(Person 1/5) Płeć?", "1 Mężczyzna"]
        assert render.view(question, progress, second).choices[0]["label"] == "Mężczyzna"
        assert render.display(question, question.choices[0].value, first) == "Gwryw"


def test_the_answer_so_far_is_shown_in_each_translators_own_words_whatever_was_shown_before() -> None:
    question = BY_ID["pv-gender"]
    progress = render.Progress("Person", 7, 7, 1, 5)
    first = _Catalogue({"Answer so far: {answer}": "Ateb hyd yma: {answer}", question.choices[0].label: "Gwryw"})
    second = _Catalogue({"Answer so far: {answer}": "Dotychczasowa odpowiedź: {answer}",
                         question.choices[0].label: "Mężczyzna"})
    value = question.choices[0].value
    for _ in range(2):
        assert render.prompt(question, progress, value, first).splitlines()[-1] == "Ateb hyd yma: Gwryw"
        assert render.prompt(question, progress, value, second).splitlines()[-1] == "Dotychczasowa odpowiedź: Mężczyzna"
        assert render.prompt(question, progress, value, ENGLISH).splitlines()[-1] == f"Answer so far: {question.choices[0].label}"


def test_a_choice_is_read_in_the_words_of_the_dialogues_language_and_no_other() -> None:
    """The phrases that pick an option are kept per question, language and translator: one
    language's label never picks an option in a dialogue in another language."""
    from flows import validators
    from flows.question import Invalid, ParseContext

    question = BY_ID["pv-gender"]
    welsh = _Catalogue({question.choices[0].label: "Gwryw"})
    polish = _Catalogue({question.choices[0].label: "Mężczyzna"})
    in_welsh, in_polish = ParseContext(TODAY, "cy", welsh), ParseContext(TODAY, "pl", polish)
    first = question.choices[0].value
    for _ in range(2):
        assert validators.parse(question, "gwryw", in_welsh) == first
        assert validators.parse(question, "Mężczyzna", in_polish) == first
        with pytest.raises(Invalid):
            validators.parse(question, "gwryw", in_polish)
        with pytest.raises(Invalid):
            validators.parse(question, "mezczyzna", in_welsh)


def test_the_summary_handed_on_after_an_answer_is_in_the_words_of_the_translator_asking() -> None:
    """The numbered lines kept with the answers are in one translator's words: another
    translator gets its own, before and after an answer changes."""
    conversation = Conversation()
    conversation.answer_all(ADULT_NRM)
    gender = BY_ID["pv-gender"]
    welsh = _Catalogue({"Your answers:": "Eich atebion:", gender.summary: "Rhyw"})
    polish = _Catalogue({"Your answers:": "Twoje odpowiedzi:", gender.summary: "Płeć"})
    kept = standing.of(conversation.state)
    assert kept.summary(welsh).startswith("Eich atebion:") and "Rhyw:" in kept.summary(welsh)
    conversation.say(f"EDIT {conversation.summary_number(gender.summary)}")
    conversation.say("2")
    kept, fresh = standing.of(conversation.state), standing.Standing(conversation.state.answers, -1)
    for catalogue in (polish, welsh, ENGLISH, polish):
        assert kept.summary(catalogue) == fresh.summary(catalogue)
    assert "Płeć:" in kept.summary(polish) and "Rhyw:" not in kept.summary(polish)


def test_two_conversations_interleaved_review_only_their_own_answers() -> None:
    """What one conversation keeps of its answers (the numbered summary, the answered questions)
    is never read by another, message by message."""
    alone, together = Conversation(), [Conversation(), Conversation()]
    alone.answer_all(ADULT_NRM)
    for conversation in together:
        conversation.answer_all(ADULT_NRM)
    gender = BY_ID["pv-gender"]
    for conversation, choice in zip(together, ("2", "3")):
        conversation.say("REVIEW")
        conversation.say(f"EDIT {conversation.summary_number(gender.summary)}")
    for conversation, choice in zip(together, ("2", "3")):
        conversation.say(choice)
        conversation.say("REVIEW")
    alone.say(f"EDIT {alone.summary_number(gender.summary)}")
    alone.say("2")
    alone.say("REVIEW")
    assert together[0].summary() == alone.summary()
    assert together[1].summary() != alone.summary()
    assert together[1].summary() == standing.Standing(together[1].state.answers, -1).summary(ENGLISH)


# -- close list matches: the same as scoring every key ---------------------------------------


def _ranked_by_every_key(list_name: str, query: str, excluded: set[str], language: str) -> list[tuple[str, float]]:
    """The ranking as first written: every key scored (the reference the fast one must equal)."""
    from rapidfuzz import fuzz, process

    keys, owners = lookups._index(list_name, language)
    typed = query.split()
    whole = {p: s for _, s, p in process.extract(query, keys, scorer=fuzz.ratio, limit=None,
                                                  score_cutoff=lookups.SUGGEST_SCORE / 2)}
    similar = lookups._similar_words(list_name, typed, language)
    holders = lookups._word_holders(list_name, language)
    by_words = {p for word in typed for candidate in similar[word] for p in holders[candidate]}
    scores: dict[str, float] = {}
    tiebreak: dict[str, float] = {}
    for position in whole.keys() | by_words:
        entry = owners[position]
        if entry in excluded:
            continue
        score = whole.get(position, 0.0)
        if position in by_words:
            score = max(score, lookups._word_score(typed, keys[position].split(), similar))
        scores[entry] = max(scores.get(entry, 0.0), score)
        tiebreak[entry] = max(tiebreak.get(entry, 0.0), whole.get(position, 0.0))
    order = lookups._order(list_name, language)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], -tiebreak[item[0]], order[item[0]]))
    return [item for item in ranked if item[1] >= lookups.SUGGEST_SCORE / 2]


def _outcome(ranked: list[tuple[str, float]], text: str) -> Any:
    try:
        return "accepted", lookups._decide(ranked, text)
    except lookups.Ambiguous as offered:
        return "offered", offered.candidates
    except lookups.NoMatch:
        return "no match", None


def _typo(entry: str, data: st.DataObject) -> str:
    letters = list(entry.lower())
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, max(len(letters) - 1, 0)))
        kind = data.draw(st.sampled_from(["drop", "swap", "double", "change", "cut"]))
        if not letters:
            break
        if kind == "drop":
            del letters[at]
        elif kind == "swap" and at + 1 < len(letters):
            letters[at], letters[at + 1] = letters[at + 1], letters[at]
        elif kind == "double":
            letters.insert(at, letters[at])
        elif kind == "change":
            letters[at] = data.draw(st.sampled_from("aeiostnr "))
        else:
            letters = letters[: max(at, 3)]
    return "".join(letters)


@settings(max_examples=300, deadline=None)
@given(list_name=st.sampled_from(sorted(lookups.LISTS)), data=st.data())
def test_a_typed_name_is_accepted_or_offered_as_scoring_every_key_would(list_name: str, data: st.DataObject) -> None:
    entry = data.draw(st.sampled_from(lookups.entries(list_name)))
    text = _typo(entry, data) + data.draw(st.sampled_from(["", " council", " city"]))
    query = lookups._key(text)
    if len(query.replace(" ", "")) < lookups.MIN_FUZZY_LENGTH:
        return
    excluded = data.draw(st.sampled_from([set(), {entry}]))
    language = data.draw(st.sampled_from(["en", "cy", "sq", "vi", "ro", "pl", "ar"]))
    assert _outcome(lookups._rank(list_name, query, excluded, language), text) == _outcome(
        _ranked_by_every_key(list_name, query, excluded, language), text)
