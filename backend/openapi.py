"""The OpenAPI 3.1 description of the JSON APIs, served at ``GET /api/v1/openapi.json``: the casework
API under ``/api/v1`` and the web chat API under ``/api/chat`` (served by the whole product,
``bot.app``). A test checks that every registered route of both is described, and
``tests/test_api_fuzz.py`` checks with schemathesis that every response matches this document.
"""

from __future__ import annotations

import copy
from typing import Any

from backend.lifecycle import REVIEW_OUTCOMES
from backend.models import AGE_ROUTES, CASE_STATUSES, DECISION_OUTCOMES, DECISION_STAGES, FR_LOCATIONS, ROUTES
from backend.casework.queue_sort import DEFAULT_SORT, SORTS
from backend.queues import BOOLEAN_WORDS, MAX_PAGE_SIZE, PAGE_SIZE
from backend.statistics import HIDDEN, SMALL

VERSION = "1.2.0"

QUESTION_KINDS = ("choice", "multi", "yes_no", "lookup", "text", "date", "phone", "email", "postcode", "number",
                  "confirm")
"""The kinds of question the web chat API names (the dialogue's ``flows.question.Kind``; a test checks)."""

def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


ERRORS = {
    "400": _error("A malformed request: a body, path or query parameter this operation does not take "
                  "(e.g. a date that is not YYYY-MM-DD), with `errors` where there are several; text holding "
                  "control characters or lone surrogates anywhere in the request (`code`: `invalid_text`); JSON "
                  "nested too deeply (`code`: `invalid_json`)."),
    "401": _error("No valid bearer token."),
    "403": _error("Your role may not use this endpoint, or may not act on this case "
                  "(independence of decision maker and reviewer, referring organisation)."),
    "404": _error("No such case, or not one you may see."),
    "409": _error("The state of the case or conversation does not allow this: another caseworker holds the "
                  "claim, or the draft was sent, discarded or moved to another channel (`reason`)."),
    "422": _error("Malformed body, or missing written reasons; reasons of a decision or review shorter than "
                  "`DECISION_REASONS_MIN_CHARS` characters (default 50; `code`: `reasons_too_short`)."),
    "429": {"description": "Too many attempts: wait the `Retry-After` header's seconds.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            **_json(_ref("Error"))},
}

ALWAYS = ("400", "429")
"""Answers any operation may give: input refused at the edge (``backend.request_guards``) and the rate
limits per client (``backend.limits``)."""

REFERENCE = {"name": "reference", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": r"^(NRM|DTN)-\d{4}-\d{6}$"},
             "description": "The case reference, e.g. NRM-2026-000123."}


def _operation(summary: str, roles: tuple[str, ...] | None, ok: tuple[str, str, dict[str, Any]],
               errors: tuple[str, ...], body: dict[str, Any] | None = None, path_ref: bool = False,
               description: str | None = None, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    status, ok_description, schema = ok
    operation: dict[str, Any] = {"summary": summary}
    text = description or ""
    if roles:
        text = (text + "\n\n" if text else "") + "Roles: " + ", ".join(f"`{role}`" for role in roles) + "."
        operation["security"] = [{"bearerAuth": []}]
    else:
        operation["security"] = []
    if text:
        operation["description"] = text
    params = list(parameters or [])
    if path_ref:
        params.insert(0, REFERENCE)
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True, **_json(body)}
    responses: dict[str, Any] = {status: {"description": ok_description, **_json(schema)}}
    for code in sorted({*errors, *ALWAYS}):
        responses[code] = ERRORS[code]
    operation["responses"] = responses
    return operation


AWAITING_INFORMATION = {"type": "boolean", "description": (
    "The referrer was asked a question: the decision clock is paused until the answer or its lapse, "
    "and the days it waits do not make the case overdue.")}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "string"}, "code": {"type": "string"},
                       "errors": {"type": "array", "items": {"type": "string"}}},
    },
    "Reasons": {
        "type": "object", "required": ["reasons"],
        "properties": {"reasons": {"type": "string", "minLength": 1, "maxLength": 20000,
                                   "description": "Written reasons; stored encrypted, never in the audit trail."}},
    },
    "DecisionRequest": {
        "type": "object", "required": ["stage", "outcome", "reasons"],
        "properties": {"stage": {"enum": list(DECISION_STAGES)}, "outcome": {"enum": list(DECISION_OUTCOMES)},
                       "reasons": {"type": "string", "minLength": 1}},
    },
    "ReviewRequest": {
        "type": "object", "required": ["outcome", "reasons"],
        "properties": {"outcome": {"enum": list(REVIEW_OUTCOMES)}, "reasons": {"type": "string", "minLength": 1}},
    },
    "ReconsiderationRequest": {
        "type": "object", "required": ["reasons"],
        "properties": {"reasons": {"type": "string", "minLength": 1},
                       "requested_by": {"enum": ["first_responder", "support_provider"],
                                        "default": "first_responder"}},
    },
    "CaseStatus": {
        "type": "object", "required": ["reference", "status"],
        "properties": {"reference": {"type": "string"}, "route": {"enum": list(ROUTES)},
                       "status": {"enum": list(CASE_STATUSES)}, "status_label": {"type": "string"},
                       "submitted_at": {"type": "string", "format": "date-time"}},
    },
    "Claim": {
        "type": "object", "required": ["reference", "status"],
        "properties": {"reference": {"type": "string"}, "status": {"enum": list(CASE_STATUSES)},
                       "stage": {"enum": [*DECISION_STAGES, None]},
                       "claimed_by": {"type": ["string", "null"]},
                       "claim_expires_at": {"type": ["string", "null"], "format": "date-time"}},
    },
    "QueueEntry": {
        "type": "object",
        "properties": {
            "reference": {"type": "string"}, "status": {"enum": list(CASE_STATUSES)},
            "status_label": {"type": "string"}, "stage": {"enum": list(DECISION_STAGES)},
            "priority": {"type": "boolean"}, "due_date": {"type": ["string", "null"], "format": "date"},
            "overdue": {"type": "boolean"}, "submitted_at": {"type": "string", "format": "date-time"},
            "age_route": {"enum": list(AGE_ROUTES)}, "fr_location": {"enum": list(FR_LOCATIONS)},
            "claimed": {"type": "boolean"}, "claimed_by_me": {"type": "boolean"},
            "claim_expires_at": {"type": ["string", "null"], "format": "date-time"},
            "returned": {"type": "boolean", "description": "The panel returned the last decision."},
            "returned_reasons": {"type": ["string", "null"], "description": "The panel's reasons for returning it."},
            "returned_to_decider": {"type": "boolean", "description": (
                "You made the decision the panel returned, so the case is not yours to take.")},
            "awaiting_information": AWAITING_INFORMATION,
        },
    },
    "Queue": {
        "type": "object", "required": ["cases", "count", "overdue", "limit", "next", "next_url"],
        "properties": {
            "cases": {"type": "array", "items": _ref("QueueEntry"), "description": "This page, in queue order."},
            "count": {"type": "integer", "description": "Cases in the whole queue with these filters."},
            "overdue": {"type": "integer", "description": "How many of those are overdue."},
            "limit": {"type": "integer"},
            "next": {"type": ["string", "null"], "description": "Pass as `after` for the next page; null on the last."},
            "next_url": {"type": ["string", "null"], "description": "The next page's URL, filters kept."},
        },
    },
    "CaseDetail": {
        "allOf": [_ref("CaseStatus"), {
            "type": "object",
            "properties": {
                "series": {"enum": ["NRM", "DTN"]}, "age_route": {"enum": list(AGE_ROUTES)},
                "fr_location": {"enum": list(FR_LOCATIONS)}, "organisation": {"type": "string"},
                "priority": {"type": "boolean"}, "rg_due_date": {"type": ["string", "null"], "format": "date"},
                "cg_not_before": {"type": ["string", "null"], "format": "date"},
                "cg_due_date": {"type": ["string", "null"], "format": "date"},
                "review_due_date": {"type": ["string", "null"], "format": "date"},
                "due_date": {"type": ["string", "null"], "format": "date",
                             "description": "The target date of what the case waits for now."},
                "overdue": {"type": "boolean"},
                "submitted_by": {"type": ["string", "null"], "description": "Who made the referral, as an id."},
                "suspended_from": {"type": ["string", "null"]},
                "suspended_on": {"type": ["string", "null"], "format": "date",
                                 "description": "The day the case's clocks were paused."},
                "awaiting_information": AWAITING_INFORMATION,
                "awaiting_information_since": {"type": ["string", "null"], "format": "date", "description": (
                    "While awaiting information: the day the referrer was asked (the clock paused then).")},
                "returned": {"oneOf": [{"type": "null"}, {
                    "type": "object", "description": "The panel returned the last decision.",
                    "properties": {"returned_at": {"type": "string", "format": "date-time"},
                                   "reasons": {"type": ["string", "null"]},
                                   "decided_by": {"type": ["string", "null"]}}}]},
                "claim": _ref("Claim"),
                "payload": {"type": "object", "description": (
                    "The referral as submitted (personal data), with what the person was told "
                    "(consent_question_version, consent_explanations); never the responder's own reference.")},
                "decisions": {"type": "array", "items": {"type": "object"}},
                "reviews": {"type": "array", "items": {"type": "object"}},
                "notes": {"type": "array", "items": {"type": "object"}},
            },
        }],
    },
    "ChatQuestion": {
        "type": "object", "required": ["id", "kind", "choices", "optional", "step", "of"],
        "description": "The question the conversation waits for; `choices` let a page show buttons. Besides "
                       "the form's questions: a pending YES/NO confirmation (`confirm-restart`, "
                       "`confirm-discard`, `did-you-mean`, kind `yes_no`) and the summary (`confirm`).",
        "properties": {
            "id": {"type": "string"},
            "kind": {"enum": list(QUESTION_KINDS)},
            "choices": {"type": "array", "items": {
                "type": "object", "required": ["value", "label"],
                "properties": {"value": {"type": "string"}, "label": {"type": "string"}}}},
            "optional": {"type": "boolean"},
            "step": {"type": "integer", "description": "The question's place in its part of the form."},
            "of": {"type": "integer", "description": "How many questions that part has, as the route stands."},
            "section": {"type": "string", "description": "The part of the form, translated."},
            "section_number": {"type": "integer"}, "sections": {"type": "integer"},
        },
    },
    "ChatReply": {
        "type": "object", "required": ["conversation", "messages", "question", "done", "reference"],
        "properties": {
            "conversation": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "string"}},
            "question": {"oneOf": [_ref("ChatQuestion"), {"type": "null"}]},
            "done": {"type": "boolean"},
            "reference": {"type": ["string", "null"]},
            "language": {"type": "string", "description": "The conversation's language code."},
            "refused": {"type": "boolean", "description": (
                "The text was refused as the answer (not valid, or disagreeing with another answer): "
                "the messages before the last (the question again) say why.")},
        },
    },
    "ChatMessage": {
        "type": "object", "required": ["text"],
        "properties": {"text": {"type": "string", "maxLength": 16000,
                                "description": "What the operator typed: an answer or a command."},
                       "client_message_id": {
                           "type": "string", "minLength": 1, "maxLength": 64,
                           "description": "Recommended: a new id per message, the same one when a send is "
                                          "retried after a lost response (it then gets the stored reply and "
                                          "is applied once)."},
                       "shown": {"type": "string", "maxLength": 16000,
                                 "description": "Optional: how the page showed the message (a choice's "
                                                "label rather than its number), for the draft's transcript."}},
    },
    "ChatConversations": {
        "type": "object", "required": ["conversations"],
        "properties": {"conversations": {"type": "array", "items": {
            "type": "object", "required": ["conversation", "status", "language", "updated_at"],
            "properties": {"conversation": {"type": "string"},
                           "status": {"enum": ["draft", "submitted", "cancelled"]},
                           "language": {"type": "string"},
                           "updated_at": {"type": "string", "format": "date-time"},
                           "reference": {"type": ["string", "null"]}}}}},
    },
    "Cell": {"oneOf": [{"type": "number"}, {"enum": [SMALL, HIDDEN]}, {"type": "null"}],
             "description": f'A count, a median or percentile (number); "{SMALL}": a count from 1 to 4; '
                            f'"{HIDDEN}": hidden so that a "{SMALL}" cannot be worked out (see backend.statistics); '
                            "null: not shown (too few decisions)."},
    "StatTable": {
        "type": "object", "required": ["id", "title", "series", "row_heading", "columns", "rows", "notes", "chart"],
        "properties": {
            "id": {"type": "string", "description": "Stable code, e.g. `nrm-referrals-by-age-group`."},
            "title": {"type": "string"},
            "series": {"enum": ["nrm", "dtn", "decisions", "reviews"]},
            "row_heading": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "string"}, "description": "Quarters, e.g. `2026 Q3`."},
            "rows": {"type": "array", "items": {
                "type": "object", "required": ["label", "cells", "total"],
                "properties": {"label": {"type": "string"}, "total": {"type": "boolean"},
                               "cells": {"type": "array", "items": _ref("Cell"),
                                         "description": "One per column."}}}},
            "notes": {"type": "array", "items": {"type": "string"},
                      "description": "What is counted, and what was suppressed and why."},
            "chart": {"type": ["string", "null"]},
        },
    },
    "Report": {
        "type": "object", "required": ["title", "period_code", "as_of", "tables", "notes"],
        "description": "The published tables for one period: counts only, suppressed, one column per quarter; "
                       "no reference, name, free text or date of any case.",
        "properties": {
            "title": {"type": "string"},
            "period_code": {"type": "string", "description": "`2026Q3`, `2026` or `12m-2026Q3`."},
            "as_of": {"type": "string", "format": "date"},
            "tables": {"type": "array", "items": _ref("StatTable")},
            "notes": {"type": "array", "items": {"type": "string"}},
        },
    },
}

CONVERSATION = {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"},
                "description": "The id `POST /api/chat/conversations` returned."}
CHAT_REPLY = _ref("ChatReply")
CHAT_PATHS: dict[str, Any] = {
    "/api/chat/conversations": {
        "post": _operation(
            "Open a web chat referral (helpline operators)", ("operator",),
            ("201", "The new draft and its first question.", CHAT_REPLY), ("400", "401", "403"),
            body={"type": "object", "properties": {"language": {"type": "string", "default": "en",
                                                                "description": "A dialogue language code."}}},
            description="Web chat is also open to the `/chat` page with the operator's session and its CSRF "
                        "token in `X-CSRFToken`."),
        "get": _operation(
            "The operator's own web chat conversations, latest first", ("operator",),
            ("200", "At most 50.", _ref("ChatConversations")), ("400", "401", "403"),
            parameters=[{"name": "status", "in": "query", "required": False,
                         "schema": {"enum": ["draft", "submitted", "cancelled"], "default": "draft"}}]),
    },
    "/api/chat/conversations/{conversation_id}": {"get": _operation(
        "Where one of the operator's conversations stands (its current question again)", ("operator",),
        ("200", "The current question, or `done` once it ended.", CHAT_REPLY), ("401", "403", "404"),
        parameters=[CONVERSATION])},
    "/api/chat/conversations/{conversation_id}/messages": {"post": _operation(
        "Send one message (an answer or a command) to the operator's draft", ("operator",),
        ("200", "The replies and the next question.", CHAT_REPLY), ("400", "401", "403", "404", "409"),
        body=_ref("ChatMessage"), parameters=[CONVERSATION])},
    "/api/chat/resume": {"post": _operation(
        "Take over a draft started by SMS with the one-time code its REVIEW showed", ("operator",),
        ("200", "The draft's current question.", CHAT_REPLY), ("400", "401", "403", "409", "429"),
        body={"type": "object", "required": ["code"],
              "properties": {"code": {"type": "string", "maxLength": 64, "examples": ["ABCD-2345"]}}})},
}


def _yes_no(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"enum": list(BOOLEAN_WORDS)},
            "description": description}


QUEUE_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE},
     "description": "Cases per page."},
    {"name": "after", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "The `next` cursor of the previous page (opaque)."},
    {"name": "stage", "in": "query", "required": False, "schema": {"enum": ["rg", "cg"]},
     "description": "Reasonable Grounds or Conclusive Grounds cases only."},
    _yes_no("priority", "Yes: priority cases (children, age unknown, urgent) only; no: the others."),
    _yes_no("overdue", "Yes: overdue cases only; no: the others."),
    _yes_no("claimed", "Yes: cases someone holds a claim on; no: unclaimed ones."),
    _yes_no("awaiting_information", "Yes: cases awaiting the referrer's answer to a question; no: the others."),
    {"name": "reference", "in": "query", "required": False,
     "schema": REFERENCE["schema"], "description": "Exactly this case, if it is in the queue."},
    {"name": "sort", "in": "query", "required": False, "schema": {"enum": list(SORTS), "default": DEFAULT_SORT},
     "description": "The order: `priority` (priority cases first, then due date, then waiting longest), `due` "
                    "(due date soonest first, then reference), `oldest` (waiting longest first), `newest` "
                    "(most recently added first). Another value, or an empty one, is refused with 400 "
                    "(`code`: `invalid_sort`); an `after` cursor of another order with 400 (`code`: "
                    "`cursor_of_another_sort`): start again from the first page."},
]
"""The query of both queues: a page (``limit``, ``after``), the caseworker's filters and the order."""

PATHS: dict[str, Any] = {
    "/api/v1/referrals": {"post": _operation(
        "Submit a complete referral payload", ("responder", "operator"),
        ("201", "The case was created.", {"type": "object", "properties": {"reference": {"type": "string"}}}),
        ("400", "401", "403"), body={"type": "object", "description": "The payload of flows.schema (JSON Schema)."},
        description=("400 with `errors` when the payload is invalid. The referring organisation is the "
                     "caller's own: left out, it is filled in; another `user-organisation`, or an account "
                     "without an organisation, is refused with 403 (`code`: `organisation_mismatch`, "
                     "`no_organisation`)."))},
    "/api/v1/queues/decision": {"get": _operation(
        "The decision queue", ("caseworker",), ("200", "Priority cases first, then by due date.", _ref("Queue")),
        ("400", "401", "403"), parameters=QUEUE_PARAMETERS)},
    "/api/v1/queues/decision/claim": {"post": _operation(
        "Claim the next case of the decision queue", ("caseworker",),
        ("200", "The claimed case, or `case: null` when none is waiting.",
         {"type": "object", "properties": {"case": {"oneOf": [_ref("Claim"), {"type": "null"}]},
                                           "message": {"type": "string"}}}),
        ("401", "403"))},
    "/api/v1/queues/review": {"get": _operation(
        "The review queue", ("panel",), ("200", "Negative decisions this panel member may review.", _ref("Queue")),
        ("400", "401", "403"), parameters=QUEUE_PARAMETERS)},
    "/api/v1/cases/{reference}": {"get": _operation(
        "A case", ("caseworker", "panel", "responder"),
        ("200", "Caseworkers: any case in full; panel: the cases they may review now or reviewed, in "
                "full; responders: the status of their own organisation's cases. Every read is audited.",
         {"oneOf": [_ref("CaseDetail"), _ref("CaseStatus")]}),
        ("401", "403", "404"), path_ref=True)},
    "/api/v1/cases/{reference}/claim": {"post": _operation(
        "Claim a case (or renew your claim)", ("caseworker",), ("200", "Claimed.", _ref("Claim")),
        ("401", "403", "404", "409"), path_ref=True)},
    "/api/v1/cases/{reference}/release": {"post": _operation(
        "Release your claim", ("caseworker",), ("200", "Released.", _ref("Claim")),
        ("401", "403", "404", "409"), path_ref=True)},
    "/api/v1/cases/{reference}/decisions": {"post": _operation(
        "Record an RG or CG decision", ("caseworker",),
        ("201", "Recorded; a negative decision is now in the review queue.", _ref("CaseStatus")),
        ("401", "403", "404", "409", "422"), body=_ref("DecisionRequest"), path_ref=True,
        description="Only the caseworker holding the claim; never one who reviewed the case. A CG decision "
                    "only after the recovery period.")},
    "/api/v1/cases/{reference}/reviews": {"post": _operation(
        "Uphold a negative decision or return it for reconsideration", ("panel",),
        ("201", "Recorded.", _ref("CaseStatus")), ("401", "403", "404", "409", "422"),
        body=_ref("ReviewRequest"), path_ref=True,
        description="Never by the decision maker, nor by a panel member of the referring organisation.")},
    "/api/v1/cases/{reference}/reconsideration": {"post": _operation(
        "Ask for reconsideration of an upheld negative decision", ("responder",),
        ("201", "The case is back in the decision queue.", _ref("CaseStatus")),
        ("401", "403", "404", "409", "422"), body=_ref("ReconsiderationRequest"), path_ref=True,
        description="Only the referring first responder organisation or the support provider.")},
    "/api/v1/cases/{reference}/withdrawal": {"post": _operation(
        "Withdraw a referral that is still open", ("responder",), ("200", "Withdrawn.", _ref("CaseStatus")),
        ("401", "403", "404", "409", "422"), body=_ref("Reasons"), path_ref=True,
        description="Only the referring organisation.")},
    "/api/v1/cases/{reference}/suspension": {"post": _operation(
        "Suspend decision-making (e.g. the person is missing)", ("caseworker",),
        ("200", "Suspended.", _ref("CaseStatus")), ("401", "403", "404", "409", "422"),
        body=_ref("Reasons"), path_ref=True)},
    "/api/v1/cases/{reference}/resumption": {"post": _operation(
        "Resume a suspended case where it was", ("caseworker",), ("200", "Resumed.", _ref("CaseStatus")),
        ("401", "403", "404", "409", "422"), body=_ref("Reasons"), path_ref=True)},
    "/api/v1/stats": {"get": _operation(
        "Published statistics for a quarter, year or rolling 12 months", ("analyst", "admin"),
        ("200", "Counts only, small numbers suppressed.", _ref("Report")), ("400", "401", "403"),
        description=f'The Home Office quarterly tables, NRM and DtN apart, one column per quarter. Counts from 1 '
                    f'to 4 are shown as "{SMALL}"; a column with one also hides its next smallest count as '
                    f'"{HIDDEN}", or is withheld; each quarter is suppressed on its own counts, so it reads the '
                    "same in every period (the rule is in backend.statistics). Counted in SQL on columns set "
                    "at intake. `from`/`to` dates are refused (400).",
        parameters=[{"name": "period", "in": "query", "required": False,
                     "schema": {"type": "string", "pattern": r"^(\d{4}([Qq][1-4])?|12[mM]-\d{4}[Qq][1-4])$"},
                     "description": "`2026Q3` (that quarter and the four before it), `2026` (its quarters) or "
                                    "`12m-2026Q3` (the four quarters to 2026 Q3); the latest ended quarter when "
                                    "left out. 400 if malformed or not yet ended."}])},
    **CHAT_PATHS,
    "/api/v1/openapi.json": {"get": _operation(
        "This document", None, ("200", "OpenAPI 3.1.", {"type": "object"}), ())},
}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh copy)."""
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "NRM Referral Assistant API",
            "version": VERSION,
            "description": "Referrals, the decision and review queues, and aggregate statistics. "
                           "Bearer tokens per user (`nrm user add` prints one). There is no immigration "
                           "role and no endpoint that serves case data to one.",
        },
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    })
