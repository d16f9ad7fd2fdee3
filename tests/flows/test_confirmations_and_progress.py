"""A pending confirmation is the current question, the summary is a question of kind confirm, and
progress by the form's parts never goes backwards while questions are answered (issue 8)."""

from __future__ import annotations

import pytest

from flows.dialogue import ASKED_AGAIN, CONFIRM_DISCARD, CONFIRM_RESTART
from tests.flows.conversation import ADULT_NRM, CHILD, DTN, ROUTES, Conversation, conversation_at


@pytest.mark.parametrize(("word", "qid", "text"), [("DISCARD", "confirm-discard", CONFIRM_DISCARD),
                                                     ("RESTART", "confirm-restart", CONFIRM_RESTART)])
def test_a_pending_confirmation_survives_a_reload_as_the_current_question(word: str, qid: str, text: str) -> None:
    conversation = conversation_at("pv-under-age-at-time-of-exploitation")
    conversation.say(word)
    assert (conversation.question_id, conversation.turn.question.kind) == (qid, "yes_no")
    assert [c["value"] for c in conversation.turn.question.choices] == ["yes", "no"]

    reloaded = Conversation.resumed(conversation.stored())

    assert reloaded.turn.messages == [text]
    assert (reloaded.question_id, reloaded.turn.question.kind) == (qid, "yes_no")


def test_discard_reload_discard_then_yes_never_stores_yes_as_an_answer() -> None:
    """The issue's web chat scenario: the second DISCARD cancels visibly and re-asks the question."""
    conversation = conversation_at("pv-under-age-at-time-of-exploitation")
    conversation.say("DISCARD")
    reloaded = Conversation.resumed(conversation.stored())
    reply = reloaded.say("DISCARD")
    assert reply.startswith("OK, nothing deleted.")
    assert reloaded.question_id == "pv-under-age-at-time-of-exploitation"
    assert "pv-under-age-at-time-of-exploitation" not in reloaded.values()
    reloaded.say("DISCARD")
    reloaded.say("YES")
    assert reloaded.turn.done and reloaded.state.current == "cancelled"


@pytest.mark.parametrize("typed", ["no", "2", "hello", "HELP", "BACK", "LANGUAGE 1"])
def test_anything_but_yes_cancels_a_pending_confirmation_visibly(typed: str) -> None:
    conversation = conversation_at("pv-under-age-at-time-of-exploitation")
    conversation.say("DISCARD")
    reply = conversation.say(typed)
    assert reply.startswith("OK, nothing deleted.")
    assert conversation.question_id == "pv-under-age-at-time-of-exploitation"
    assert conversation.state.pending is None and conversation.values()["pv-under-age"] == "no"


def test_the_yes_button_of_a_confirmation_confirms_it() -> None:
    conversation = conversation_at("pv-gender")
    conversation.say("RESTART")
    conversation.say("1")  # the page's buttons send the choice's number
    assert conversation.text.startswith("Started again.") and conversation.question_id == "reference"


def test_the_summary_is_a_question_of_kind_confirm() -> None:
    conversation = Conversation()
    conversation.answer_all(DTN)
    summary = conversation.turn.question
    assert summary is not None and not conversation.turn.done
    assert (summary.id, summary.kind) == ("confirm", "confirm")
    assert summary.choices == [{"value": "confirm", "label": "Confirm and send"}]
    reloaded = Conversation.resumed(conversation.stored())
    assert reloaded.turn.question.kind == "confirm"
    conversation.say("DISCARD")
    assert conversation.turn.question.id == "confirm-discard"
    conversation.say("no")
    assert conversation.turn.question.kind == "confirm"


def _walk_forward(conversation: Conversation, answers: dict[str, str]) -> None:
    """Answer until the summary; every answer moves (part, place) forward, except the turn after
    a doubtful answer was asked again out of order (it goes back to the first unanswered one)."""
    for _ in range(200):
        if conversation.question_id is None:
            return
        before = conversation.position
        redirected = ASKED_AGAIN in conversation.text
        conversation.say(answers[conversation.question_id])
        if conversation.question_id is not None and not redirected and ASKED_AGAIN not in conversation.text:
            assert conversation.position > before, (before, conversation.position, conversation.last)
            assert conversation.turn.question.progress.sections == 7
    raise AssertionError("no summary")


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_progress_never_goes_backwards_over_a_golden_route_with_edits(route: str) -> None:
    answers = ROUTES[route]
    conversation = Conversation()
    _walk_forward(conversation, answers)
    flips = {"Under 18": ("no", ADULT_NRM) if route == "child" else ("yes", CHILD),
             "More than one situation": ("yes", {**answers, "when-did-the-exploitation-take-place-multiple": "2019, 2021"}),
             "Where exploited": ("3", {**answers, "where-exploitation-happened-overseas-country-1": "France",
                                       "where-exploitation-happened-overseas-country-2": "SKIP",
                                       "where-exploitation-happened-other-overseas-other-location": "SKIP"}),
             "Still exploited": ("yes", {**answers, "what-is-keeping-them-in-situation": "Debts"})}
    for label, (typed, then) in flips.items():
        conversation.say(f"EDIT {conversation.summary_number(label)}")
        edited_at = conversation.position
        conversation.say(typed)
        if conversation.question_id is not None and ASKED_AGAIN not in conversation.text:
            assert conversation.position > edited_at
        _walk_forward(conversation, {**then, "pv-dob": then.get("pv-dob", answers["pv-dob"])})
        assert conversation.at_summary
