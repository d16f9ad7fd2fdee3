"""Rules between answers hold whatever the order of the answers (issue 8).

Each rule of ``flows.consistency.RULES`` is re-checked whenever an answer it reads changes (EDIT,
BACK, LANGUAGE, resuming) and at CONFIRM: the doubtful answer is asked again with the reason, no
new question comes first, and nothing is sent while a rule fails.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flows import consistency, dialogue
from flows.dialogue import ASKED_AGAIN, BY_ID, NOT_SENT_YET
from flows.i18n import ENGLISH
from tests.flows.conversation import ADULT_NRM, CHILD, TODAY, Conversation, conversation_at, validate

CHILD_DOB = {"date": "2012-02-03", "approximate": False}


def finished(answers: dict[str, str]) -> Conversation:
    conversation = Conversation()
    conversation.answer_all(answers)
    return conversation


def edit(conversation: Conversation, label: str, text: str) -> str:
    conversation.say(f"EDIT {conversation.summary_number(label)}")
    return conversation.say(text)


def test_under_18_edited_to_no_after_a_childs_date_of_birth_asks_the_date_of_birth_again() -> None:
    """The issue's scenario: under 18 yes, date of birth 3/2/2012, EDIT under 18 to no."""
    conversation = finished(CHILD)

    reply = edit(conversation, "Under 18", "no")

    assert conversation.question_id == "pv-dob"  # not "under 18 when exploited", not consent
    assert ASKED_AGAIN in reply
    assert "That date makes the person 14 now, so they are a child." in reply
    assert reply.endswith("Answer so far: 3/2/2012")


def test_consent_is_never_asked_while_the_date_of_birth_says_child_and_the_age_answer_says_adult() -> None:
    conversation = finished(CHILD)
    edit(conversation, "Under 18", "no")
    asked = []
    for typed in ("3/2/2012", "BACK", "Leeds", "3/2/2012", "REVIEW", "2012"):
        conversation.say(typed)
        asked.append(conversation.question_id)
    assert "pv-want-to-submit-nrm" not in asked
    assert conversation.turn.submission is None
    conversation.say("CONFIRM")
    assert conversation.turn.submission is None  # never an adult referral with a child's date of birth


def test_a_corrected_date_of_birth_then_asks_what_an_adult_needs_in_order() -> None:
    conversation = finished(CHILD)
    edit(conversation, "Under 18", "no")
    conversation.say("3/2/1990")
    asked = conversation.answer_all(ADULT_NRM)
    assert asked[:2] == ["pv-under-age-at-time-of-exploitation", "pv-want-to-submit-nrm"]
    conversation.say("CONFIRM")
    payload = conversation.turn.submission
    assert payload is not None and payload["age_route"] == "adult"
    assert payload["answers"]["pv-dob"] == {"date": "1990-02-03", "approximate": False}
    validate(payload)


def test_skipping_the_doubtful_date_of_birth_gives_an_adult_referral_without_it() -> None:
    conversation = finished(CHILD)
    edit(conversation, "Under 18", "no")
    conversation.say("SKIP")
    conversation.answer_all(ADULT_NRM)
    conversation.say("CONFIRM")
    assert "pv-dob" not in conversation.turn.submission["answers"]


def test_under_18_edited_to_yes_after_an_adults_date_of_birth_asks_the_date_of_birth_again() -> None:
    conversation = finished(ADULT_NRM)
    reply = edit(conversation, "Under 18", "yes")
    assert conversation.question_id == "pv-dob"
    assert "That date makes the person 36 now, but you said they are under 18." in reply
    conversation.say(CHILD["pv-dob"])
    assert conversation.question_id == "local-authority-contacted-about-child-local-authority-name"


def test_under_18_changed_after_going_back_asks_the_date_of_birth_again() -> None:
    conversation = conversation_at("pv-gender", route="child")  # 3/2/2012 already given
    while conversation.question_id != "pv-under-age":
        conversation.say("BACK")
    reply = conversation.say("no")
    assert conversation.question_id == "pv-dob"
    assert ASKED_AGAIN in reply


def test_a_draft_saved_with_contradicting_answers_is_caught_on_language_and_on_resume() -> None:
    """A draft stored by an older version (under 18 changed to no, consent next) is re-checked."""
    conversation = finished(CHILD)
    conversation.state.answers["pv-under-age"]["value"] = "no"
    conversation.state.current = "pv-want-to-submit-nrm"
    stored = conversation.stored()

    switched = Conversation.resumed(stored)
    assert switched.question_id == "pv-dob"  # resuming re-checks
    again = Conversation.resumed(stored)
    again.state.current = "pv-want-to-submit-nrm"
    again.say("LANGUAGE 1")
    assert again.question_id == "pv-dob" and ASKED_AGAIN in again.text


def test_confirm_rechecks_the_date_of_birth_against_today() -> None:
    """A child who turned 18 between answering and CONFIRM: the referral is not sent as a child's."""
    answers = {**CHILD, "pv-dob": "1/12/2008"}  # 17 on TODAY (28/11/2026), 18 on 1/12/2026
    conversation = finished(answers)
    turn = dialogue.handle(conversation.state, "CONFIRM", ENGLISH, TODAY + timedelta(days=7))
    assert turn.submission is None
    assert turn.messages[0] == NOT_SENT_YET
    assert "That date makes the person 18 now, but you said they are under 18." in "\n".join(turn.messages)
    assert turn.question is not None and turn.question.id == "pv-dob"


def test_a_second_nationality_the_same_as_the_first_is_refused() -> None:
    conversation = conversation_at("pv-nationality-second")
    reply = conversation.say(ADULT_NRM["pv-nationality"])
    assert reply.startswith("The second nationality is the same as the first.")
    assert conversation.question_id == "pv-nationality-second"


def test_the_first_nationality_edited_to_the_second_asks_the_second_again() -> None:
    conversation = finished({**ADULT_NRM, "pv-nationality-second": "British"})
    reply = edit(conversation, "Nationality", "British")
    assert conversation.question_id == "pv-nationality-second"
    assert ASKED_AGAIN in reply and "The second nationality is the same as the first." in reply
    conversation.say("SKIP")
    assert conversation.at_summary


def test_children_yes_then_none_is_refused() -> None:
    answers = {**ADULT_NRM, "does-pv-have-children": "yes", "does-pv-have-children-yes-amount": "2"}
    conversation = finished(answers)
    reply = edit(conversation, "Number of children", "0")
    assert reply.startswith("You said the person has children, so the number is 1 or more.")
    assert conversation.question_id == "does-pv-have-children-yes-amount"
    assert conversation.values()["does-pv-have-children-yes-amount"] == 2


def test_the_other_email_cannot_be_your_own_and_is_asked_again_when_yours_changes() -> None:
    conversation = conversation_at("fr-alternative-contact")
    assert conversation.say("SAM.JONES@example.org").startswith("That is your own work email.")
    conversation.say(ADULT_NRM["fr-alternative-contact"])
    conversation.answer_all(ADULT_NRM)
    reply = edit(conversation, "Your email", "mst.team@example.org")
    assert conversation.question_id == "fr-alternative-contact"
    assert ASKED_AGAIN in reply and "That is your own work email." in reply


def test_a_date_of_birth_under_18_contradicts_not_under_18_when_exploited() -> None:
    values = {"pv-dob": CHILD_DOB, "pv-under-age-at-time-of-exploitation": "no"}
    [(rule, problem)] = consistency.broken(values, TODAY, BY_ID)
    assert rule.id == "date-of-birth-and-under-18-when-exploited" and problem.params == {"age": 14}


def test_an_answer_the_route_has_left_for_good_breaks_no_rule() -> None:
    """Under 18 "not sure" takes "under 18 when exploited" off the route whatever comes next."""
    values = {"pv-dob": CHILD_DOB, "pv-under-age": "not-sure", "pv-under-age-at-time-of-exploitation": "no"}
    assert consistency.broken(values, TODAY, BY_ID) == []


def test_every_rule_reads_questions_of_the_catalogue_and_asks_one_it_reads() -> None:
    for rule in consistency.RULES:
        assert set(rule.fields) <= set(BY_ID) and rule.ask in rule.fields, rule.id


def test_an_approximate_date_of_birth_breaks_no_rule() -> None:
    values = {"pv-dob": {"date": "2012", "approximate": True}, "pv-under-age": "no"}
    assert consistency.broken(values, date(2026, 11, 28), BY_ID) == []


BROKEN = {
    "date-of-birth-and-under-18": {"pv-dob": CHILD_DOB},
    "date-of-birth-and-under-18-when-exploited": {"pv-dob": CHILD_DOB},
    "second-nationality-not-the-first": {"pv-nationality-second": "Albanian"},
    "children-yes-means-one-or-more": {"does-pv-have-children": "yes", "does-pv-have-children-yes-amount": 0},
    "other-email-not-your-own": {"fr-alternative-contact": "sam.jones@example.org"},
}
"""Stored answers that break each rule on the adult route (as a draft saved before the rule)."""


def test_every_rule_has_a_broken_example() -> None:
    assert set(BROKEN) == {rule.id for rule in consistency.RULES}


@pytest.mark.parametrize("rule", consistency.RULES, ids=lambda rule: rule.id)
def test_confirm_refuses_to_send_while_a_rule_fails_and_asks_the_answer_again(rule: consistency.Rule) -> None:
    conversation = finished(ADULT_NRM)
    for qid, value in BROKEN[rule.id].items():
        conversation.state.answer(qid, value, typed=str(value))
    reply = conversation.say("CONFIRM")
    assert conversation.turn.submission is None
    assert reply.startswith(NOT_SENT_YET)
    assert conversation.question_id == rule.ask
