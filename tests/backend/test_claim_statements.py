"""What one claim of ``POST /api/v1/queues/decision/claim`` sends to the database (issue 14: every
statement is server CPU and, on SQLite, time holding the write lock), and that claim-next gives a
lapsed claim's case first when it comes first in the queue.

The bearer token is checked in the statement that picks the case (``queues.claim_next_by_token``);
then the claim and its audit event: one ``WITH`` on PostgreSQL, two statements on SQLite (which has
no ``UPDATE`` in a ``WITH``); then the commit. A token that does not let a caseworker claim is
refused as everywhere else (401, 403), at once, and claims nothing. The PostgreSQL twins are in
``tests/backend/test_postgres_claims.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select

from backend import audit, auth, db, queues
from backend.db import utcnow
from backend.models import ApiToken, AuditEvent, Case
from tests.backend.casework_helpers import give_claim, make_case, make_user, token_for
from tests.backend.test_postgres_claims import _statements_of

CLAIM = "/api/v1/queues/decision/claim"


def api_claim_statements(app, listen: Any = _statements_of) -> tuple[Any, list[str], int]:
    """Two cases and a caseworker's token; the statements of the second of two API claims (the
    first records the token's use), or what ``listen`` saw of it, the references claimed and the
    caseworker's id."""
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        worker = make_user(session, "caseworker")
        worker_id, token = worker.id, token_for(session, worker)
        make_case(session, age_route="child", rg_due_offset_days=-400)
        make_case(session, age_route="child", rg_due_offset_days=-399)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    claimed = [client.post(CLAIM, headers=headers).get_json()["case"]["reference"]]
    sent = listen(database.engine, lambda: claimed.append(
        client.post(CLAIM, headers=headers).get_json()["case"]["reference"]))
    return sent, claimed, worker_id


def test_an_api_claim_on_sqlite_is_three_statements_and_the_commit(app):
    """The case picked with its chain's head, the token checked there; the claim; its audit event."""
    sent, claimed, worker_id = api_claim_statements(app)
    assert sent == ["SELECT", "UPDATE", "INSERT", "COMMIT"], sent
    assert len(set(claimed)) == 2
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        cases = session.scalars(select(Case).where(Case.reference.in_(claimed))).all()
        assert {case.claimed_by_id for case in cases} == {worker_id}
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.claimed")).all()
        assert sorted(event.chain for event in events) == sorted(claimed)
        assert all(event.actor == f"user:{worker_id}" and not event.detail["renewed"] for event in events)
        assert audit.verify(session) == []


REFUSED = {"revoked": 401, "expired": 401, "deactivated": 401, "unknown": 401, "panel": 403, "responder": 403}
"""What is wrong with the bearer token or its holder, and the answer to a claim with it."""


def refused_tokens_claim_nothing(app) -> None:
    """A case waits at the head of the queue; a claim with each token of :data:`REFUSED` gets its
    answer, and nobody's claim or audit event is written; a caseworker's token revoked after a
    claim is refused at its next claim."""
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        make_case(session, age_route="child", rg_due_offset_days=-800)
        secrets, ids = {}, []
        for kind in ("revoked", "expired", "deactivated", "panel", "responder", "kept"):
            user = make_user(session, kind if kind in ("panel", "responder") else "caseworker")
            secret, token = auth.issue_token(session, user)
            token.revoked_at = utcnow() if kind == "revoked" else None
            token.expires_at = utcnow() - timedelta(seconds=1) if kind == "expired" else token.expires_at
            user.active = kind != "deactivated"
            secrets[kind], ids = secret, ids + [user.id]
    secrets["unknown"] = auth.TOKEN_PREFIX + "x" * 43
    client = app.test_client()
    kept = {"Authorization": f"Bearer {secrets.pop('kept')}"}
    assert client.post(CLAIM, headers=kept).get_json()["case"] is not None
    with app.app_context(), database.transaction() as session:
        assert auth.revoke_token(session, kept["Authorization"].split()[1])
    secrets["revoked"] = kept["Authorization"].split()[1]  # its next claim, at once
    for kind, secret in secrets.items():
        response = client.post(CLAIM, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == REFUSED[kind], (kind, response.status_code, response.get_json())
    with app.app_context(), database.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.claimed_by_id.in_(ids[:-1]))) == 0
        assert session.scalar(select(func.count()).select_from(Case).where(Case.claimed_by_id == ids[-1])) == 1
        actors = [f"user:{user_id}" for user_id in ids]
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.actor.in_(actors))) == 1


def test_a_claim_with_a_revoked_expired_unknown_or_other_roles_token_is_refused_and_claims_nothing(app):
    refused_tokens_claim_nothing(app)


def token_use_recorded_once_a_minute(app) -> None:
    """Claims with a new token: the first records its use, the next within the minute does not."""
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        worker = make_user(session, "caseworker")
        secret = token_for(session, worker)
        for offset in (-700, -699):
            make_case(session, age_route="child", rg_due_offset_days=offset)
    client, headers = app.test_client(), {"Authorization": f"Bearer {secret}"}
    used = []
    for _ in range(2):
        assert client.post(CLAIM, headers=headers).get_json()["case"] is not None
        with app.app_context(), database.transaction(readonly=True) as session:
            used.append(session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == worker.id)))
    assert used[0] is not None and used[1] == used[0]


def test_a_claim_records_its_tokens_use_and_not_again_within_the_minute(app):
    token_use_recorded_once_a_minute(app)


def high_level_executions(engine, work) -> int:
    """How many statements ``work()`` runs through ``Connection.execute`` (each one builds an
    execution context and a result object: about 80 us of CPU more than on the cursor)."""
    executed = []

    def seen(*_args: Any) -> None:
        executed.append(1)

    event.listen(engine, "before_execute", seen)
    try:
        work()
    finally:
        event.remove(engine, "before_execute", seen)
    return len(executed)


def test_an_api_claim_runs_every_statement_on_the_cursor_not_through_connection_execute(app):
    """The token, the pick and the claim with its audit event are run on the DBAPI cursor
    (``backend.cursor_statements``): none goes through ``Connection.execute``; the claim is still
    made and audited (the PostgreSQL twin is in test_postgres_claims.py)."""
    executions, claimed, worker_id = api_claim_statements(app, high_level_executions)
    assert executions == 0
    assert len(set(claimed)) == 2
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        assert audit.verify(session) == []


def test_claim_next_takes_a_lapsed_claim_that_comes_first_in_the_queue(db_session):
    """A lapsed claim on the first case of the queue: claim-next gives that case, not the first
    unclaimed one; with the lapsed claim further down, the first unclaimed case."""
    holder, worker = make_user(db_session, "caseworker"), make_user(db_session, "caseworker")
    first = make_case(db_session, age_route="child", rg_due_offset_days=-400)
    second = make_case(db_session, age_route="child", rg_due_offset_days=-399)
    last = make_case(db_session, rg_due_offset_days=30)
    lapsed = {first: [first], last: [second, last]}  # the claim that lapses, then what claim-next gives
    for case, expected in lapsed.items():
        give_claim(case, holder, minutes=-1)
        db_session.commit()
        got = [queues.claim_next(db_session, worker) for _ in expected]
        db_session.commit()
        assert [claimed.reference for claimed in got] == [each.reference for each in expected]
    assert queues.claim_next(db_session, worker) is None
    db_session.rollback()
    assert {case.claimed_by_id for case in (first, second, last)} == {worker.id}
    assert audit.verify(db_session) == []

