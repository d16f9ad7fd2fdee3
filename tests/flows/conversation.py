"""A test driver for the referral dialogue: type text in, read text out.

``Conversation`` keeps the DialogueState between messages the way a channel does, with the
English translator and a fixed "today", so tests read like the conversation a responder has.
The answer sets below answer every question of each route as a responder would type them.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from typing import Any, Iterable, Mapping

from jsonschema import Draft202012Validator

from flows import dialogue
from flows.dialogue import Turn
from flows.i18n import ENGLISH
from flows.schema import payload_schema
from flows.state import DialogueState

TODAY = date(2026, 11, 28)
PROGRESS = re.compile(r"^\(([^()]+) (\d+)/(\d+)\) ")
"""The progress before every prompt: "(What happened 4/28) ..." (part of the form, place in it)."""


class Conversation:
    """One referral conversation; ``say`` sends a message and returns the replies as one text."""

    def __init__(self, registration: dict[str, Any] | None = None, state: DialogueState | None = None) -> None:
        if state is None:
            self.turn: Turn = dialogue.start(ENGLISH, registration=registration, language="en")
        else:
            self.turn = dialogue.repeat(state, ENGLISH)
        self.state: DialogueState = self.turn.state

    @classmethod
    def resumed(cls, stored: str) -> Conversation:
        """A conversation rebuilt from JSON text, as a channel loads it from the database."""
        return cls(state=DialogueState.from_dict(json.loads(stored)))

    # -- talking ---------------------------------------------------------------------------

    def say(self, text: str) -> str:
        self.turn = dialogue.handle(self.state, text, ENGLISH, TODAY)
        self.state = self.turn.state
        return self.text

    @property
    def text(self) -> str:
        """Everything the last turn said, as one text."""
        return "\n".join(self.turn.messages)

    @property
    def last(self) -> str:
        """The last message of the last turn (usually the question)."""
        return self.turn.messages[-1] if self.turn.messages else ""

    @property
    def question_id(self) -> str | None:
        """The id of what is asked (None at the summary, whose view is kind confirm, and at the end)."""
        question = self.turn.question
        return question.id if question is not None and question.kind != "confirm" else None

    @property
    def progress(self) -> tuple[str, int, int]:
        """(part, n, m) as printed at the start of the question."""
        found = PROGRESS.match(self.last)
        assert found, f"no progress at the start of {self.last!r}"
        return found[1], int(found[2]), int(found[3])

    @property
    def position(self) -> tuple[int, int]:
        """(part number, place in the part) of what is asked, from the API's view of it."""
        question = self.turn.question
        assert question is not None, self.text
        return question.progress.section_number, question.progress.step

    @property
    def at_summary(self) -> bool:
        question = self.turn.question
        return self.state.current == "review" and question is not None and question.kind == "confirm"

    def values(self) -> dict[str, Any]:
        return self.state.values()

    def stored(self) -> str:
        """The state as a channel stores it between messages (JSON text)."""
        return json.dumps(self.state.to_dict())

    def summary(self) -> str:
        """The numbered summary shown by the last turn."""
        found = [m for m in self.turn.messages if m.startswith("Your answers:")]
        assert found, f"no summary in {self.text!r}"
        return found[-1]

    def summary_number(self, label: str) -> int:
        """The number of the summary line ``n Label: answer`` (what EDIT n takes)."""
        for line in self.summary().splitlines()[1:]:
            number, rest = line.split(" ", 1)
            if rest.startswith(label + ":"):
                return int(number)
        raise AssertionError(f"{label!r} not in the summary:\n{self.summary()}")

    def summary_labels(self) -> list[str]:
        return [line.split(" ", 1)[1].split(":", 1)[0] for line in self.summary().splitlines()[1:]]

    # -- answering whole routes ------------------------------------------------------------

    def answer_all(
        self,
        answers: Mapping[str, str],
        must_not_ask: Iterable[str] = (),
        until: str | None = None,
        limit: int = 200,
    ) -> list[str]:
        """Answer whatever is asked from ``answers`` (field id -> text) until the summary, or
        until question ``until`` is asked (not answered).

        Fails when a question is asked that ``answers`` lacks, or one of ``must_not_ask``, or a
        reply is refused, or the prompt does not start with the progress. Returns the ids asked.
        """
        forbidden = set(must_not_ask)
        asked: list[str] = []
        for _ in range(limit):
            qid = self.question_id
            if qid is None:
                assert until is None, f"reached the end before {until}"
                assert self.at_summary, f"expected the summary, got: {self.text}"
                return asked
            if qid == until:
                return asked
            assert qid not in forbidden, f"{qid} must not be asked on this route"
            assert qid in answers, f"unexpected question {qid}: {self.last}"
            assert PROGRESS.match(self.last), f"no (n/m) before {self.last!r}"
            asked.append(qid)
            self.say(answers[qid])
            assert self.question_id != qid, f"answer {answers[qid]!r} to {qid} refused: {self.text}"
        raise AssertionError("the conversation did not reach the summary")


def validate(payload: dict[str, Any]) -> None:
    """Fail with every schema error of the payload listed."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(payload_schema()).iter_errors(payload)]
    assert not errors, "payload does not match the schema:\n" + "\n".join(errors)


# -- answer sets ----------------------------------------------------------------------------

COMMON: dict[str, str] = {
    "reference": "SA-0412",
    "user-organisation": "salvation army",
    "user-email": "sam.jones@example.org",
    "fr-location": "1",
    "birthplace": "Elbasan, Albania",
    "family": "Mother and two younger sisters",
    "education": "Left school at 16",
    "employment-history": "Waitress in Tirana",
    "potential-victim-exploitative-situation-multiple": "no",
    "when-did-the-exploitation-take-place": "Summer 2022 to March 2023",
    "how-did-the-exploitation-start": "Offered a restaurant job in London",
    "were-they-taken-somewhere-by-their-exploiter": "no",
    "what-were-they-required-to-do": "Cleaning 14 hours a day, no breaks",
    "living-conditions": "Slept on the floor of the kitchen",
    "how-they-were-treated": "Threats and passport taken",
    "still-in-exploitative-situation": "no",
    "how-why-did-they-leave-the-situation": "Ran away while the boss was out",
    "when-last-contact": "2",
    "details-last-contact": "SKIP",
    "is-this-the-first-chance-to-report": "yes",
    "yes-the-first-chance-to-report": "Told a GP in May",
    "modern-slavery-indicators": "no",
    "where-how-interview-carried-out": "At the police station with an interpreter",
    "professional-insight": "Account consistent and detailed",
    "evidence-of-dishonesty": "no",
    "are-others-involved": "no",
    "where-exploitation-happened": "uk",
    "where-exploitation-happened-uk-city-1": "Leeds",
    "where-exploitation-happened-uk-city-2": "SKIP",
    "where-exploitation-happened-other-uk-other-location": "SKIP",
    "current-pv-location-uk-city": "Leeds",
    "current-pv-location-uk-region": "West Yorkshire",
    "who-exploited-pv": "A restaurant owner and his brother",
    "exploiters-location": "no",
    "types-of-exploitation": "1",
    "any-other-pvs": "no",
    "future-exploitation-concerns": "no",
    "reported-to-police": "no",
    "authorities-cooperation": "no",
    "pv-want-to-submit-nrm": "yes",
    "does-pv-need-support": "no",
    "pv-name-first-name": "Anna",
    "pv-name-last-name": "Hoxha",
    "pv-name-nickname": "SKIP",
    "pv-dob": "3/2/1990",
    "pv-gender": "1",
    "does-pv-have-children": "no",
    "pv-nationality": "Albanian",
    "pv-nationality-second": "SKIP",
    "pv-interpreter-requirements": "no",
    "pv-other-help-with-communication": "no",
    "pv-ho-reference": "no",
    "who-contact": "1",
    "pv-contact-details": "1",
    "pv-contact-details-email-input": "anna.h@example.com",
    "pv-contact-details-email-check": "yes",
    "fr-details-first-name": "Sam",
    "fr-details-last-name": "Jones",
    "fr-details-role": "Police constable",
    "fr-details-phone": "07700 900123",
    "fr-alternative-contact": "mst.team@example.org",
    "what-evidence-you-will-submit": "SKIP",
    "refuse-nrm": "SKIP",
    # children
    "local-authority-contacted-about-child-local-authority-name": "Leeds",
    "local-authority-contacted-about-child-local-authority-phone": "0113 222 4403",
    "local-authority-contacted-about-child-local-authority-email": "childrens.services@leeds.gov.uk",
    "local-authority-contacted-about-child-local-authority-first-name": "SKIP",
    "local-authority-contacted-about-child-local-authority-last-name": "SKIP",
}
"""One answer to each question that the common walk takes (a mix of routes; each test chooses)."""

ADULT_NRM = {**COMMON, "pv-under-age": "no", "pv-under-age-at-time-of-exploitation": "no"}
"""An adult who consents; no support, the decision emailed to the person."""

DTN = {**ADULT_NRM, "pv-want-to-submit-nrm": "no"}
"""An adult who does not consent and does not co-operate: an anonymous Duty to Notify."""

DTN_NAMED = {**DTN, "authorities-cooperation": "yes", "authorities-cooperation-details": "Will give a statement"}
"""Duty to Notify for a person who will help the police: name and contact are asked."""

CHILD = {**COMMON, "pv-under-age": "yes", "pv-dob": "3/2/2012"}

ROUTES: dict[str, dict[str, str]] = {
    "adult": ADULT_NRM,
    "dtn": DTN,
    "dtn-named": DTN_NAMED,
    "child": CHILD,
}


@cache
def _stored_before(route: str, qid: str) -> str:
    conversation = Conversation()
    conversation.answer_all(ROUTES[route], until=qid)
    return conversation.stored()


def conversation_at(qid: str, route: str = "adult") -> Conversation:
    """A conversation on ``route`` that has answered everything before ``qid`` and asks it now.

    The walk there is made once per (route, question) and replayed from its stored JSON, as a
    channel resumes a conversation, which keeps the many branch tests fast.
    """
    conversation = Conversation.resumed(_stored_before(route, qid))
    assert conversation.question_id == qid
    return conversation


@cache
def _payload_json(route: str) -> str:
    conversation = Conversation()
    conversation.answer_all(ROUTES[route])
    conversation.say("CONFIRM")
    assert conversation.turn.submission is not None, conversation.text
    return json.dumps(conversation.turn.submission)


def walked_payload(route: str) -> dict[str, Any]:
    """The payload a responder's CONFIRM produces on ``route`` (a fresh copy each call)."""
    return json.loads(_payload_json(route))
