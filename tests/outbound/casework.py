"""Moving a case along its lifecycle the way the casework pages do (one transaction per action)."""

from __future__ import annotations



from flask import Flask

from backend import db, lifecycle, queues
from backend.calendar import uk_date
from backend.db import utcnow
from backend.models import Case, User
from backend.outbound import information


def act(app: Flask, action, *args, **kwargs):  # type: ignore[no-untyped-def]
    with app.app_context(), db.get_db(app).transaction() as session:
        return action(session, *args, **kwargs)


def decide(app: Flask, reference: str, user_id: int, stage: str, outcome: str) -> None:
    def run(session):  # type: ignore[no-untyped-def]
        user = session.get(User, user_id)
        queues.claim(session, reference, user)
        lifecycle.decide(session, reference, user, stage, outcome, f"{stage} {outcome}: reasons on file")
    act(app, run)


def end_recovery_now(app: Flask, reference: str) -> None:
    def run(session):  # type: ignore[no-untyped-def]
        case = lifecycle.lock_case(session, reference)
        case.cg_not_before = uk_date(utcnow())
        session.flush()
        lifecycle.end_recovery(session, reference)
    act(app, run)


def uphold(app: Flask, reference: str, user_id: int) -> None:
    act(app, lambda session: lifecycle.review(session, reference, session.get(User, user_id), "upheld",
                                              "upheld: reasons on file"))


def ask(app: Flask, reference: str, user_id: int, question: str) -> None:
    def run(session):  # type: ignore[no-untyped-def]
        user = session.get(User, user_id)
        case = session.query(Case).filter_by(reference=reference).one()
        if case.claimed_by_id != user.id:
            queues.claim(session, reference, user)
        information.ask(session, reference, user, question)
    act(app, run)


def due_dates(app: Flask, reference: str) -> tuple:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        case = session.query(Case).filter_by(reference=reference).one()
        return case.rg_due_date, case.cg_due_date


