"""The casework JSON API under ``/api/v1`` (DESIGN §3): queues, claims, decisions, reviews,
reconsideration, withdrawal, suspension, case status and aggregate statistics.

Bearer tokens (``backend.auth.require_token``); every refusal is a JSON ``{"error", "code"}`` with
401 (no or bad token), 403 (role or independence), 404 (no such case, or not one this user may
see), 409 (the case's state does not allow it, or someone else holds the claim) or 422 (missing
reasons or a malformed body); 400 ``invalid_text`` / ``invalid_json`` for control characters or
lone surrogates anywhere in the body or URL, or JSON nested too deeply (``backend.request_guards``,
before the view runs). Each request is one transaction: committed when the action
succeeds, rolled back when it is refused, so a refusal changes nothing.

No endpoint serves the immigration system: there is no such role (DESIGN §4). Analysts and admins
get aggregates only; responders see only the status of their own organisation's cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from sqlalchemy import select

from backend import access_audit, db, lifecycle, queues, statistics
from backend.casework import review_claims
from backend.auth import bearer_secret, require_token
from backend.db import utcnow
from backend.forms import REASONS_TOO_SHORT, reasons_min_chars
from backend.i18n import gettext
from backend.lifecycle import (CaseNotFound, CaseworkError, InvalidRequest, ReasonsRequired,
                               same_organisation, status_label)
from backend.calendar import uk_date
from backend.crypto import json_bytes
from backend.models import Case, User

api_casework = Blueprint("api_casework", __name__, url_prefix="/api/v1")

STAFF_VIEW_ROLES = ("caseworker", "panel")
CASE_VIEW_ROLES = ("caseworker", "panel", "responder")
STATS_ROLES = ("analyst", "admin")


class ReasonsTooShort(ReasonsRequired):
    """Reasons of a decision or review shorter than ``DECISION_REASONS_MIN_CHARS`` (422)."""

    code = "reasons_too_short"


@api_casework.errorhandler(CaseworkError)
def _refused(error: CaseworkError) -> Any:
    db.session().rollback()
    return jsonify({"error": error.message, "code": error.code}), error.status


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _body() -> dict[str, Any]:
    if not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return data


def _reasons(data: dict[str, Any]) -> str:
    reasons = data.get("reasons")
    if reasons is None or (isinstance(reasons, str) and not reasons.strip()):
        raise ReasonsRequired('written reasons are required: give "reasons" (non-empty text)')
    if not isinstance(reasons, str):
        raise InvalidRequest('"reasons" must be text')
    return reasons


def _decision_reasons(data: dict[str, Any]) -> str:
    """Reasons of a decision or review: as :func:`_reasons`, and at least
    ``DECISION_REASONS_MIN_CHARS`` characters (spaces at either end not counted), as on the pages."""
    reasons = _reasons(data)
    shortest = reasons_min_chars()
    if len(reasons.strip()) < shortest:
        raise ReasonsTooShort(gettext(REASONS_TOO_SHORT, min=shortest))
    return reasons


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in allowed:
        raise InvalidRequest(f'"{key}" must be one of {", ".join(allowed)}')
    return value


def _user() -> User:
    return g.user


def _case_or_404(reference: str) -> Case:
    case = db.session().scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise CaseNotFound(f"no case {reference}")
    return case


def visible_to(case: Case, user: User) -> bool:
    """Who may see a case: caseworkers any; panel members only those they may review or reviewed
    (``queues.panel_may_read``); responders their own organisation's."""
    if user.role == "caseworker":
        return True
    if user.role == "panel":
        return queues.panel_may_read(db.session(), case, user)
    if user.role == "responder":
        return same_organisation(user.organisation, case.organisation)
    return False


def _visible_case(reference: str) -> Case:
    case = _case_or_404(reference)
    if not visible_to(case, _user()):
        raise CaseNotFound(f"no case {reference}")  # do not reveal that it exists
    return case


def _status(case: Case) -> dict[str, Any]:
    return {"reference": case.reference, "route": case.route, "status": case.status,
            "status_label": status_label(case.status), "submitted_at": _iso(case.submitted_at)}


def _claim(case: Case | queues.Claimed, now: datetime | None = None) -> dict[str, Any]:
    active = lifecycle.claim_active(case, now or utcnow())
    return {"reference": case.reference, "status": case.status, "stage": lifecycle.STAGE_OF.get(case.status),
            "claimed_by": f"user:{case.claimed_by_id}" if active else None,
            "claim_expires_at": _iso(case.claim_expires_at) if active else None}


def case_detail(case: Case, now: datetime | None = None) -> dict[str, Any]:
    """Everything staff (caseworker, panel) see of a case, reasons decrypted."""
    now = now or utcnow()
    return {
        **_status(case),
        "series": case.series, "age_route": case.age_route, "fr_location": case.fr_location,
        "organisation": case.organisation, "priority": bool(case.priority),
        "submitted_by": case.submitted_by,
        "rg_due_date": _iso(case.rg_due_date), "cg_not_before": _iso(case.cg_not_before),
        "cg_due_date": _iso(case.cg_due_date), "review_due_date": _iso(case.review_due_date),
        "due_date": _iso(queues.due_date(case)),
        "overdue": queues.is_overdue(case, now), "suspended_from": case.suspended_from,
        "suspended_on": _iso(case.suspended_on),
        "awaiting_information": queues.awaiting_information(case),
        "awaiting_information_since": _iso(case.awaiting_information_since) if queues.awaiting_information(case) else None,
        "returned": returned(case),
        "claim": _claim(case, now),
        "payload": case.shown_payload,
        "decisions": [{"id": d.id, "stage": d.stage, "outcome": d.outcome, "decided_by": f"user:{d.decided_by_id}",
                       "decided_at": _iso(d.decided_at), "reasons": d.reasons} for d in case.decisions],
        "reviews": [{"id": r.id, "decision": r.decision_id, "outcome": r.outcome, "reviewer": f"user:{r.reviewer_id}",
                     "reviewed_at": _iso(r.reviewed_at), "reasons": r.reasons} for r in case.reviews],
        "notes": [{"id": n.id, "kind": n.kind, "requested_by": n.requested_by,
                   "author": f"user:{n.author_id}" if n.author_id else "system", "at": _iso(n.at),
                   "reasons": n.reasons} for n in case.notes],
    }


def _listed(queue: str, count: int) -> None:
    """Audit that this user was shown a queue (committed: a read changes nothing else)."""
    access_audit.queue_read(db.session(), _user(), queue, count, "api")
    db.session().commit()
def returned(case: Case) -> dict[str, Any] | None:
    """A case the panel returned, waiting to be decided again: when, and the panel's reasons."""
    if case.returned_at is None:
        return None
    return {"returned_at": _iso(case.returned_at), "reasons": queues.returned_reasons(case),
            "decided_by": f"user:{case.returned_decider_id}" if case.returned_decider_id else None}


def _done(case: Case, status: int = 200, **extra: Any) -> Any:
    db.session().commit()
    return jsonify({**_status(case), **extra}), status


# --- queues and claims --------------------------------------------------------------------------

def _queue_page(queue: str, read: Any) -> Any:
    """One page of a queue as JSON: ``cases``, ``count`` and ``overdue`` of the whole (filtered)
    queue, and ``next`` (the cursor of the following page, also as ``next_url``) or null."""
    filters, after, limit = queues.query_from(request.args)
    page = read(db.session(), user=_user(), filters=filters, after=after, limit=limit)
    _listed(queue, len(page.entries))
    next_url = None
    if page.next_cursor is not None:
        next_url = url_for(request.endpoint, **{**request.args.to_dict(), "after": page.next_cursor})
    return jsonify({"cases": [entry.as_json() for entry in page.entries], "count": page.count,
                    "overdue": page.overdue, "limit": limit, "next": page.next_cursor, "next_url": next_url})


@api_casework.get("/queues/decision")
@require_token("caseworker")
def get_decision_queue() -> Any:
    """The decision queue, a page at a time: priority first, then due date; filters ``stage``,
    ``priority``, ``overdue``, ``claimed``, ``reference``; ``limit`` and ``after`` page it."""
    return _queue_page("decision", queues.decision_page)


@api_casework.post("/queues/decision/claim")
def post_claim_next() -> Any:
    """Claim the next case of the decision queue (``{"case": null}`` when none is waiting).

    The caseworker's token is checked in the statement that picks the case
    (``queues.claim_next_by_token``, on a connection of its own: no session); when that finds
    nothing, :func:`_claim_next_checked` answers as every other endpoint does (401, 403, a lapsed
    claim, or no case)."""
    secret = bearer_secret()
    case = _claim_next_by_token(secret) if secret else None
    return _json({"case": _claim(case)}) if case is not None else _claim_next_checked()


def _json(body: dict[str, Any]) -> Any:
    """``body`` as a JSON response written by orjson (``backend.crypto.json_bytes``), as the web
    chat answers: Flask's ``jsonify`` (keys sorted, the standard library's encoder, the app's JSON
    provider looked up) cost about 70 us of the claim's CPU against 25 (measured, issue 14)."""
    return current_app.response_class(json_bytes(body), mimetype="application/json")


def _claim_next_by_token(secret: str) -> queues.Claimed | None:
    """The claim, committed; None (nothing written) when the first statement found nothing."""
    with db.get_db().engine.connect() as connection:
        case = queues.claim_next_by_token(connection, secret)
        if case is not None:
            connection.commit()
    return case


@require_token("caseworker")
def _claim_next_checked() -> Any:
    return _claimed_next(queues.claim_next(db.session(), _user()))


def _claimed_next(case: queues.Claimed | None) -> Any:
    if case is None:
        db.session().rollback()
        return jsonify({"case": None, "message": "no unclaimed case is waiting for a decision"})
    result = _claim(case)
    db.session().commit()
    return jsonify({"case": result})


@api_casework.get("/queues/review")
@require_token("panel")
def get_review_queue() -> Any:
    """Negative decisions waiting for review that this panel member may review, a page at a time."""
    return _queue_page("review", queues.review_page)


@api_casework.post("/cases/<reference>/claim")
@require_token("caseworker")
def post_claim(reference: str) -> Any:
    case = queues.claim(db.session(), reference, _user())
    result = _claim(case)
    db.session().commit()
    return jsonify(result)


@api_casework.post("/cases/<reference>/release")
@require_token("caseworker")
def post_release(reference: str) -> Any:
    case = queues.release(db.session(), reference, _user())
    result = _claim(case)
    db.session().commit()
    return jsonify(result)


# --- lifecycle actions --------------------------------------------------------------------------

@api_casework.post("/cases/<reference>/decisions")
@require_token("caseworker")
def post_decision(reference: str) -> Any:
    """``{"stage": "rg"|"cg", "outcome": "positive"|"negative", "reasons": str}``; the claimer only."""
    data = _body()
    stage = _choice(data, "stage", ("rg", "cg"))
    outcome = _choice(data, "outcome", ("positive", "negative"))
    reasons = _decision_reasons(data)
    case = lifecycle.decide(db.session(), reference, _user(), stage, outcome, reasons)
    decision = case.decisions[-1]
    return _done(case, 201, decision={"id": decision.id, "stage": decision.stage, "outcome": decision.outcome,
                                      "decided_at": _iso(decision.decided_at)},
                 cg_not_before=_iso(case.cg_not_before))


@api_casework.post("/cases/<reference>/reviews")
@require_token("panel")
def post_review(reference: str) -> Any:
    """``{"outcome": "upheld"|"returned", "reasons": str}`` by an independent panel member."""
    data = _body()
    outcome = _choice(data, "outcome", ("upheld", "returned"))
    reasons = _decision_reasons(data)
    case = review_claims.review(db.session(), reference, _user(), outcome, reasons)
    row = case.reviews[-1]
    return _done(case, 201, review={"id": row.id, "outcome": row.outcome, "decision": row.decision_id,
                                    "reviewed_at": _iso(row.reviewed_at)})


@api_casework.post("/cases/<reference>/reconsideration")
@require_token("responder")
def post_reconsideration(reference: str) -> Any:
    """``{"reasons": str, "requested_by": "first_responder"|"support_provider"}`` from the
    referring organisation (or the support provider, a responder of that organisation)."""
    data = _body()
    reasons = _reasons(data)
    requested_by = data.get("requested_by", "first_responder")
    _choice({"requested_by": requested_by}, "requested_by", ("first_responder", "support_provider"))
    _visible_case(reference)
    case = lifecycle.request_reconsideration(db.session(), reference, _user(), reasons, requested_by)
    return _done(case, 201)


@api_casework.post("/cases/<reference>/withdrawal")
@require_token("responder")
def post_withdrawal(reference: str) -> Any:
    """``{"reasons": str}``: the referring organisation withdraws a referral still open."""
    reasons = _reasons(_body())
    _visible_case(reference)
    return _done(lifecycle.withdraw(db.session(), reference, _user(), reasons))


@api_casework.post("/cases/<reference>/suspension")
@require_token("caseworker")
def post_suspension(reference: str) -> Any:
    """``{"reasons": str}``: a caseworker suspends decision-making (e.g. the person is missing)."""
    reasons = _reasons(_body())
    return _done(lifecycle.suspend(db.session(), reference, _user(), reasons))


@api_casework.post("/cases/<reference>/resumption")
@require_token("caseworker")
def post_resumption(reference: str) -> Any:
    """``{"reasons": str}``: a caseworker resumes a suspended case where it was."""
    reasons = _reasons(_body())
    return _done(lifecycle.resume(db.session(), reference, _user(), reasons))


# --- reading ------------------------------------------------------------------------------------

@api_casework.get("/cases/<reference>")
@require_token(*CASE_VIEW_ROLES)
def get_case(reference: str) -> Any:
    """Caseworkers: any case in full; panel: cases they may review or reviewed, in full;
    responders: the status of their own organisation's cases. Every read is audited."""
    case = _visible_case(reference)
    body = case_detail(case) if _user().role in STAFF_VIEW_ROLES else _status(case)
    access_audit.case_read(db.session(), _user(), case.reference, "api")
    db.session().commit()
    return jsonify(body)


@api_casework.get("/stats")
@require_token(*STATS_ROLES)
def get_stats() -> Any:
    """The published statistics (``backend.statistics``) for ``period``: a quarter (``2026Q3``), a
    year (``2026``) or a rolling 12 months (``12m-2026Q3``), the latest ended quarter by default;
    else 400. Free ``from``/``to`` dates are refused: comparing two of them singled people out."""
    if "from" in request.args or "to" in request.args:
        return jsonify({"error": "from/to dates are no longer accepted: ask for period=2026Q3 (a quarter), "
                                 "period=2026 (a year) or period=12m-2026Q3 (a rolling 12 months)",
                        "code": "invalid_period"}), 400
    today = uk_date(utcnow())
    try:
        period = statistics.parse(request.args.get("period"), today)
    except statistics.InvalidPeriod as error:
        return jsonify({"error": str(error), "code": "invalid_period"}), 400
    return jsonify(statistics.as_json(statistics.build(db.session(), period, today)))


@api_casework.get("/openapi.json")
def get_openapi() -> Any:
    """The OpenAPI 3.1 description of this API (public: it holds no data)."""
    from backend.openapi import document

    return jsonify(document())
