"""The outbound pages and endpoints (DESIGN §10).

- the case page's part (``outbound/_case.html``, included by ``casework/case.html``): the open
  request for information, the form to ask one (the caseworker holding the claim), earlier
  answers, and every message of the case with its status (failures show their reason);
- ``POST /casework/cases/<ref>/information-request``: ask (caseworkers; CSRF);
- ``GET|POST /referrer/cases/<ref>/answer``: a responder of the referring organisation answers;
- ``GET /casework/letters`` and ``POST /casework/letters/<id>/posted``: the print queue of letters
  to the person (caseworkers);
- ``POST /outbound/twilio/status``: Twilio's signed delivery callback.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from backend import access_audit, audit, db
from backend.i18n import gettext as _
from backend.lifecycle import CaseworkError, same_organisation
from backend.models import Case, User
from backend.outbound import information
from backend.outbound.models import DELIVERED, FAILED, POST, SENT, InformationRequest, OutboundMessage
from backend.web_auth import require_role

bp = Blueprint("outbound", __name__, template_folder="templates")
callbacks = Blueprint("outbound_callbacks", __name__)

TWILIO_FAILED = ("failed", "undelivered")


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def panel(case: Case) -> dict[str, Any]:
    """What the case page shows of the outbound half (a template global; read once a request)."""
    cached = g.get("outbound_panel")
    if cached is not None and cached[0] == case.id:
        return cached[1]
    session = db.session()
    requests = session.scalars(select(InformationRequest).where(InformationRequest.case_id == case.id)
                               .order_by(InformationRequest.id)).all()
    messages = session.scalars(select(OutboundMessage).where(OutboundMessage.case_id == case.id)
                               .order_by(OutboundMessage.id)).all()
    shown = {"open": next((row for row in requests if row.answered_at is None), None),
             "answered": [row for row in requests if row.answered_at is not None], "messages": messages}
    g.outbound_panel = (case.id, shown)
    return shown


# --- requests for information -------------------------------------------------------------------

@bp.post("/casework/cases/<reference>/information-request")
@login_required
def ask(reference: str) -> Any:
    require_role("caseworker")
    session = db.session()
    if session.scalar(select(Case.id).where(Case.reference == reference)) is None:
        abort(404)
    try:
        information.ask(session, reference, _user(), request.form.get("question"))
    except CaseworkError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("casework.case_page", reference=reference) + "#information")
    session.commit()
    flash(_("Your question on case {reference} is sent to the referrer. Its clock is paused until they "
            "answer.", reference=reference), "success")
    return redirect(url_for("casework.case_page", reference=reference))


def _responders_case(reference: str) -> Case:
    require_role("responder")
    case = db.session().scalar(select(Case).where(Case.reference == reference))
    if case is None or not same_organisation(case.organisation, _user().organisation):
        abort(404)
    return case


@bp.route("/referrer/cases/<reference>/answer", methods=["GET", "POST"])
@login_required
def answer(reference: str) -> Any:
    """A responder of the referring organisation reads the open question and answers it."""
    case = _responders_case(reference)
    session = db.session()
    open_request = information.open_request(session, case)
    error = None
    if request.method == "POST" and open_request is not None:
        try:
            information.answer(session, case, f"user:{_user().id}", request.form.get("answer"))
        except CaseworkError as refused:
            session.rollback()
            error = refused.message
            open_request = information.open_request(session, case)
        else:
            session.commit()
            return render_template("outbound/answer.html", case=case, request_row=None, answered=True, error=None)
    status = 422 if error else 200
    access_audit.case_read(session, _user(), case.reference, "page")  # the question is case content
    session.commit()
    return render_template("outbound/answer.html", case=case, request_row=open_request, answered=False,
                           error=error), status


# --- the print queue ----------------------------------------------------------------------------

@bp.get("/casework/letters")
@login_required
def letters() -> Any:
    require_role("caseworker")
    session = db.session()
    rows = session.execute(select(OutboundMessage, Case.reference).join(Case, Case.id == OutboundMessage.case_id)
                           .where(OutboundMessage.channel == POST, OutboundMessage.status == "pending")
                           .order_by(OutboundMessage.id)).all()
    for _message, reference in rows:  # each letter shows a case's content (the person's address)
        access_audit.case_read(session, _user(), reference, "page")
    session.commit()
    return render_template("outbound/letters.html", letters=rows)


@bp.post("/casework/letters/<int:message_id>/posted")
@login_required
def posted(message_id: int) -> Any:
    require_role("caseworker")
    session = db.session()
    row = session.get(OutboundMessage, message_id, with_for_update=True)
    if row is None or row.channel != POST:
        abort(404)
    if row.status == "pending":
        row.status, row.sent_at = SENT, db.utcnow()
        reference = session.scalar(select(Case.reference).where(Case.id == row.case_id))
        audit.record(session, f"user:{_user().id}", "outbound.letter_posted", reference, {"message": row.id})
    session.commit()
    flash(_("Letter marked as posted."), "success")
    return redirect(url_for("outbound.letters"))


# --- Twilio's delivery callback ------------------------------------------------------------------

@callbacks.post("/outbound/twilio/status")
def twilio_status() -> Response:
    """Record what Twilio says became of an SMS (only with a valid ``X-Twilio-Signature``)."""
    if not _signed():
        return Response("Forbidden: bad or missing X-Twilio-Signature\n", 403, mimetype="text/plain")
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if not sid or len(sid) > 64:
        return Response("Bad request: MessageSid is required\n", 400, mimetype="text/plain")
    session = db.session()
    row = session.scalars(select(OutboundMessage).where(OutboundMessage.provider_id == sid)
                          .with_for_update()).first()
    if row is not None and row.status in (SENT, DELIVERED, FAILED):
        if status == "delivered":
            row.status, row.delivered_at, row.reason = DELIVERED, db.utcnow(), None
        elif status in TWILIO_FAILED:
            code = "".join(ch for ch in request.form.get("ErrorCode", "") if ch.isdigit())[:10]
            row.status, row.reason = FAILED, f"Twilio: {status}" + (f" (error {code})" if code else "")
    session.commit()
    return Response("", 204)


def _signed() -> bool:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature")
    if not token or not signature:
        return False
    base = current_app.config.get("PUBLIC_BASE_URL")
    url = base.rstrip("/") + request.full_path.rstrip("?") if base else request.url
    return _validator(token).validate(url, request.form, signature)


@lru_cache(maxsize=4)
def _validator(token: str) -> Any:
    from twilio.request_validator import RequestValidator

    return RequestValidator(token)
