"""The structured referral handed to the backend: one versioned JSON document.

Keys of ``answers`` are the field ids of NRM-FORM.md; the envelope says which route was taken,
how old the person is said to be, and in which language(s) the answers were given, so the backend
never has to re-derive the dialogue's rules.
"""

from __future__ import annotations

from typing import Any

from flows.referral_questions import QUESTIONS
from flows.route import route
from flows.state import DialogueState

SCHEMA_VERSION = "1.0"
AGE_ROUTES = {"yes": "child", "no": "adult", "not-sure": "unknown"}


def route_of(values: dict[str, Any]) -> str:
    """``dtn`` for an adult who did not consent (Duty to Notify), else ``nrm``."""
    adult = values.get("pv-under-age") == "no"
    return "dtn" if adult and values.get("pv-want-to-submit-nrm") == "no" else "nrm"


def build(state: DialogueState) -> dict[str, Any]:
    """The payload for a completed dialogue (every answer on the route, skipped ones left out)."""
    values = state.values()
    answers = {q.id: values[q.id] for q in route(QUESTIONS, values) if values.get(q.id) is not None}
    automatic = values.get("pv-under-age") in ("yes", "not-sure")
    typed_in = sorted({r["lang"] for qid, r in state.answers.items() if qid in answers and r["typed"]})
    return {
        "schema_version": SCHEMA_VERSION,
        "route": route_of(values),
        "age_route": AGE_ROUTES[values["pv-under-age"]],
        "automatic_referral": automatic,  # a child's referral needs no consent (NRM-FORM §1.3)
        "language": state.language,
        "answer_languages": typed_in or [state.language],
        "consent_text_version": state.consent_text_version,  # EXPLAIN: which wording was shown
        "consent_text_languages": list(state.consent_text_languages),  # and in which languages
        "answers": answers,
    }
