"""What an API claim (``POST /api/v1/queues/decision/claim``) costs besides its statements (issue 14,
the concurrent claimers row), and that what it keeps still holds.

``/api/v1``'s rate limit is one hit of the limits store a request (``backend.limits``), as the web
chat API's: Flask-Limiter's per-request resolution and its ``X-RateLimit-*`` headers read the
window again on every answer. The limit still refuses with 429 and ``Retry-After``, one count for
all of ``/api/v1`` (two blueprints), per client. The claim itself runs on a connection of its own,
not through an ORM session.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import audit, db, limits
from backend.models import AuditEvent, Case
from tests.backend.casework_helpers import make_case, token_for
from tests.backend.casework_helpers import make_user as make_worker
from tests.bot.conftest import make_user
from tests.bot.test_rate_limits import ATTACKER, COLLEAGUE, assert_throttled_json, client_at, limited  # noqa: F401

CLAIM = "/api/v1/queues/decision/claim"


def test_an_api_claim_is_counted_by_one_hit_of_the_rate_limit_store(app: Flask,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """One ``hit`` of the limiter's strategy; the window is not read back (for headers) as well."""
    with app.app_context(), db.get_db(app).transaction() as session:
        token = token_for(session, make_worker(session, "caseworker"))
        make_case(session, age_route="child", rg_due_offset_days=-400)
    strategy = app.extensions[limits.EXTENSION].limiter
    asked: list[str] = []
    for name in ("hit", "test", "get_window_stats"):
        monkeypatch.setattr(strategy, name, partial(_noted, getattr(strategy, name), name, asked))
    answer = app.test_client().post(CLAIM, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_json()["case"] is not None
    assert asked == ["hit"]


def _noted(real: Callable[..., Any], name: str, asked: list[str], *args: Any, **kwargs: Any) -> Any:
    asked.append(name)
    return real(*args, **kwargs)


def test_the_api_limit_is_one_count_for_both_api_blueprints_per_client(limited: Flask) -> None:  # noqa: F811
    """Casework routes and the referral intake (another blueprint) share ``API_RATE_LIMIT``
    (4 a minute here); another client still has its own."""
    token = make_user(limited, "cw@example.org", "caseworker")
    client, other = client_at(limited, ATTACKER), client_at(limited, COLLEAGUE)
    headers = {"Authorization": f"Bearer {token}"}
    assert [client.post(CLAIM, headers=headers).status_code for _ in range(4)] == [200] * 4
    refused = client.post("/api/v1/referrals", json={}, headers=headers)
    assert_throttled_json(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "X-RateLimit-Remaining" not in refused.headers
    assert other.post(CLAIM, headers=headers).status_code == 200


def test_flask_limiter_resolves_no_limit_for_an_api_claim_but_still_for_sign_in(app: Flask,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """``/api/v1`` is counted by its own hook: Flask-Limiter's resolution of the route's limits
    (route, blueprint, defaults, exemptions) is skipped, while sign-in keeps its limits."""
    with app.app_context(), db.get_db(app).transaction() as session:
        token = token_for(session, make_worker(session, "caseworker"))
        make_case(session, age_route="child", rg_due_offset_days=-400)
    manager = app.extensions[limits.EXTENSION].limit_manager
    resolved: list[str | None] = []
    real = manager.resolve_limits
    monkeypatch.setattr(manager, "resolve_limits", lambda _app, endpoint, *args: (
        resolved.append(endpoint), real(_app, endpoint, *args))[1])
    client = app.test_client()
    assert client.post(CLAIM, headers={"Authorization": f"Bearer {token}"}).get_json()["case"] is not None
    assert resolved == []
    assert client.get("/casework/sign-in").status_code == 200
    assert set(resolved) == {limits.SIGN_IN_ENDPOINT}


def test_an_api_claim_needs_no_orm_session_and_is_committed_and_audited(app: Flask,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim runs on a connection of its own (a session's transaction bookkeeping cost ~0.3 ms
    of CPU a claim); it is still committed with its audit event, and with nothing left to claim
    the ordinary answer comes (through the session)."""
    with app.app_context(), db.get_db(app).transaction() as session:
        worker = make_worker(session, "caseworker")
        worker_id, token = worker.id, token_for(session, worker)
        reference = make_case(session, age_route="child", rg_due_offset_days=-400).reference
    sessions_used: list[int] = []
    real = Session.connection
    monkeypatch.setattr(Session, "connection", lambda self, *args, **kw: (
        sessions_used.append(1), real(self, *args, **kw))[1])
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    claimed = client.post(CLAIM, headers=headers).get_json()["case"]
    assert claimed["reference"] == reference and claimed["claimed_by"] == f"user:{worker_id}"
    assert sessions_used == []
    monkeypatch.setattr(Session, "connection", real)
    none_left = client.post(CLAIM, headers=headers)
    assert none_left.status_code == 200 and none_left.get_json()["case"] is None
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case.claimed_by_id == worker_id
        events = session.scalars(select(AuditEvent).where(AuditEvent.chain == reference)).all()
        assert [(event.action, event.actor) for event in events] == [("case.claimed", f"user:{worker_id}")]
        assert audit.verify(session) == []


def test_an_api_claim_is_answered_as_json_without_flasks_json_provider(app: Flask,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim's answer is written by orjson (``backend.crypto.json_bytes``), as the web chat's:
    Flask's ``jsonify`` cost the claim about three times as much. The client reads the same JSON."""
    with app.app_context(), db.get_db(app).transaction() as session:
        worker = make_worker(session, "caseworker")
        token = token_for(session, worker)
        reference = make_case(session, age_route="child", rg_due_offset_days=-400).reference
        worker_id = worker.id
    asked: list[str] = []
    monkeypatch.setattr(app.json, "response", partial(_noted, app.json.response, "response", asked))
    monkeypatch.setattr(app.json, "dumps", partial(_noted, app.json.dumps, "dumps", asked))
    answer = app.test_client().post(CLAIM, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    case = answer.get_json()["case"]
    assert case["reference"] == reference and case["claimed_by"] == f"user:{worker_id}"
    assert case["claim_expires_at"] is not None
    assert asked == []
