"""What the person is told before a referral, on each route, and what the payload records of it;
and the responder's own reference, which stays with the responder.

The explanation read out with EXPLAIN must be true for every outcome open on the route: an adult
hears that a Duty to Notify report carries their name and contact details if they agreed to help
the police; a child hears that they are referred without being asked, and why.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache

import pytest
from jsonschema import Draft202012Validator

from bot.translate import in_memory
from flows import consent, dialogue
from flows.i18n import ENGLISH, Translator
from flows.referral_questions import QUESTIONS
from flows.schema import payload_schema
from tests.flows.conversation import ROUTES, Conversation, conversation_at, validate, walked_payload

BY_ID = {q.id: q for q in QUESTIONS}
CODES = ("en", "cy", "sq", "vi", "ro", "pl", "ar")


@cache
def catalogue(code: str) -> Translator:
    return ENGLISH if code == "en" else in_memory(code)


def explained(route: str, at: str, typed: str = "EXPLAIN") -> Conversation:
    conversation = conversation_at(at, route)
    conversation.say(typed)
    return conversation


def submitted_after_explain(route: str, at: str, typed: str) -> dict:
    conversation = explained(route, at, typed)
    conversation.answer_all(ROUTES[route])
    conversation.say("CONFIRM")
    assert conversation.turn.submission is not None, conversation.text
    return conversation.turn.submission


def is_valid(payload: dict) -> bool:
    return Draft202012Validator(payload_schema()).is_valid(payload)


# -- the explanation on each route ------------------------------------------------------------


def test_the_adult_explanation_says_a_duty_to_notify_names_the_person_who_agreed_to_help_the_police() -> None:
    text = explained("adult", "pv-want-to-submit-nrm").text

    assert "If you say yes" in text and "If you say no" in text  # both outcomes, before they decide
    assert "does not name you" not in text  # the old claim, false for someone helping the police
    assert re.search(r"if you agreed to help the police, your name and contact details are included", text)
    assert "a support provider also gets your details" in text


def test_the_child_explanation_says_no_consent_is_asked_and_why() -> None:
    conversation = explained("child", "birthplace")
    text = conversation.text

    assert "you are referred without being asked to agree" in text
    assert "keeping them safe comes first" in text
    assert "Children's services at your local council are also told" in text
    assert "your choice" not in text and "If you say no" not in text  # no choice is offered
    assert conversation.question_id == "birthplace"  # and the question is asked again


def test_explain_before_the_age_is_known_asks_for_the_age_first_and_records_nothing() -> None:
    conversation = conversation_at("fr-location")
    conversation.say("EXPLAIN")

    assert conversation.turn.messages[0].startswith("What the person is told depends on their age.")
    assert conversation.state.consent_explanations == []
    assert conversation.question_id == "fr-location"


@pytest.mark.parametrize("code", CODES)
def test_each_route_has_its_own_explanation_in_every_language(code: str) -> None:
    t = catalogue(code)
    adult = {t.gettext(text) for text in consent.ADULT.texts}
    child = {t.gettext(text) for text in consent.CHILD.texts}
    assert t.gettext(consent.ADULT_IF_NO) not in child
    assert t.gettext(consent.CHILD_WHY) not in adult
    if code != "en":
        assert all(t.gettext(text) != text for text in consent.READ_ALOUD), code


# -- the record in the payload ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "at", "typed", "question_version", "explanations"),
    [
        ("adult", "pv-want-to-submit-nrm", "EXPLAIN 2", "consent-question-v2",
         [{"version": "explanation-adult-v2", "language": "cy"}]),
        ("dtn", "pv-want-to-submit-nrm", "EXPLAIN 4", "consent-question-v2",
         [{"version": "explanation-adult-v2", "language": "vi"}]),
        ("child", "birthplace", "EXPLAIN 7", None,
         [{"version": "explanation-child-v2", "language": "ar"}]),
    ],
)
def test_every_route_records_the_consent_question_and_the_explanations_shown(
    route: str, at: str, typed: str, question_version: str | None, explanations: list
) -> None:
    payload = submitted_after_explain(route, at, typed)

    validate(payload)
    assert payload["consent_question_version"] == question_version
    assert payload["consent_explanations"] == explanations


@pytest.mark.parametrize("route", ["adult", "dtn", "dtn-named", "child"])
def test_the_consent_record_is_in_every_payload_even_without_explain(route: str) -> None:
    payload = walked_payload(route)
    assert payload["consent_explanations"] == []
    assert payload["consent_question_version"] == (None if route == "child" else consent.QUESTION_VERSION)


def test_an_explanation_shown_on_a_route_left_later_stays_recorded_as_shown() -> None:
    conversation = explained("adult", "pv-want-to-submit-nrm")
    conversation.say("yes")
    conversation.say("REVIEW")
    conversation.say(f"EDIT {conversation.summary_number('Under 18')}")
    conversation.say("yes")  # now a child: consent is no longer asked
    conversation.answer_all(ROUTES["child"])
    conversation.say("CONFIRM")
    payload = conversation.turn.submission

    validate(payload)
    assert payload["age_route"] == "child"
    assert payload["consent_question_version"] is None
    assert payload["consent_explanations"] == [{"version": "explanation-adult-v2", "language": "en"}]


@pytest.mark.parametrize("route", ["adult", "dtn", "child"])
def test_the_schema_requires_the_consent_record(route: str) -> None:
    payload = walked_payload(route)
    assert is_valid(payload)

    for key in ("consent_question_version", "consent_explanations"):
        missing = copy.deepcopy(payload)
        del missing[key]
        assert not is_valid(missing), key
    wrong = copy.deepcopy(payload)
    wrong["consent_question_version"] = None if route != "child" else consent.QUESTION_VERSION
    assert not is_valid(wrong)  # asked of every adult, never of a child
    unknown = copy.deepcopy(payload)
    unknown["consent_explanations"] = [{"version": "explanation-v9", "language": "en"}]
    assert not is_valid(unknown)


def test_a_draft_stored_before_versions_were_recorded_says_what_it_showed() -> None:
    conversation = conversation_at("pv-want-to-submit-nrm")
    conversation.say("yes")
    stored = json.loads(conversation.stored())
    del stored["consent_explanations"], stored["consent_question_version"]
    stored.update(consent_text_version="2026-11", consent_text_languages=["vi", "en"])

    resumed = Conversation.resumed(json.dumps(stored))
    resumed.answer_all(ROUTES["adult"])
    resumed.say("CONFIRM")
    payload = resumed.turn.submission

    validate(payload)
    assert payload["consent_question_version"] == "consent-question-v1"
    assert payload["consent_explanations"] == [
        {"version": "2026-11", "language": "vi"}, {"version": "2026-11", "language": "en"},
    ]


# -- the responder's own reference ------------------------------------------------------------


@pytest.mark.parametrize("route", ["adult", "dtn", "dtn-named", "child"])
def test_the_responders_reference_is_in_no_referral_or_report(route: str) -> None:
    payload = walked_payload(route)
    assert "reference" not in payload["answers"]
    assert ROUTES[route]["reference"] not in json.dumps(payload)
    with_reference = copy.deepcopy(payload)
    with_reference["answers"]["reference"] = "SA-0412"
    assert not is_valid(with_reference)  # the backend refuses it


@pytest.mark.parametrize("route", ["adult", "dtn"])
def test_the_receipt_repeats_the_responders_own_reference(route: str) -> None:
    conversation = Conversation()
    conversation.answer_all(ROUTES[route])
    conversation.say("CONFIRM")

    receipt = dialogue.submitted(conversation.state, "NRM-2026-000001", ENGLISH)

    assert "Your own reference: SA-0412." in receipt.messages


NAME_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("name",),
    "cy": ("enw",),
    "sq": ("emër", "emr", "emra"),
    "vi": ("tên",),
    "ro": ("nume",),
    "pl": ("imię", "imion", "imiona", "nazwisk"),
    "ar": ("اسم", "أسماء"),
}
"""The word for a person's name (and its forms) in each language."""


@pytest.mark.parametrize("code", CODES)
def test_the_reference_prompt_suggests_no_names(code: str) -> None:
    prompt = catalogue(code).gettext(BY_ID["reference"].prompt).casefold()

    assert not [word for word in NAME_WORDS[code] if word in prompt], prompt
    assert "SA-0412" in catalogue(code).gettext(BY_ID["reference"].prompt)  # a code is suggested


def test_the_reference_help_says_it_is_not_sent_and_must_not_identify_the_person() -> None:
    help_text = BY_ID["reference"].help
    assert "not sent with the referral or report" in help_text
    assert "does not identify the person" in help_text

