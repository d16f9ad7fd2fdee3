"""The only door into the backend: turn a confirmed referral payload into a Case, exactly once.

``submit`` validates the payload against the JSON Schema published by ``flows.schema`` and then, in
the caller's transaction, allocates the reference, creates the case, closes the conversation and
deletes its transcript, and records the audit event. Nothing is committed here: the caller commits
(so the reply carrying the reference is sent only after the case is durable) and a crash before
that commit leaves nothing behind. A conversation becomes at most one case: it is checked under a
row lock and enforced by the unique ``cases.conversation_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import audit
from backend.priority import is_priority
from backend.calendar import rg_due_date
from backend.db import get_for_update, utcnow
from backend.models import (AGE_ROUTES, CASE_AWAITING_RG, CASE_DTN_RECORDED, FR_LOCATIONS, ROUTES,
                            Case, Conversation)
from backend.references import allocate

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

DEFAULT_RG_WORKING_DAYS = 5
_MAX_MESSAGE = 300


class IntakeError(Exception):
    """A referral that was not accepted; nothing was stored.

    ``errors`` are readable one-line messages (field path first); ``code`` is one of ``invalid``,
    ``already_submitted``, ``unknown_conversation``, ``cancelled``.
    """

    def __init__(self, errors: list[str] | str, code: str = "invalid") -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        self.code = code
        super().__init__("; ".join(self.errors))


def _schema(schema: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if schema is not None:
        return schema
    from flows.schema import payload_schema  # imported late: backend depends on flows only here

    return payload_schema()


def _path(error: ValidationError) -> str:
    parts = [str(part) for part in error.absolute_path]
    return ".".join(parts) if parts else "payload"


def _message(error: ValidationError) -> str:
    """A short message per error: the big lookup enums and 'not' rules read badly as jsonschema says them."""
    where = _path(error)
    if error.validator == "not" and isinstance(error.validator_value, dict) \
            and list(error.validator_value) == ["required"]:
        fields = ", ".join(error.validator_value["required"])
        return f"{where}.{fields}: must not be given on this route"
    if error.validator == "required":
        return f"{where}: {error.message.replace(' is a required property', ' is required')}"
    if error.validator == "enum" and isinstance(error.validator_value, list) and len(error.validator_value) > 8:
        return f"{where}: {error.instance!r} is not one of the allowed values"[:_MAX_MESSAGE]
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE - 1] + "…"
    return f"{where}: {message}"


def validate(payload: Any, schema: Mapping[str, Any] | None = None) -> list[str]:
    """Every problem with ``payload`` as readable messages, sorted by field; empty when valid."""
    from jsonschema import Draft202012Validator  # imported at the first referral: slow, and start-up needs none

    validator = Draft202012Validator(_schema(schema), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path])
    messages = list(dict.fromkeys(_message(error) for error in errors))
    if messages or not isinstance(payload, dict):
        return messages or ["payload: must be a JSON object"]
    return _core_problems(payload)


def _core_problems(payload: dict[str, Any]) -> list[str]:
    """What the case columns need, checked even if a schema were looser than expected."""
    problems = []
    answers = payload.get("answers")
    if not isinstance(answers, dict):
        return ["answers: must be an object"]
    if payload.get("route") not in ROUTES:
        problems.append(f"route: must be one of {', '.join(ROUTES)}")
    if payload.get("age_route") not in AGE_ROUTES:
        problems.append(f"age_route: must be one of {', '.join(AGE_ROUTES)}")
    if not isinstance(payload.get("schema_version"), str) or not payload["schema_version"]:
        problems.append("schema_version: is required")
    if answers.get("fr-location") not in FR_LOCATIONS:
        problems.append(f"answers.fr-location: must be one of {', '.join(FR_LOCATIONS)}")
    if not isinstance(answers.get("user-organisation"), str) or not answers["user-organisation"]:
        problems.append("answers.user-organisation: is required")
    return problems


def take_account_organisation(payload: Any, organisation: str | None) -> None:
    """A referral through the API is made for the caller's own organisation (it decides who may
    later withdraw it or ask for reconsideration): fill it in when the payload leaves it out,
    refuse a different one (code ``organisation_mismatch``) or an account without one
    (``no_organisation``). A payload without answers is left for :func:`validate` to report."""
    from backend.lifecycle import same_organisation  # the case chart: not for a channel's start (nrm chat)

    answers = payload.get("answers") if isinstance(payload, dict) else None
    if not isinstance(answers, dict):
        return
    given = answers.get("user-organisation")
    if not organisation:
        raise IntakeError("your account names no organisation: an administrator must set it before you "
                          "can make referrals through the API", code="no_organisation")
    if given not in (None, "") and not same_organisation(str(given), organisation):
        raise IntakeError(f"answers.user-organisation: referrals through the API are made for your own "
                          f"organisation ({organisation}), not {str(given)[:_MAX_MESSAGE]!r}",
                          code="organisation_mismatch")
    answers["user-organisation"] = organisation


def _working_days(value: int | None) -> int:
    if value is not None:
        return value
    if has_app_context():
        return int(current_app.config.get("RG_WORKING_DAYS", DEFAULT_RG_WORKING_DAYS))
    return DEFAULT_RG_WORKING_DAYS


def submit(session: Session, payload: dict[str, Any], conversation_id: str | None, actor: str, *,
           schema: Mapping[str, Any] | None = None, now: datetime | None = None,
           rg_working_days: int | None = None) -> Case:
    """Accept a referral: validate, then create its Case in the caller's transaction (flushed).

    ``actor`` is who made the referral (``Case.submitted_by``: a web chat operator, an API caller
    or a registered SMS number) and goes into the audit trail in clear: use an id such as
    ``responder:12`` or ``user:3``, never a phone number. Raises :class:`IntakeError` and changes nothing when the
    payload is invalid or the conversation is unknown, cancelled or already submitted.
    """
    # What only a submission needs (the case chart, the outbox, statistics): imported here, so that
    # a channel starts without them (`nrm chat`'s first question; tests/test_startup_imports.py).
    from backend.outbound.outbox import on_submitted
    from backend.statistics.derived import columns as statistics_columns

    problems = validate(payload, schema)
    if problems:
        raise IntakeError(problems)

    conversation: Conversation | None = None
    if conversation_id is not None:
        conversation = get_for_update(session, Conversation, conversation_id)
        if conversation is None:
            raise IntakeError(f"conversation {conversation_id} does not exist", code="unknown_conversation")
        already = session.scalar(select(Case.id).where(Case.conversation_id == conversation_id))
        if conversation.status == "submitted" or already is not None:
            raise IntakeError("already submitted: this conversation has been made into a referral",
                              code="already_submitted")
        if conversation.status == "cancelled":
            raise IntakeError("this conversation was cancelled", code="cancelled")

    now = now or utcnow()
    answers = payload["answers"]
    route = payload["route"]
    nrm = route == "nrm"
    try:
        with session.begin_nested():
            reference = allocate(session, "NRM" if nrm else "DTN", now)
            case = Case(
                reference=reference,
                series="NRM" if nrm else "DTN",
                conversation_id=conversation_id,
                payload=payload,
                schema_version=str(payload["schema_version"]),
                route=route,
                age_route=payload["age_route"],
                fr_location=answers["fr-location"],
                organisation=answers["user-organisation"],
                submitted_by=actor,
                status=CASE_AWAITING_RG if nrm else CASE_DTN_RECORDED,
                priority=is_priority(route, payload["age_route"], payload),
                submitted_at=now,
                status_changed_at=now,
                rg_due_date=rg_due_date(now, answers["fr-location"], _working_days(rg_working_days))
                if nrm else None,
                **statistics_columns(payload, answers["user-organisation"]),
            )
            session.add(case)
            if conversation is not None:
                conversation.status = "submitted"
                conversation.submitted_at = now
                conversation.state = None  # the transcript goes once the referral is made (DESIGN §5)
            audit.record(session, actor, "referral.submitted" if nrm else "dtn.recorded", reference, {
                "route": route,
                "age_route": case.age_route,
                "fr_location": case.fr_location,
                "priority": case.priority,
                "schema_version": case.schema_version,
                "channel": conversation.channel if conversation is not None else "api",
                "organisation": case.organisation,
                "conversation": conversation_id,
            }, at=now)
            on_submitted(session, case, at=now)  # hand-offs, in this transaction (backend.outbound)
    except IntegrityError as exc:
        if conversation_id is not None:
            raise IntakeError("already submitted: this conversation has been made into a referral",
                              code="already_submitted") from exc
        raise
    return case
