"""The life of an NRM case, declared as a python-statemachine chart (DESIGN §4).

::

    awaiting_rg --decide_rg_positive--> recovery --end_recovery--> awaiting_cg --decide_cg_positive--> cg_positive
        |  decide_rg_negative                                          |  decide_cg_negative
        v                                                              v
    rg_review --uphold--> rg_negative                              cg_review --uphold--> cg_negative
        '--return_for_reconsideration--> awaiting_rg                   '--return_for_reconsideration--> awaiting_cg
    rg_negative / cg_negative --reconsider--> awaiting_rg / awaiting_cg
    any open state --withdraw--> withdrawn;  awaiting_rg / recovery / awaiting_cg --suspend--> suspended --resume--> back

``Case.status`` *is* the chart's state (``state_field="status"``). A referral enters the chart at
``awaiting_rg`` when ``backend.intake.submit`` creates it (the "submitted" step is the intake
itself); Duty to Notify reports (``dtn_recorded``) never enter it. ``cg_positive`` and
``withdrawn`` are final; an upheld negative (``rg_negative``/``cg_negative``) is final unless the
referring organisation or the support provider asks for reconsideration.

Clocks (target dates are real columns, so the queues order and count overdue cases by index):
``rg_due_date`` is ``RG_WORKING_DAYS`` working days after submission, and again from the day the
case re-enters ``awaiting_rg`` (returned by the panel, or reconsidered); ``cg_not_before`` ends the
recovery period (``RECOVERY_PERIOD_DAYS``, at least 30) and ``cg_due_date`` is ``CG_WORKING_DAYS``
working days after it (or after re-entering ``awaiting_cg``); ``review_due_date`` is
``REVIEW_WORKING_DAYS`` working days after a negative decision. A suspension stops the running
clock on ``suspended_on``; resuming moves its dates on by the working days (calendar days for the
recovery period) the case spent suspended, so it continues with the time it had left. Working days
follow the bank holidays of the nation where the referral was made (``backend.calendar``).

A case the panel returned records when (``returned_at``) and whose decision it was
(``returned_decider_id``): unless ``RETURNED_TO_ANOTHER_CASEWORKER`` is off, that caseworker may
not decide it again (nor claim it: ``backend.queues``). The next decision clears both.

Every event is one action. Each transition is guarded (who may act, the claim, independence of
decision maker and reviewer, the recovery period, written reasons) and every transition writes an
audit event with the reasons' length and SHA-256 only; the reasons themselves go, encrypted, on the
``Decision``/``Review``/``CaseNote`` row. A refused action raises a :class:`CaseworkError` saying
why, before anything is changed. Nothing here commits: the caller's transaction does.

Use the action functions (:func:`decide`, :func:`review`, :func:`request_reconsideration`,
:func:`withdraw`, :func:`suspend`, :func:`resume`, :func:`end_recovery`): they lock the case row
and check everything. The casework web pages and the JSON API both call them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable

from flask import current_app, has_app_context
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from backend import audit
from backend.calendar import add_working_days, uk_date, working_days_between
from backend.config import INT_DEFAULTS
from backend.db import get_for_update, utcnow
from backend.outbound import outbox
from backend.models import (CASE_DTN_RECORDED, CASE_STATUSES, DECISION_OUTCOMES, DECISION_STAGES,
                            REQUESTED_BY, REVIEW_OUTCOMES, Case, CaseNote, Decision, Review, User)
from backend.queue_order import DECISION_STATUSES, REVIEW_STATUSES  # also keeps each case's queue place

RECOVERY_PERIOD_DAYS_2019 = 45
"""The recovery period under the 2019 guidance (the default, 30, is in backend.config)."""
MAX_REASONS = 20_000
SYSTEM = "system"

AWAITING_RG = "awaiting_rg"
RECOVERY = "recovery"
AWAITING_CG = "awaiting_cg"
CG_POSITIVE = "cg_positive"
RG_REVIEW = "rg_review"
CG_REVIEW = "cg_review"
RG_NEGATIVE = "rg_negative"
CG_NEGATIVE = "cg_negative"
SUSPENDED = "suspended"
WITHDRAWN = "withdrawn"

FINAL_STATUSES = (CG_POSITIVE, WITHDRAWN, RG_NEGATIVE, CG_NEGATIVE)
"""No further decision is pending (an upheld negative can still be reopened by reconsideration)."""
STAGE_OF = {AWAITING_RG: "rg", AWAITING_CG: "cg", RG_REVIEW: "rg", CG_REVIEW: "cg",
            RG_NEGATIVE: "rg", CG_NEGATIVE: "cg"}


# --- errors -------------------------------------------------------------------------------------

class CaseworkError(Exception):
    """A refused casework action; nothing was changed. ``status`` is the HTTP status to answer."""

    status = 400
    code = "error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CaseNotFound(CaseworkError):
    status = 404
    code = "not_found"


class NotPermitted(CaseworkError):
    """The user may not take this action on this case (role, organisation, independence)."""

    status = 403
    code = "forbidden"


class Refused(CaseworkError):
    """The action is not possible in the case's current state."""

    status = 409
    code = "refused"


class ClaimConflict(CaseworkError):
    """The case is claimed by someone else, or the actor does not hold the claim."""

    status = 409
    code = "claim_conflict"


class ReasonsRequired(CaseworkError):
    status = 422
    code = "reasons_required"


class InvalidRequest(CaseworkError):
    status = 422
    code = "invalid"


# --- settings -----------------------------------------------------------------------------------

def _setting(name: str) -> int:
    """A whole-number setting of the running app (validated by backend.config), or its default."""
    if has_app_context():
        return int(current_app.config.get(name, INT_DEFAULTS[name]))
    return INT_DEFAULTS[name]


def recovery_period_days() -> int:
    """``RECOVERY_PERIOD_DAYS`` (default 30; at least 30 under current guidance, 45 under 2019's)."""
    return _setting("RECOVERY_PERIOD_DAYS")


def claim_minutes() -> int:
    """``CLAIM_MINUTES``: how long a caseworker's claim on a case lasts (default 60)."""
    return _setting("CLAIM_MINUTES")


def returned_to_another_caseworker() -> bool:
    """``RETURNED_TO_ANOTHER_CASEWORKER`` (default true): a case the panel returned is not offered
    to, claimed by or decided by the caseworker whose decision was returned."""
    if has_app_context():
        return bool(current_app.config.get("RETURNED_TO_ANOTHER_CASEWORKER", True))
    return True


def returned_to(case: Case, user: User | None) -> bool:
    """Whether ``user`` made the decision the panel returned and so may not take the case."""
    return (user is not None and case.returned_at is not None and case.returned_decider_id == user.id
            and returned_to_another_caseworker())


@dataclass(frozen=True)
class Clocks:
    """The case clocks' settings, in days: each target date is computed from them."""

    rg_working_days: int = INT_DEFAULTS["RG_WORKING_DAYS"]
    recovery_days: int = INT_DEFAULTS["RECOVERY_PERIOD_DAYS"]
    cg_working_days: int = INT_DEFAULTS["CG_WORKING_DAYS"]
    review_working_days: int = INT_DEFAULTS["REVIEW_WORKING_DAYS"]

    @classmethod
    def configured(cls) -> Clocks:
        """The running app's settings (the defaults outside one)."""
        return cls(_setting("RG_WORKING_DAYS"), recovery_period_days(), _setting("CG_WORKING_DAYS"),
                   _setting("REVIEW_WORKING_DAYS"))


# --- the chart ----------------------------------------------------------------------------------

@dataclass
class Step:
    """Everything one action needs: it is what the chart's guards and actions look at."""

    session: Session
    actor: User | None
    """None for the system (scheduled jobs)."""
    reasons: str | None = None
    now: datetime | None = None
    requested_by: str | None = None
    clocks: Clocks = Clocks()

    @property
    def today(self) -> date:
        return uk_date(self.now or utcnow())

    @property
    def actor_id(self) -> str:
        if self.actor is None:
            return SYSTEM
        return f"user:{self.actor.id}" if isinstance(self.actor, User) else self.actor.actor_id  # a registered number


_DECIDE = ["by_caseworker", "holds_claim", "did_not_review", "not_returned_to_decider", "has_reasons"]
_REVIEW = ["by_panel", "did_not_decide", "independent_of_referrer", "has_reasons"]
_REFERRER = ["by_referring_organisation", "has_reasons"]
_CASEWORKER = ["by_caseworker", "has_reasons"]


class CaseLifecycle(StateMachine):
    """The case chart. Build one per action: ``CaseLifecycle(case, step)``; use the action
    functions below rather than sending events directly."""

    awaiting_rg = State("Awaiting RG decision", initial=True)
    recovery = State("Recovery period")
    awaiting_cg = State("Awaiting CG decision")
    cg_positive = State("CG positive (final)", final=True)
    rg_review = State("RG negative, awaiting panel review")
    cg_review = State("CG negative, awaiting panel review")
    rg_negative = State("RG negative upheld")
    cg_negative = State("CG negative upheld")
    suspended = State("Suspended")
    withdrawn = State("Withdrawn (final)", final=True)

    decide_rg_positive = awaiting_rg.to(recovery, cond=_DECIDE)
    decide_rg_negative = awaiting_rg.to(rg_review, cond=_DECIDE)
    end_recovery = recovery.to(awaiting_cg, cond=["by_system", "recovery_over"])
    decide_cg_positive = awaiting_cg.to(cg_positive, cond=_DECIDE + ["recovery_over"])
    decide_cg_negative = awaiting_cg.to(cg_review, cond=_DECIDE + ["recovery_over"])
    uphold = rg_review.to(rg_negative, cond=_REVIEW) | cg_review.to(cg_negative, cond=_REVIEW)
    return_for_reconsideration = (rg_review.to(awaiting_rg, cond=_REVIEW)
                                  | cg_review.to(awaiting_cg, cond=_REVIEW))
    reconsider = rg_negative.to(awaiting_rg, cond=_REFERRER) | cg_negative.to(awaiting_cg, cond=_REFERRER)
    withdraw = (awaiting_rg.to(withdrawn, cond=_REFERRER) | recovery.to(withdrawn, cond=_REFERRER)
                | awaiting_cg.to(withdrawn, cond=_REFERRER) | rg_review.to(withdrawn, cond=_REFERRER)
                | cg_review.to(withdrawn, cond=_REFERRER) | suspended.to(withdrawn, cond=_REFERRER))
    suspend = (awaiting_rg.to(suspended, cond=_CASEWORKER) | recovery.to(suspended, cond=_CASEWORKER)
               | awaiting_cg.to(suspended, cond=_CASEWORKER))
    resume = (suspended.to(awaiting_rg, cond=_CASEWORKER + ["was_awaiting_rg"])
              | suspended.to(recovery, cond=_CASEWORKER + ["was_recovery"])
              | suspended.to(awaiting_cg, cond=_CASEWORKER + ["was_awaiting_cg"]))

    def __init__(self, case: Case, step: Step) -> None:
        self.case = case
        self.step = step
        self.effects: dict[str, Any] = {}
        super().__init__(model=case, state_field="status")

    # -- guards (each returns a bool; GUARD_ERRORS says what a False means to the user) --

    def by_caseworker(self) -> bool:
        return _has_role(self.step.actor, "caseworker")

    def by_panel(self) -> bool:
        return _has_role(self.step.actor, "panel")

    def by_system(self) -> bool:
        return self.step.actor is None

    def by_referring_organisation(self) -> bool:
        return _has_role(self.step.actor, "responder") and same_organisation(
            self.step.actor.organisation, self.case.organisation)

    def holds_claim(self) -> bool:
        actor = self.step.actor
        return (actor is not None and self.case.claimed_by_id == actor.id
                and claim_active(self.case, self.step.now or utcnow()))

    def did_not_review(self) -> bool:
        return self.step.actor is not None and not reviewed_by(self.step.session, self.case, self.step.actor)

    def not_returned_to_decider(self) -> bool:
        return self.step.actor is not None and not returned_to(self.case, self.step.actor)

    def did_not_decide(self) -> bool:
        return self.step.actor is not None and not decided_by(self.step.session, self.case, self.step.actor)

    def independent_of_referrer(self) -> bool:
        actor = self.step.actor
        return actor is not None and not same_organisation(actor.organisation, self.case.organisation)

    def recovery_over(self) -> bool:
        return self.case.cg_not_before is not None and self.step.today >= self.case.cg_not_before

    def has_reasons(self) -> bool:
        return bool((self.step.reasons or "").strip())

    def was_awaiting_rg(self) -> bool:
        return self.case.suspended_from == AWAITING_RG

    def was_recovery(self) -> bool:
        return self.case.suspended_from == RECOVERY

    def was_awaiting_cg(self) -> bool:
        return self.case.suspended_from == AWAITING_CG

    # -- actions (run only once every guard of the transition passed) --
    # Each sets the clock of the stage the case enters: a case that re-enters a stage gets a fresh
    # target date, and a suspension stops the clock that was running until the case is resumed.

    def on_decide_rg_positive(self) -> None:
        self._decision("rg", "positive")
        self.case.cg_not_before = self.step.today + timedelta(days=self.step.clocks.recovery_days)
        self.case.cg_due_date = self._working_days_after(self.case.cg_not_before, self.step.clocks.cg_working_days)
        self.effects.update(cg_not_before=self.case.cg_not_before.isoformat(),
                            cg_due_date=self.case.cg_due_date.isoformat())

    def on_decide_rg_negative(self) -> None:
        self._decision("rg", "negative")
        self._start_review_clock()

    def on_decide_cg_positive(self) -> None:
        self._decision("cg", "positive")

    def on_decide_cg_negative(self) -> None:
        self._decision("cg", "negative")
        self._start_review_clock()

    def on_uphold(self) -> None:
        self._review("upheld")
        self.case.review_due_date = None

    def on_return_for_reconsideration(self, target: State) -> None:
        row = self._review("returned")
        self.case.review_due_date = None
        self.case.returned_at = row.reviewed_at
        self.case.returned_decider_id = row.decision.decided_by_id
        self._restart_decision_clock(target)

    def on_reconsider(self, target: State) -> None:
        self._note("reconsideration", self.step.requested_by or "first_responder")
        self._restart_decision_clock(target)

    def on_withdraw(self) -> None:
        self._note("withdrawal")
        self.case.suspended_from = None
        self.case.suspended_on = None
        self.case.review_due_date = None
        release_claim(self.case)

    def on_suspend(self, source: State) -> None:
        self._note("suspension")
        self.case.suspended_from = source.id
        self.case.suspended_on = self.step.today
        release_claim(self.case)

    def on_resume(self, target: State) -> None:
        self._note("resumption")
        paused_on = self.case.suspended_on or self.step.today
        paused = working_days_between(paused_on, self.step.today, self.case.fr_location)
        if target.id == AWAITING_RG and self.case.rg_due_date is not None:
            self.case.rg_due_date = self._working_days_after(self.case.rg_due_date, paused)
        elif target.id == RECOVERY and self.case.cg_not_before is not None:
            self.case.cg_not_before += self.step.today - paused_on
            self.case.cg_due_date = self._working_days_after(self.case.cg_not_before,
                                                             self.step.clocks.cg_working_days)
        elif target.id == AWAITING_CG and self.case.cg_due_date is not None:
            self.case.cg_due_date = self._working_days_after(self.case.cg_due_date, paused)
        self.case.suspended_from = None
        self.case.suspended_on = None
        self.effects.update(paused_working_days=paused, **self._due_dates())

    def _working_days_after(self, start: date, days: int) -> date:
        return add_working_days(start, days, self.case.fr_location)

    def _start_review_clock(self) -> None:
        self.case.review_due_date = self._working_days_after(self.step.today, self.step.clocks.review_working_days)
        self.effects["review_due_date"] = self.case.review_due_date.isoformat()

    def _restart_decision_clock(self, target: State) -> None:
        """A case back in a decision queue gets the full time again, counted from today."""
        if target.id == AWAITING_RG:
            self.case.rg_due_date = self._working_days_after(self.step.today, self.step.clocks.rg_working_days)
        else:
            self.case.cg_due_date = self._working_days_after(self.step.today, self.step.clocks.cg_working_days)
        self.effects.update(self._due_dates())

    def _due_dates(self) -> dict[str, str]:
        return {name: value.isoformat() for name, value in (
            ("rg_due_date", self.case.rg_due_date), ("cg_not_before", self.case.cg_not_before),
            ("cg_due_date", self.case.cg_due_date)) if value is not None}

    def after_transition(self, event: str, source: State, target: State) -> None:
        now = self.step.now or utcnow()
        self.case.status_changed_at = now
        detail: dict[str, Any] = {"from": source.id, "to": target.id, **self.effects}
        if self.step.reasons is not None:
            detail.update(reasons_digest(self.step.reasons))
        audit.record(self.step.session, self.step.actor_id, f"case.{event}", self.case.reference,
                     detail, at=now)
        outbox.on_transition(self.step.session, self.case, event, self.effects)  # messages, same transaction

    def _decision(self, stage: str, outcome: str) -> None:
        assert self.step.actor is not None
        decision = Decision(case_id=self.case.id, stage=stage, outcome=outcome,
                            decided_by_id=self.step.actor.id, decided_at=self.step.now or utcnow(),
                            reasons=self.step.reasons)
        self.step.session.add(decision)
        self.step.session.flush()
        release_claim(self.case)
        self.case.returned_at = None
        self.case.returned_decider_id = None
        self.effects.update({"stage": stage, "outcome": outcome, "decision": decision.id})

    def _review(self, outcome: str) -> Review:
        assert self.step.actor is not None
        stage = STAGE_OF[self.case.status]
        decision = self.step.session.scalars(
            select(Decision).where(Decision.case_id == self.case.id, Decision.stage == stage,
                                   Decision.outcome == "negative")
            .order_by(Decision.id.desc()).limit(1)).first()
        if decision is None:  # a review state is only ever entered by a negative decision
            raise Refused(f"case {self.case.reference} has no negative {stage.upper()} decision to review")
        row = Review(case_id=self.case.id, decision_id=decision.id, outcome=outcome,
                     reviewer_id=self.step.actor.id, reviewed_at=self.step.now or utcnow(),
                     reasons=self.step.reasons)
        self.step.session.add(row)
        self.step.session.flush()
        self.effects.update({"stage": stage, "outcome": outcome, "decision": decision.id, "review": row.id})
        return row

    def _note(self, kind: str, requested_by: str | None = None) -> None:
        note = CaseNote(case_id=self.case.id, kind=kind, requested_by=requested_by,
                        author_id=self.step.actor.id if isinstance(self.step.actor, User) else None,
                        at=self.step.now or utcnow(), reasons=self.step.reasons)
        self.step.session.add(note)
        self.step.session.flush()
        self.effects["note"] = note.id
        if requested_by is not None:
            self.effects["requested_by"] = requested_by


GUARD_ERRORS: dict[str, tuple[type[CaseworkError] | None, Callable[[CaseLifecycle], str]]] = {
    "by_caseworker": (NotPermitted, lambda m: "only a caseworker may do this"),
    "by_panel": (NotPermitted, lambda m: "only a panel member may review a decision"),
    "by_system": (NotPermitted, lambda m: "a recovery period is ended by the scheduled job (`nrm jobs run`)"),
    "by_referring_organisation": (NotPermitted, lambda m: (
        "only the referring first responder organisation or the support provider "
        "(a responder of that organisation) may do this")),
    "holds_claim": (ClaimConflict, lambda m: _claim_message(m)),
    "did_not_review": (NotPermitted, lambda m: (
        "you reviewed this case as a panel member, so another caseworker must decide it")),
    "not_returned_to_decider": (NotPermitted, lambda m: (
        "the panel returned your decision on this case, so another caseworker must decide it again")),
    "did_not_decide": (NotPermitted, lambda m: (
        "you made a decision on this case, so another panel member must review it")),
    "independent_of_referrer": (NotPermitted, lambda m: (
        "panel members from the referring organisation may not review its cases")),
    "recovery_over": (Refused, lambda m: (
        f"the recovery period runs until {m.case.cg_not_before}: no Conclusive Grounds decision "
        "or move to the CG queue before then" if m.case.cg_not_before else
        "the recovery period has not started")),
    "has_reasons": (ReasonsRequired, lambda m: "written reasons are required"),
    # routing guards: they pick which transition applies, they do not refuse anything
    "was_awaiting_rg": (None, lambda m: ""),
    "was_recovery": (None, lambda m: ""),
    "was_awaiting_cg": (None, lambda m: ""),
}
"""What each guard's refusal means: the error raised (None: a routing guard) and its message."""

EVENT_LABELS = {
    "decide_rg_positive": "make a positive Reasonable Grounds decision on case {case}",
    "decide_rg_negative": "make a negative Reasonable Grounds decision on case {case}",
    "end_recovery": "end the recovery period of case {case}",
    "decide_cg_positive": "make a positive Conclusive Grounds decision on case {case}",
    "decide_cg_negative": "make a negative Conclusive Grounds decision on case {case}",
    "uphold": "uphold the negative decision on case {case}",
    "return_for_reconsideration": "return case {case} for reconsideration",
    "reconsider": "ask for reconsideration of case {case}",
    "withdraw": "withdraw case {case}",
    "suspend": "suspend case {case}",
    "resume": "resume case {case}",
}
"""Every event of the chart, as the action a refusal message names."""


def _action(event: str, reference: str) -> str:
    return EVENT_LABELS.get(event, event + " {case}").format(case=reference)


def _claim_message(machine: CaseLifecycle) -> str:
    case, now = machine.case, machine.step.now or utcnow()
    if case.claimed_by_id is not None and claim_active(case, now):
        return f"case {case.reference} is claimed by another caseworker until {case.claim_expires_at:%H:%M} UTC"
    return f"claim case {case.reference} before deciding it (claims last {claim_minutes()} minutes)"


# --- helpers shared with backend.queues and the API ---------------------------------------------

def _has_role(user: User | None, role: str) -> bool:
    return user is not None and bool(user.active) and user.role == role


def same_organisation(first: str | None, second: str | None) -> bool:
    """Organisation names compared ignoring case and spacing; None matches nothing."""
    if not first or not second:
        return False
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


def claim_active(case: Case, now: datetime) -> bool:
    return case.claimed_by_id is not None and case.claim_expires_at is not None and case.claim_expires_at > now


def release_claim(case: Case) -> None:
    case.claimed_by_id = None
    case.claimed_at = None
    case.claim_expires_at = None


def reviewed_by(session: Session, case: Case, user: User) -> bool:
    """Whether ``user`` ever reviewed a decision on ``case`` (then they may never decide it)."""
    return session.scalar(select(Review.id).where(Review.case_id == case.id,
                                                  Review.reviewer_id == user.id).limit(1)) is not None


def decided_by(session: Session, case: Case, user: User) -> bool:
    """Whether ``user`` ever decided ``case`` (then they may never review it)."""
    return session.scalar(select(Decision.id).where(Decision.case_id == case.id,
                                                    Decision.decided_by_id == user.id).limit(1)) is not None


def reasons_digest(reasons: str) -> dict[str, Any]:
    """What the audit trail keeps of written reasons: their length and SHA-256, never the text."""
    return {"reasons_length": len(reasons),
            "reasons_sha256": hashlib.sha256(reasons.encode("utf-8")).hexdigest()}


def lock_case(session: Session, reference: str) -> Case:
    """The case with ``reference``, row-locked for the rest of the transaction; CaseNotFound if none."""
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    case = get_for_update(session, Case, case_id) if case_id is not None else None
    if case is None:
        raise CaseNotFound(f"no case {reference}")
    return case


def _status_label(status: str) -> str:
    state = CaseLifecycle.states_map.get(status)
    return state.name if state is not None else status.replace("_", " ")


def status_label(status: str) -> str:
    """A readable name of a case status ("Awaiting RG decision")."""
    if status == CASE_DTN_RECORDED:
        return "Duty to Notify report recorded"
    return _status_label(status)


# --- firing events ------------------------------------------------------------------------------

def _explain(machine: CaseLifecycle, event: str) -> None:
    """Raise the error saying why ``event`` cannot fire now; return if some transition would."""
    transitions = [t for state in machine.configuration for t in state.transitions
                   if event in _event_ids(t)]
    if not transitions:
        status = machine.case.status
        raise Refused(f"cannot {_action(event, machine.case.reference)}: "
                      f"its status is {status} ({_status_label(status)})")
    refusal: tuple[type[CaseworkError], str] | None = None
    for transition in transitions:
        failed = next((name for name in _guard_names(transition) if not getattr(machine, name)()), None)
        if failed is None:
            return
        error, message = GUARD_ERRORS[failed]
        if error is not None and refusal is None:
            refusal = (error, message(machine))
    if refusal is None:
        raise Refused(f"cannot {_action(event, machine.case.reference)} from its recorded state")
    raise refusal[0](refusal[1])


def _guard_names(transition: Any) -> list[str]:
    return [spec.func for spec in transition.cond if isinstance(spec.func, str)]


def _event_ids(transition: Any) -> list[str]:
    return [str(event) for event in transition.events]


def fire(session: Session, reference: str, event: str, actor: User | None, reasons: str | None = None,
         *, requested_by: str | None = None, now: datetime | None = None) -> Case:
    """Lock case ``reference`` and apply ``event`` as ``actor``; raise a CaseworkError if refused.

    On refusal nothing is changed (the checks run before any write). Flushed, not committed.
    """
    if event not in EVENT_LABELS:
        raise InvalidRequest(f"unknown action {event!r}")
    if reasons is not None and not isinstance(reasons, str):
        raise InvalidRequest("reasons must be text")
    if reasons is not None and len(reasons) > MAX_REASONS:
        raise InvalidRequest(f"reasons must be at most {MAX_REASONS} characters")
    if requested_by is not None and requested_by not in REQUESTED_BY:
        raise InvalidRequest(f"requested_by must be one of {', '.join(REQUESTED_BY)}")
    case = lock_case(session, reference)
    if case.status not in CaseLifecycle.states_map:
        raise Refused(f"case {reference} has no decisions to make: {status_label(case.status)}")
    step = Step(session=session, actor=actor, reasons=reasons.strip() if reasons else reasons,
                now=now or utcnow(), requested_by=requested_by, clocks=Clocks.configured())
    machine = CaseLifecycle(case, step)
    _explain(machine, event)
    try:
        machine.send(event)
    except TransitionNotAllowed:  # pragma: no cover - _explain found a transition that passes
        raise Refused(f"cannot {_action(event, reference)} now") from None
    session.flush()
    return case


def decide(session: Session, reference: str, actor: User, stage: str, outcome: str, reasons: str,
           *, now: datetime | None = None) -> Case:
    """Record an RG or CG decision by the caseworker holding the claim; a negative one goes to
    the review queue in the same transaction."""
    if stage not in DECISION_STAGES:
        raise InvalidRequest(f"stage must be one of {', '.join(DECISION_STAGES)}")
    if outcome not in DECISION_OUTCOMES:
        raise InvalidRequest(f"outcome must be one of {', '.join(DECISION_OUTCOMES)}")
    return fire(session, reference, f"decide_{stage}_{outcome}", actor, reasons, now=now)


def review(session: Session, reference: str, actor: User, outcome: str, reasons: str,
           *, now: datetime | None = None) -> Case:
    """The panel upholds a negative decision or returns it to the decision queue, with reasons."""
    if outcome not in REVIEW_OUTCOMES:
        raise InvalidRequest(f"outcome must be one of {', '.join(REVIEW_OUTCOMES)}")
    event = "uphold" if outcome == "upheld" else "return_for_reconsideration"
    return fire(session, reference, event, actor, reasons, now=now)


def request_reconsideration(session: Session, reference: str, actor: User, reasons: str,
                            requested_by: str = "first_responder", *, now: datetime | None = None) -> Case:
    """Reopen an upheld negative decision, on request of the referring organisation or the
    support provider (``requested_by``)."""
    return fire(session, reference, "reconsider", actor, reasons, requested_by=requested_by, now=now)


def withdraw(session: Session, reference: str, actor: User, reasons: str, *,
             now: datetime | None = None) -> Case:
    """The referring organisation withdraws a referral that is still open."""
    return fire(session, reference, "withdraw", actor, reasons, now=now)


def suspend(session: Session, reference: str, actor: User, reasons: str, *,
            now: datetime | None = None) -> Case:
    """A caseworker suspends decision-making (e.g. the person is missing)."""
    return fire(session, reference, "suspend", actor, reasons, now=now)


def resume(session: Session, reference: str, actor: User, reasons: str, *,
           now: datetime | None = None) -> Case:
    """A caseworker resumes a suspended case where it was."""
    return fire(session, reference, "resume", actor, reasons, now=now)


def end_recovery(session: Session, reference: str, *, now: datetime | None = None) -> Case:
    """Move a case whose recovery period is over to the CG decision queue (the scheduled job)."""
    return fire(session, reference, "end_recovery", None, now=now)


def recovery_ends_query(today: date) -> Select[tuple[str]]:
    """The cases whose recovery period is over by ``today``, read along ``ix_cases_recovery_ends``."""
    return (select(Case.reference).where(Case.status == RECOVERY, Case.cg_not_before <= today)
            .order_by(Case.cg_not_before, Case.id))


def end_recoveries(session: Session, now: datetime | None = None) -> list[str]:
    """Every case in ``recovery`` whose period is over moves to ``awaiting_cg``; their references."""
    now = now or utcnow()
    references = session.scalars(recovery_ends_query(uk_date(now))).all()
    for reference in references:
        end_recovery(session, reference, now=now)
    return list(references)


# --- the chart as data, and its diagram ---------------------------------------------------------

@dataclass(frozen=True)
class TransitionInfo:
    event: str
    source: str
    target: str
    guards: tuple[str, ...]


def transitions() -> list[TransitionInfo]:
    """Every transition of the chart, in declaration order."""
    found = []
    for state in CaseLifecycle.states:
        for transition in state.transitions:
            for event in _event_ids(transition):
                found.append(TransitionInfo(event, state.id, transition.target.id,
                                            tuple(_guard_names(transition))))
    order = list(EVENT_LABELS)
    return sorted(found, key=lambda t: (order.index(t.event), [s.id for s in CaseLifecycle.states].index(t.source)))


def events() -> list[str]:
    return list(EVENT_LABELS)


def states() -> list[str]:
    return [state.id for state in CaseLifecycle.states]


def mermaid() -> str:
    """The chart as a Mermaid ``stateDiagram-v2``."""
    lines = ["stateDiagram-v2"]
    for state in CaseLifecycle.states:
        lines.append(f"    {state.id} : {state.name}")
    lines.append(f"    [*] --> {CaseLifecycle.initial_state.id}")
    for info in transitions():
        lines.append(f"    {info.source} --> {info.target} : {info.event}")
    for state in CaseLifecycle.final_states:
        lines.append(f"    {state.id} --> [*]")
    return "\n".join(lines) + "\n"


def diagram_markdown() -> str:
    """``docs/lifecycle.md``: the Mermaid diagram and the table of transitions with their guards.

    Generated by ``nrm lifecycle diagram``; a test checks the committed file is up to date.
    """
    rows = "\n".join(f"| `{t.event}` | `{t.source}` | `{t.target}` | {', '.join(f'`{g}`' for g in t.guards)} |"
                     for t in transitions())
    guards = "\n".join(f"| `{name}` | {(error.__name__ + ' (HTTP ' + str(error.status) + ')') if error else 'routing'} |"
                       for name, (error, _message) in GUARD_ERRORS.items())
    return (
        "# Case lifecycle\n\n"
        "Generated from `backend/lifecycle.py` by `nrm lifecycle diagram docs/lifecycle.md`; "
        "do not edit by hand.\n\n"
        f"{len(states())} states, {len(events())} events, {len(transitions())} transitions. "
        "Every transition is audited; any other move is refused and changes nothing.\n\n"
        "```mermaid\n" + mermaid() + "```\n\n"
        "| Event | From | To | Guards |\n|---|---|---|---|\n" + rows + "\n\n"
        "| Guard | Refusal |\n|---|---|\n" + guards + "\n\n"
        "## Clocks\n\n"
        "| Target | Column | Counted from | Setting |\n|---|---|---|---|\n"
        "| RG decision | `rg_due_date` | submission, and again on re-entering `awaiting_rg` "
        "(`return_for_reconsideration`, `reconsider`) | `RG_WORKING_DAYS` working days |\n"
        "| End of the recovery period | `cg_not_before` | `decide_rg_positive` | `RECOVERY_PERIOD_DAYS` days "
        "(at least 30) |\n"
        "| CG decision | `cg_due_date` | `cg_not_before`, or re-entering `awaiting_cg` | `CG_WORKING_DAYS` "
        "working days |\n"
        "| Panel review | `review_due_date` | `decide_rg_negative`, `decide_cg_negative` | "
        "`REVIEW_WORKING_DAYS` working days |\n\n"
        "`suspend` stops the running clock (`suspended_on`); `resume` moves its dates on by the time spent "
        "suspended, so the case continues with the time it had left.\n"
    )


assert set(states()) | {CASE_DTN_RECORDED} == set(CASE_STATUSES), "models.CASE_STATUSES is out of date"
assert (set(DECISION_STATUSES), set(REVIEW_STATUSES)) == ({AWAITING_RG, AWAITING_CG}, {RG_REVIEW, CG_REVIEW})
