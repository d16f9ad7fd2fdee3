"""The structured referral handed to the backend: one versioned JSON document.

Keys of ``answers`` are the field ids of NRM-FORM.md; the envelope says which route was taken,
how old the person is said to be, in which language(s) the answers were given, and what the
person was told before the referral was made (``flows.consent``), so the backend never has to
re-derive the dialogue's rules. The responder's own reference is never sent (NRM-FORM.md §2.1).
"""

from __future__ import annotations

from typing import Any

from flows import consent
from flows.referral_questions import QUESTIONS
from flows.route import route
from flows.state import DialogueState

SCHEMA_VERSION = "2.0"
"""2.0: the consent record (question version, explanations shown) replaced consent_text_*, and
the responder's own reference is no longer sent."""
AGE_ROUTES = {"yes": "child", "no": "adult", "not-sure": "unknown"}
NOT_SENT: frozenset[str] = frozenset({"reference"})
"""Answers kept for the responder (their receipt) and never sent with a referral or report."""


def route_of(values: dict[str, Any]) -> str:
    """``dtn`` for an adult who did not consent (Duty to Notify), else ``nrm``."""
    adult = values.get("pv-under-age") == "no"
    return "dtn" if adult and values.get("pv-want-to-submit-nrm") == "no" else "nrm"


def build(state: DialogueState) -> dict[str, Any]:
    """The payload for a completed dialogue (every answer on the route, skipped ones left out)."""
    values = state.values()
    answers = {
        q.id: values[q.id]
        for q in route(QUESTIONS, values)
        if values.get(q.id) is not None and q.id not in NOT_SENT
    }
    automatic = values.get("pv-under-age") in ("yes", "not-sure")
    typed_in = sorted({r["lang"] for qid, r in state.answers.items() if qid in answers and r["typed"]})
    return {
        "schema_version": SCHEMA_VERSION,
        "route": route_of(values),
        "age_route": AGE_ROUTES[values["pv-under-age"]],
        "automatic_referral": automatic,  # a child's referral needs no consent (NRM-FORM §1.3)
        "language": state.language,
        "answer_languages": typed_in or [state.language],
        "consent_question_version": consent.asked_version(state, answers),  # None: not asked
        "consent_explanations": [dict(shown) for shown in state.consent_explanations],
        "answers": answers,
    }
