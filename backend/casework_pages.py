"""The casework web pages under ``/casework/`` (DESIGN §3): queues, case pages, decisions, reviews
and aggregate statistics, in the GOV.UK Design System (``templates/casework``).

Who sees what (the same rules as the JSON API, ``backend.api``):

- ``/casework/``: the decision queue, for caseworkers. Panel members, analysts and admins are sent
  to their own start page (``backend.web_auth.home_for``); anyone else gets 403.
- ``/casework/review``: the review queue of a panel member (negative decisions they may review).
- ``/casework/cases/<ref>``: the case page, for caseworkers (any case) and panel members (only
  cases they may review now or reviewed: ``queues.panel_may_read``); another case is a 404 to the
  panel, so its existence is not revealed. Every showing of a case or a queue is audited
  (``backend.access_audit``: who, which case, when; never the data).
- ``/casework/stats``: aggregate counts, small numbers suppressed, for analysts and admins only.
- Operators and responders get 403 everywhere here; anonymous visitors are sent to sign in.

Every change goes through ``backend.queues`` (claims) and ``backend.lifecycle`` (decisions and
reviews), one transaction per request: committed on success and followed by a redirect (with a
success banner), rolled back on refusal and answered with the page again, its GOV.UK error summary
saying why (the lifecycle's own message) and the refusal's HTTP status. Every form carries a CSRF
token; ``CSRFProtect`` refuses a POST without one (400) before any view runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Callable, Iterable

from flask import (Blueprint, Response, abort, flash, get_flashed_messages, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required
from sqlalchemy import select

from backend import access_audit, api, db, lifecycle, queues
from backend.casework.queue_sort import SORTS, CursorOfAnotherSort, InvalidSort
from backend import statistics as aggregate
from backend.statistics import downloads as stat_downloads
from backend.statistics.charts import charts as stat_charts
from backend.calendar import UK_TIME, uk_date
from backend.casework import formatting, review_claims
from backend.casework.case_header import case_tags
from backend.casework.labels import LTR_FIELDS, field_label, section_label
from backend.forms import (OUTCOME_LABELS, REVIEW_LABELS, DecisionForm, ReviewForm, error_list, field_errors,
                           reasons_min_chars)
from backend.i18n import N_
from backend.i18n import gettext as _
from backend.lifecycle import MAX_REASONS, CaseworkError, status_label
from backend.models import AuditEvent, Case, User
from backend.web_auth import home_for, require_role

bp = Blueprint("casework", __name__, url_prefix="/casework", template_folder="templates")

CASEWORKER = "caseworker"
PANEL = "panel"
CASE_ROLES = api.STAFF_VIEW_ROLES
STATS_ROLES = api.STATS_ROLES

STAGE_NAMES = {"rg": N_("Reasonable Grounds"), "cg": N_("Conclusive Grounds")}
AGE_ROUTE_NAMES = {"adult": N_("Adult"), "child": N_("Child"),
                   "unknown": N_("Age not known (treated as a child)")}
ROUTE_NAMES = {"nrm": N_("NRM referral"), "dtn": N_("Duty to Notify report")}
LOCATION_NAMES = {"england": N_("England"), "wales": N_("Wales"), "scotland": N_("Scotland"),
                  "northern-ireland": N_("Northern Ireland")}
REQUESTED_BY_NAMES = {"first_responder": N_("the first responder organisation"),
                      "support_provider": N_("the support provider")}
NOTE_NAMES = {"reconsideration": N_("Reconsideration requested"), "withdrawal": N_("Withdrawn"),
              "suspension": N_("Suspended"), "resumption": N_("Resumed")}
AUDIT_ACTIONS = {
    "referral.submitted": N_("Referral submitted"),
    "dtn.recorded": N_("Duty to Notify report recorded"),
    "case.claimed": N_("Claimed"),
    "case.released": N_("Claim released"),
    "case.claim_expired": N_("Claim expired"),
    "case.decide_rg_positive": N_("Positive RG decision"),
    "case.decide_rg_negative": N_("Negative RG decision"),
    "case.end_recovery": N_("Recovery period ended"),
    "case.decide_cg_positive": N_("Positive CG decision"),
    "case.decide_cg_negative": N_("Negative CG decision"),
    "case.uphold": N_("Negative decision upheld"),
    "case.return_for_reconsideration": N_("Returned for reconsideration"),
    "case.reconsider": N_("Reconsideration requested"),
    "case.withdraw": N_("Withdrawn"),
    "case.suspend": N_("Suspended"),
    "case.resume": N_("Resumed"),
    "case.review_claimed": N_("Review claimed"),
    "case.review_released": N_("Review released"),
}
STATUS_LABELS = (N_("Awaiting RG decision"), N_("Recovery period"), N_("Awaiting CG decision"),
                 N_("CG positive (final)"), N_("RG negative, awaiting panel review"),
                 N_("CG negative, awaiting panel review"), N_("RG negative upheld"), N_("CG negative upheld"),
                 N_("Suspended"), N_("Withdrawn (final)"), N_("Duty to Notify report recorded"))
"""``lifecycle.status_label`` of every status, marked for extraction: the pages show them translated
(:func:`shown_status`); the JSON API keeps the English."""
OTHER_SECTION = N_("Other answers")
PERIOD_FORMAT_ERROR = N_("Enter a whole quarter such as 2026Q3, a year such as 2026, or the 12 months to the end "
                         "of a quarter such as 12m-2026Q3")
PERIOD_NOT_ENDED_ERROR = N_("{quarter} has not ended yet: choose a quarter up to {latest}")


# --- formatting (template filters) --------------------------------------------------------------

@bp.app_template_filter("govuk_date")
def govuk_date(value: date | str | None) -> str:
    """``5 March 2026`` (GOV.UK style), in the page language; an empty string for None."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return formatting.day(value)


@bp.app_template_filter("govuk_datetime")
def govuk_datetime(value: datetime | str | None) -> str:
    """``5 March 2026 at 2:05pm``, UK time, in the page language."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return formatting.moment(value)


@bp.app_template_filter("govuk_time")
def govuk_time(value: datetime | None) -> str:
    """``2:05pm``, UK time, in the page language."""
    if value is None:
        return ""
    return formatting.time(value)


bp.add_app_template_filter(formatting.number, "number")


def shown_status(status: str) -> str:
    """A case status in the page language (``lifecycle.status_label``, translated)."""
    return _(status_label(status))


def priority_reason(age_route: str) -> str:
    """Why a priority case goes first: children (and unknown age), else an urgent safety case."""
    return _("Child") if age_route in ("child", "unknown") else _("Urgent")


@bp.app_context_processor
def _casework_globals() -> dict[str, Any]:
    return {"stage_names": {stage: _(name) for stage, name in STAGE_NAMES.items()},
            "queue_sorts": _queue_sorts,
            "priority_reason": priority_reason, "status_label": shown_status}


def _queue_sorts() -> dict[str, str]:
    """The orders of a queue page's "Sort by", labelled in the page language."""
    return {name: _(sort.label) for name, sort in SORTS.items()}


# --- who may see what ---------------------------------------------------------------------------

def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _case_or_404(reference: str) -> Case:
    """The case ``reference`` if this caseworker or panel member may see it (else 404/403)."""
    require_role(*CASE_ROLES)
    case = db.session().scalar(select(Case).where(Case.reference == reference))
    if case is None or not api.visible_to(case, _user()):
        abort(404)
    return case


def _emails(session: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(wanted))).all())


def _actor_id(actor: str | None) -> int | None:
    if actor and actor.startswith("user:") and actor[5:].isdigit():
        return int(actor[5:])
    return None


def _banners() -> list[dict[str, str]]:
    return [{"type": category, "text": text}
            for category, text in get_flashed_messages(with_categories=True)]


# --- queues -------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def decision_queue() -> Any:
    """The decision queue (caseworkers); other staff are sent to their own start page."""
    user = _user()
    if user.role != CASEWORKER:
        home = home_for(user)
        if home.startswith(("/casework/", "/admin/")) and home.rstrip("/") != "/casework":
            return redirect(home)
        abort(403)
    return _render_decision_queue()


def _queue_page(queue: str, read: Any) -> tuple[queues.QueuePage, dict[str, Any], list[dict[str, str]]]:
    """One page of a queue for the request's filters and cursor (a query the page cannot read
    shows the first page unfiltered, and says so); audited as shown."""
    session, user = db.session(), _user()
    errors: list[dict[str, str]] = []
    try:
        filters, after, limit = queues.query_from(request.args)
        page = read(session, user=user, filters=filters, after=after, limit=limit)
    except queues.InvalidQuery as error:
        if isinstance(error, (InvalidSort, CursorOfAnotherSort)):  # said in the page language
            errors.append({"text": error.message, "href": "#filter-sort"})
        errors.append({"text": _("The filters or the page could not be read, so the first page of the "
                                 "whole queue is shown."), "href": "#queue-filters"})
        filters = queues.QueueFilters()
        page = read(session, user=user)
    access_audit.queue_read(session, user, queue, len(page.entries), "page")
    session.commit()
    shown = {key: value for key, value in request.args.items() if key not in ("after", "limit") and value}
    return page, ({} if errors else shown), errors


def _holders(page: queues.QueuePage) -> dict[str, str]:
    """Who holds each claimed case of the page (a decision, or a review): reference -> email."""
    claimed = [e.reference for e in page.entries if e.claimed]
    return dict(db.session().execute(
        select(Case.reference, User.email).join(User, User.id == Case.claimed_by_id)
        .where(Case.reference.in_(claimed))).all()) if claimed else {}


def _render_decision_queue(errors: list[dict[str, str]] | None = None, status: int = 200) -> Any:
    page, shown, query_errors = _queue_page("decision", queues.decision_page)
    holders = _holders(page)
    errors = (errors or []) + query_errors
    return render_template("casework/decision_queue.html", page=page, entries=page.entries, holders=holders,
                           filters=shown, next_url=_next_url(page), errors=errors, banners=_banners()), \
        status if not query_errors else 400


def _next_url(page: queues.QueuePage) -> str | None:
    """The link to the following page: the same filters, after this page's last case."""
    if page.next_cursor is None:
        return None
    return url_for(request.endpoint, **{**request.args.to_dict(), "after": page.next_cursor})


@bp.post("/claim-next")
@login_required
def claim_next() -> Any:
    """Claim the first unclaimed case of the queue, atomically, and open it."""
    require_role(CASEWORKER)
    session = db.session()
    try:
        case = queues.claim_next(session, _user())
    except CaseworkError as error:
        session.rollback()
        return _render_decision_queue([{"text": error.message, "href": "#claim-next"}], error.status)
    if case is None:
        session.rollback()
        flash(_("There is no unclaimed case waiting for a decision."), "info")
        return redirect(url_for("casework.decision_queue"))
    reference, expires = case.reference, case.claim_expires_at
    session.commit()
    return _claimed(reference, expires)


def _claimed(reference: str, expires: Any) -> Any:
    """After a committed claim: say until when it holds and open the case."""
    flash(_("You have claimed case {reference} until {time}.", reference=reference, time=govuk_time(expires)),
          "success")
    return redirect(url_for("casework.case_page", reference=reference))


@bp.get("/review")
@login_required
def review_queue() -> Any:
    """Negative decisions waiting for review that this panel member may review."""
    require_role(PANEL)
    page, shown, errors = _queue_page("review", queues.review_page)
    return render_template("casework/review_queue.html", page=page, entries=page.entries, filters=shown,
                           holders=_holders(page), next_url=_next_url(page), errors=errors,
                           banners=_banners()), 400 if errors else 200


# --- the case page ------------------------------------------------------------------------------

@dataclass
class TimelineEntry:
    at: datetime | None
    title: str
    by: str
    reasons: str | None
    tag: tuple[str, str] | None = None
    """(text, colour class) of a GOV.UK tag, for outcomes."""


@dataclass
class AnswerSection:
    title: str
    rows: list[tuple[str, str, bool]] = field(default_factory=list)
    """(label, answer, whether the answer reads left to right in any language)."""


@lru_cache(maxsize=1)
def _answer_properties() -> dict[str, Any]:
    """The answers' JSON Schema properties as flows publishes them (titles, sections, choice
    labels): the backend reads the public schema, never the question catalogue itself."""
    from flows.schema import payload_schema  # imported late, as in backend.intake

    return payload_schema()["properties"]["answers"]["properties"]


def humanise(field_id: str) -> str:
    """``pv-name-first-name`` -> ``Pv name first name`` (for answers the schema does not describe)."""
    words = field_id.replace("_", "-").split("-")
    return " ".join(words).strip().capitalize()


def _partial_date(text: str) -> str:
    parts = text.split("-")
    try:
        if len(parts) == 3:
            return govuk_date(date.fromisoformat(text))
        if len(parts) == 2:
            return formatting.month(date(int(parts[0]), int(parts[1]), 1))
    except ValueError:
        return text
    return text


def format_answer(value: Any, schema: dict[str, Any] | None = None) -> str:
    """An answer as text: choice labels, readable dates, lists joined, yes/no for booleans."""
    labels = (schema or {}).get("x-choices") or {}
    if isinstance(value, list):
        return ", ".join(format_answer(item, schema) for item in value)
    if isinstance(value, dict) and "date" in value:
        shown = _partial_date(str(value["date"]))
        return _("{date} (approximate)", date=shown) if value.get("approximate") else shown
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str) and value in labels:
        return _(str(labels[value]))
    if isinstance(value, dict):
        return ", ".join(f"{humanise(str(k))}: {format_answer(v)}" for k, v in value.items())
    return str(value)


def answer_sections(payload: dict[str, Any] | None) -> list[AnswerSection]:
    """The payload's answers, labelled for the decision maker (``backend.casework.labels``) in the
    page language and grouped by the sections of the published schema (in route order); answers the
    schema does not know go last, under their humanised ids."""
    answers = (payload or {}).get("answers") or {}
    properties = _answer_properties()
    sections: dict[str, AnswerSection] = {}
    for field_id, schema in properties.items():  # schema order is route order
        if field_id in answers:
            title = _(section_label(str(schema.get("x-section") or OTHER_SECTION)))
            label = _(field_label(field_id, str(schema.get("title") or humanise(field_id))))
            sections.setdefault(title, AnswerSection(title)).rows.append(
                (label, format_answer(answers[field_id], schema), field_id in LTR_FIELDS))
    for field_id, value in answers.items():
        if field_id not in properties:
            sections.setdefault(_(OTHER_SECTION), AnswerSection(_(OTHER_SECTION))).rows.append(
                (humanise(field_id), format_answer(value), False))
    return list(sections.values())


def _timeline(case: Case, emails: dict[int, str]) -> list[TimelineEntry]:
    def who(user_id: int | None) -> str:
        return emails.get(user_id, _("user {id}", id=user_id)) if user_id is not None else _("System")

    entries = []
    stage_of = {d.id: d.stage for d in case.decisions}
    for d in case.decisions:
        colour = "govuk-tag--green" if d.outcome == "positive" else "govuk-tag--red"
        title = _("Reasonable Grounds decision") if d.stage == "rg" else _("Conclusive Grounds decision")
        tag = _("Positive") if d.outcome == "positive" else _("Negative")
        entries.append(TimelineEntry(d.decided_at, title, who(d.decided_by_id), d.reasons, (tag, colour)))
    for r in case.reviews:
        stage = stage_of.get(r.decision_id, "")
        colour = "govuk-tag--red" if r.outcome == "upheld" else "govuk-tag--yellow"
        text = _("Upheld") if r.outcome == "upheld" else _("Returned for reconsideration")
        entries.append(TimelineEntry(r.reviewed_at, _("Panel review of the negative {stage} decision",
                                                      stage=stage.upper()),
                                     who(r.reviewer_id), r.reasons, (text, colour)))
    for n in case.notes:
        title = _(NOTE_NAMES[n.kind]) if n.kind in NOTE_NAMES else n.kind.capitalize()
        if n.requested_by:
            on_behalf = (_(REQUESTED_BY_NAMES[n.requested_by]) if n.requested_by in REQUESTED_BY_NAMES
                         else n.requested_by)
            title = _("{note} on behalf of {requester}", note=title, requester=on_behalf)
        entries.append(TimelineEntry(n.at, title, who(n.author_id), n.reasons))
    return sorted(entries, key=lambda e: e.at or datetime.min.replace(tzinfo=UK_TIME))


def _audit_rows(events: list[AuditEvent], emails: dict[int, str]) -> list[dict[str, str]]:
    rows = []
    for event in events:
        user_id = _actor_id(event.actor)
        if user_id is not None:
            actor = emails.get(user_id, event.actor)
        elif event.actor == lifecycle.SYSTEM:
            actor = _("System")
        else:
            actor = event.actor
        detail = event.detail or {}
        change = ""
        if "from" in detail and "to" in detail:
            change = _("{before} to {after}", before=shown_status(detail["from"]), after=shown_status(detail["to"]))
        elif event.action == "case.claimed" and detail.get("expires_at"):
            change = _("until {time}", time=govuk_time(datetime.fromisoformat(detail["expires_at"])))
        rows.append({"at": govuk_datetime(event.at), "actor": actor,
                     "action": (_(AUDIT_ACTIONS[event.action]) if event.action in AUDIT_ACTIONS
                                else humanise(event.action.replace(".", "-"))),
                     "change": change})
    return rows


def _render_case(case: Case, *, decision_form: DecisionForm | None = None, review_form: ReviewForm | None = None,
                 errors: list[dict[str, str]] | None = None, status: int = 200) -> Any:
    session = db.session()
    user = _user()
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_reference == case.reference,
                                                           AuditEvent.action != access_audit.CASE_READ)
                                  .order_by(AuditEvent.id)))
    emails = _emails(session, [case.claimed_by_id, *(d.decided_by_id for d in case.decisions),
                               *(r.reviewer_id for r in case.reviews), *(n.author_id for n in case.notes),
                               *(_actor_id(e.actor) for e in events)])
    claim_active = lifecycle.claim_active(case, db.utcnow())
    stage = lifecycle.STAGE_OF.get(case.status, "")
    awaiting_decision = case.route == "nrm" and case.status in lifecycle.DECISION_STATUSES
    decision_allowed_from = case.cg_not_before if case.status == lifecycle.AWAITING_CG else None
    if decision_form is None:
        decision_form = DecisionForm(formdata=None, stage=stage)
    if review_form is None:
        review_form = ReviewForm(formdata=None)
    errors = errors or []
    overdue = queues.is_overdue(case)
    awaiting_information = queues.awaiting_information(case)
    returned = api.returned(case) if awaiting_decision else None
    in_review = case.status in lifecycle.REVIEW_STATUSES
    page = render_template(
        "casework/case.html", case=case, errors=errors, banners=_banners(),
        stage=stage, awaiting_decision=awaiting_decision, decision_allowed_from=decision_allowed_from,
        in_review=in_review, tags=case_tags(case, overdue=overdue, returned=bool(returned),
                                                       awaiting_information=awaiting_information),
        exploitation=_exploitation_types(case.shown_payload), due=queues.due_date(case),
        reasons_min=reasons_min_chars(), max_reasons=MAX_REASONS,
        is_caseworker=user.role == CASEWORKER, is_panel=user.role == PANEL,
        claim_active=claim_active, claimed_by_me=claim_active and case.claimed_by_id == user.id,
        claim_holder=emails.get(case.claimed_by_id) if claim_active and case.claimed_by_id else None,
        decision_form=decision_form, review_form=review_form,
        decision_errors=field_errors(decision_form), review_errors=field_errors(review_form),
        outcome_labels={k: _(v) for k, v in OUTCOME_LABELS.get(stage, OUTCOME_LABELS["rg"]).items()},
        review_labels={k: _(v) for k, v in REVIEW_LABELS.items()},
        timeline=_timeline(case, emails), sections=answer_sections(case.shown_payload),
        audit_rows=_audit_rows(events, emails),
        back=url_for("casework.review_queue" if user.role == PANEL else "casework.decision_queue"),
        age_route_name=_name(AGE_ROUTE_NAMES, case.age_route),
        route_name=_name(ROUTE_NAMES, case.route),
        location_name=_name(LOCATION_NAMES, case.fr_location),
        overdue=overdue, today=uk_date(db.utcnow()), returned=returned, awaiting_information=awaiting_information,
    )
    access_audit.case_read(session, user, case.reference, "page")
    session.commit()  # the read is audited even when an action on the page was refused
    return page, status


EXPLOITATION_FIELD = "types-of-exploitation"


def _exploitation_types(payload: dict[str, Any] | None) -> str:
    """The types of exploitation the referral names, as the form labels them (translated)."""
    answer = ((payload or {}).get("answers") or {}).get(EXPLOITATION_FIELD)
    if not answer:
        return _("Not given")
    return format_answer(answer, _answer_properties().get(EXPLOITATION_FIELD))


def _name(names: dict[str, str], key: str) -> str:
    """The translated name of ``key`` in one of the N_ tables above (the key itself if unknown)."""
    return _(names[key]) if key in names else key


@bp.get("/cases/<reference>")
@login_required
def case_page(reference: str) -> Any:
    return _render_case(_case_or_404(reference))


def _refused(reference: str, error: CaseworkError, **forms: Any) -> Any:
    """Roll back and show the case page again with the lifecycle's reason in the error summary."""
    session = db.session()
    session.rollback()
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        abort(404)
    return _render_case(case, errors=[{"text": error.message, "href": "#actions"}], status=error.status, **forms)


def _claim_step(reference: str, role: str, step: Callable[..., Case]) -> tuple[datetime | None, Any]:
    """A claim or release (``step(session, reference, user)``) by the signed-in ``role``, committed:
    (the claim's expiry, None), or (None, the case page saying why it was refused)."""
    require_role(role)
    _case_or_404(reference)
    session = db.session()
    try:
        case = step(session, reference, _user())
    except CaseworkError as error:
        return None, _refused(reference, error)
    expires = case.claim_expires_at
    session.commit()
    return expires, None


@bp.post("/cases/<reference>/claim")
@login_required
def claim(reference: str) -> Any:
    expires, refused = _claim_step(reference, CASEWORKER, queues.claim)
    return refused or _claimed(reference, expires)


@bp.post("/cases/<reference>/release")
@login_required
def release(reference: str) -> Any:
    _expires, refused = _claim_step(reference, CASEWORKER, queues.release)
    if refused:
        return refused
    flash(_("You have released case {reference}: it is back in the queue for anyone to claim.",
            reference=reference), "success")
    return redirect(url_for("casework.decision_queue"))


@bp.post("/cases/<reference>/decision")
@login_required
def decide(reference: str) -> Any:
    """Record the RG or CG decision (outcome and reasons) through ``lifecycle.decide``."""
    require_role(CASEWORKER)
    case = _case_or_404(reference)
    form = DecisionForm()
    if not form.validate_on_submit():
        errors = error_list(form)
        return _render_case(case, decision_form=form, errors=errors, status=400)
    if request.form.get("change"):  # "Change the decision" on the confirm page: the form, as it was
        return _render_case(case, decision_form=form)
    if form.outcome.data == "negative" and form.confirmed.data != "yes":
        return render_template("casework/confirm_negative.html", case=case, form=form,
                               back=url_for("casework.case_page", reference=reference))
    session = db.session()
    stage, outcome = form.stage.data, form.outcome.data
    try:
        case = lifecycle.decide(session, reference, _user(), stage, outcome, form.reasons.data)
    except CaseworkError as error:
        return _refused(reference, error, decision_form=form)
    cg_not_before = case.cg_not_before
    session.commit()
    flash(_decision_recorded(stage, outcome, reference, cg_not_before), "success")
    return redirect(url_for("casework.decision_queue"))


def _decision_recorded(stage: str, outcome: str, reference: str, cg_not_before: date | None) -> str:
    """The banner after a decision: one whole sentence per stage and outcome, for translators."""
    if outcome == "negative":
        if stage == "rg":
            return _("Negative Reasonable Grounds decision recorded on case {reference}: it is now in "
                     "the review queue of the independent panel.", reference=reference)
        return _("Negative Conclusive Grounds decision recorded on case {reference}: it is now in "
                 "the review queue of the independent panel.", reference=reference)
    if stage == "rg":
        return _("Positive Reasonable Grounds decision recorded on case {reference}: the recovery "
                 "period runs until {date}.", reference=reference, date=govuk_date(cg_not_before))
    return _("Positive Conclusive Grounds decision recorded on case {reference}.", reference=reference)


@bp.post("/cases/<reference>/review")
@login_required
def review(reference: str) -> Any:
    """Uphold a negative decision or return it for reconsideration, through ``lifecycle.review``."""
    require_role(PANEL)
    case = _case_or_404(reference)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _render_case(case, review_form=form, errors=error_list(form), status=400)
    session = db.session()
    outcome = form.outcome.data
    try:
        review_claims.review(session, reference, _user(), outcome, form.reasons.data)
    except CaseworkError as error:
        return _refused(reference, error, review_form=form)
    session.commit()
    if outcome == "upheld":
        flash(_("The negative decision on case {reference} is upheld.", reference=reference), "success")
    else:
        flash(_("Case {reference} is returned to the decision queue for reconsideration.", reference=reference),
              "success")
    return redirect(url_for("casework.review_queue"))


@bp.post("/cases/<reference>/review-claim")
@login_required
def claim_review(reference: str) -> Any:
    """A panel member takes the review: others see "being reviewed by" and cannot record it."""
    expires, refused = _claim_step(reference, PANEL, review_claims.claim)
    if refused:
        return refused
    flash(_("You are reviewing case {reference} until {time}.", reference=reference, time=govuk_time(expires)),
          "success")
    return redirect(url_for("casework.case_page", reference=reference))


@bp.post("/cases/<reference>/review-release")
@login_required
def release_review(reference: str) -> Any:
    _expires, refused = _claim_step(reference, PANEL, review_claims.release)
    if refused:
        return refused
    flash(_("You have released the review of case {reference}.", reference=reference), "success")
    return redirect(url_for("casework.review_queue"))


# --- statistics ---------------------------------------------------------------------------------

@bp.get("/stats")
@login_required
def statistics() -> Any:
    """The published statistics (``backend.statistics``) for ``period`` (a quarter, year or rolling 12
    months; the latest ended quarter by default), a GOV.UK error summary (400) when it is wrong.
    Free from/to dates are refused the same way: comparing two of them singled people out."""
    require_role(*STATS_ROLES)
    today = uk_date(datetime.now(UK_TIME))
    latest = aggregate.periods.latest(today)
    asked = request.args.get("period", "").strip()
    choices = _period_choices(latest)
    try:
        if "from" in request.args or "to" in request.args:
            raise aggregate.InvalidPeriod(aggregate.periods.FORMAT_MESSAGE, "format")
        period = aggregate.parse(asked, today)
    except aggregate.InvalidPeriod as error:
        message = _(PERIOD_FORMAT_ERROR) if error.problem == "format" else \
            _(PERIOD_NOT_ENDED_ERROR, quarter=error.quarter, latest=latest.code)
        return render_template("casework/stats.html", report=None, asked=asked, choices=choices,
                               errors=[{"text": message, "href": "#period"}], period_error=message), 400
    report = aggregate.build(db.session(), period, today)
    downloads = [(kind, url_for("casework.statistics_download", kind=kind, period=period.code))
                 for kind in DOWNLOADS]
    return render_template("casework/stats.html", report=report, asked=period.code, choices=choices,
                           errors=[], period_error=None, charts=stat_charts(report), downloads=downloads)


DOWNLOADS = {"csv": (lambda report: stat_downloads.to_csv(report).encode(stat_downloads.CSV_ENCODING),
                     stat_downloads.CSV_MEDIA_TYPE),
             "ods": (stat_downloads.to_ods, stat_downloads.ODS_MEDIA_TYPE)}
"""Each download of the statistics page: how the report is rendered, and its media type."""


@bp.get("/stats/download.<kind>")
@login_required
def statistics_download(kind: str) -> Any:
    """The page's tables as a CSV file or an ODS workbook (``backend.statistics.downloads``): the same
    report, so never a figure the page hides. A wrong period goes back to the page, which explains."""
    require_role(*STATS_ROLES)
    if kind not in DOWNLOADS:
        abort(404)
    today = uk_date(datetime.now(UK_TIME))
    try:
        period = aggregate.parse(request.args.get("period", ""), today)
    except aggregate.InvalidPeriod:
        return redirect(url_for("casework.statistics", period=request.args.get("period", "")))
    report = aggregate.build(db.session(), period, today)
    render, media_type = DOWNLOADS[kind]
    return Response(render(report), mimetype=media_type, headers={
        "Content-Disposition": f'attachment; filename="{stat_downloads.file_name(report, kind)}"'})


def _period_choices(latest: aggregate.Quarter) -> list[tuple[str, str]]:
    """Quick links: the latest quarter, the rolling 12 months to it and the latest whole year."""
    year = latest.year if latest.number == 4 else latest.year - 1
    return [(latest.code, _("Latest quarter ({quarter})", quarter=latest.label)),
            (f"12m-{latest.code}", _("12 months to {quarter}", quarter=latest.label)),
            (str(year), _("Year {year}", year=year))]
