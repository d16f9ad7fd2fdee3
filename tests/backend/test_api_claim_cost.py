"""What an API claim (``POST /api/v1/queues/decision/claim``) costs besides its statements (issue 14,
the concurrent claimers row), and that what it keeps still holds.

``/api/v1``'s rate limit is one hit of the limits store a request (``backend.limits``), as the web
chat API's: Flask-Limiter's per-request resolution and its ``X-RateLimit-*`` headers read the
window again on every answer. The limit still refuses with 429 and ``Retry-After``, one count for
all of ``/api/v1`` (two blueprints), per client.
"""

from __future__ import annotations

import pytest
from flask import Flask

from backend import db, limit_storage, limits
from tests.backend.casework_helpers import make_case, token_for
from tests.backend.casework_helpers import make_user as make_worker
from tests.bot.conftest import make_user
from tests.bot.test_rate_limits import ATTACKER, COLLEAGUE, assert_throttled_json, client_at, limited  # noqa: F401

CLAIM = "/api/v1/queues/decision/claim"


def test_an_api_claim_is_counted_by_one_hit_of_the_rate_limit_store(app: Flask,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        token = token_for(session, make_worker(session, "caseworker"))
        make_case(session, age_route="child", rg_due_offset_days=-400)
    calls: list[str] = []
    store = limit_storage.SweptMemoryStorage
    for name in ("acquire_entry", "get_moving_window", "incr", "get"):
        real = getattr(store, name)
        monkeypatch.setattr(store, name, lambda self, *args, _real=real, _name=name, **kw: (
            calls.append(_name), _real(self, *args, **kw))[1])
    answer = app.test_client().post(CLAIM, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_json()["case"] is not None
    assert calls == ["acquire_entry"]


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
