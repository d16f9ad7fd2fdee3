"""The JSON Schema of the referral payload, derived from the question catalogue.

Published for the backend (``backend.intake`` validates every payload against it) and for anyone
consuming referrals. Each question's kind gives its value type; each ``when`` condition becomes an
``if``/``then`` pair, so a payload is valid exactly when it could have come from the dialogue:
required answers on the route are present and answers off the route are absent.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flows import consent, lookups
from flows.languages import CODES
from flows.payload import AGE_ROUTES, NOT_SENT, SCHEMA_VERSION
from flows.question import Kind, Question
from flows.referral_questions import QUESTIONS

E164 = r"^\+[1-9][0-9]{6,14}$"
POSTCODE = r"^(GIR 0AA|[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2})$"
PARTIAL_DATE = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _value_schema(question: Question) -> dict[str, Any]:
    kind = question.kind
    values = [c.value for c in question.options()]
    if kind in (Kind.CHOICE, Kind.YES_NO):
        return {"const": "yes"} if question.must_be_yes else {"enum": values}
    if kind is Kind.MULTI:
        return {"type": "array", "items": {"enum": values}, "minItems": 1, "uniqueItems": True}
    if kind is Kind.LOOKUP:
        assert question.lookup is not None
        listed = [e for e in lookups.entries(question.lookup) if e not in question.exclude]
        if question.free_text:  # an entry of the list, or what was typed ("none of these")
            return {"type": "string", "minLength": 1, "maxLength": question.max_length, "x-entries": listed}
        return {"enum": listed}
    if kind is Kind.DATE:
        return {
            "type": "object",
            "properties": {
                "date": {"type": "string", "pattern": PARTIAL_DATE},
                "approximate": {"type": "boolean"},
            },
            "required": ["date", "approximate"],
            "additionalProperties": False,
        }
    if kind is Kind.PHONE:
        return {"type": "string", "pattern": E164}
    if kind is Kind.EMAIL:
        return {"type": "string", "pattern": EMAIL}
    if kind is Kind.POSTCODE:
        return {"type": "string", "pattern": POSTCODE}
    if kind is Kind.NUMBER:
        return {"type": "integer", "minimum": 0}
    return {"type": "string", "minLength": 1, "maxLength": question.max_length}


def _described(question: Question) -> dict[str, Any]:
    """The value schema plus annotations for people reading a payload (the casework pages):
    ``title`` is the question's summary label, ``x-section`` its section of the review summary
    (in route order), ``x-choices`` the label of each choice value (and ``x-entries``, the list of
    a lookup that also keeps free text). Annotations only: they never change what is valid."""
    described = {**_value_schema(question), "title": question.summary, "x-section": question.section}
    if question.has_choices:
        described["x-choices"] = {choice.value: choice.label for choice in question.options()}
    return described


def _route_rules(question: Question) -> list[dict[str, Any]]:
    """Required when on the route (unless optional); absent when off it."""
    absent = {"not": {"required": [question.id]}}
    if question.when is None:
        return []
    rules = [{"if": {"not": question.when.schema()}, "then": absent}]
    if not question.optional:
        rules.append({"if": question.when.schema(), "then": {"required": [question.id]}})
    return rules


CONSENT_RECORD: dict[str, Any] = {
    "consent_question_version": {"anyOf": [{"enum": list(consent.QUESTION_VERSIONS)}, {"type": "null"}]},
    "consent_explanations": {
        "type": "array",
        "uniqueItems": True,
        "items": {
            "type": "object",
            "properties": {
                "version": {"enum": list(consent.EXPLANATION_VERSIONS)},
                "language": {"enum": list(CODES)},
            },
            "required": ["version", "language"],
            "additionalProperties": False,
        },
    },
}
"""What the person was told: the consent question's version (null exactly when it was not asked,
i.e. on a child's referral) and every explanation shown, with its language (empty when none)."""
ASKED_ONLY_OF_ADULTS: dict[str, Any] = {
    "if": {"properties": {"age_route": {"const": "adult"}}},
    "then": {"properties": {"consent_question_version": {"type": "string"}}},
    "else": {"properties": {"consent_question_version": {"type": "null"}}},
}


@lru_cache(maxsize=1)
def payload_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every submitted referral satisfies."""
    sent = [q for q in QUESTIONS if q.id not in NOT_SENT]
    always = [q.id for q in sent if q.when is None and not q.optional]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:nrm-referral-assistant:referral:{SCHEMA_VERSION}",
        "title": "NRM referral or Duty to Notify report",
        "type": "object",
        "required": ["schema_version", "route", "age_route", "automatic_referral", "language",
                     "consent_question_version", "consent_explanations", "answers"],
        "additionalProperties": False,
        **ASKED_ONLY_OF_ADULTS,
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "route": {"enum": ["nrm", "dtn"]},
            "age_route": {"enum": sorted(set(AGE_ROUTES.values()))},
            "automatic_referral": {"type": "boolean"},
            "language": {"type": "string", "minLength": 2},
            "answer_languages": {"type": "array", "items": {"type": "string"}},
            **CONSENT_RECORD,
            "answers": {
                "type": "object",
                "properties": {q.id: _described(q) for q in sent},
                "additionalProperties": False,
                "required": always,
                "allOf": [rule for q in sent for rule in _route_rules(q)],
            },
        },
    }


def main() -> None:
    """Print the schema (``python -m flows.schema``), e.g. to publish it with a release."""
    print(json.dumps(payload_schema(), indent=2))


if __name__ == "__main__":
    main()
