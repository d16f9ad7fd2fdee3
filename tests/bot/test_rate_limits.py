"""Rate limits per client (backend.limits): sign-in, the chat API, resume codes and /api/v1 answer
429 with Retry-After and a translated message; nobody can lock a named caseworker out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend import db
from bot.app import create_app
from tests.backend.test_web_auth import PASSWORD, SIGN_IN, add_user, csrf_token
from tests.bot.conftest import make_user
from tests.bot.sms_support import ENV_KEYS
from tests.conftest import backend_test_config, migrate

ATTACKER = "203.0.113.7"
COLLEAGUE = "198.51.100.20"
LOW_LIMITS = {
    "SIGN_IN_RATE_LIMIT": "10 per 10 minutes",
    "SIGN_IN_ACCOUNT_RATE_LIMIT": "3 per 15 minutes",
    "CHAT_RATE_LIMIT": "5 per minute",
    "RESUME_RATE_LIMIT": "3 per 10 minutes",
    "API_RATE_LIMIT": "4 per minute",
}


@pytest.fixture
def limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The whole product with low limits (every other test runs with very high ones)."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    app = create_app(backend_test_config(tmp_path, **LOW_LIMITS))
    migrate(app)
    yield app
    db.get_db(app).engine.dispose()


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client: FlaskClient, email: str, password: str = "wrong", **headers: str) -> Any:
    token = csrf_token(client)
    return client.post(SIGN_IN, data={"csrf_token": token, "email": email, "password": password},
                       headers=headers)


def assert_throttled_json(response: Any, language: str = "en") -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["retry_after_minutes"] >= 1 and body["language"] == language
    assert body["error"]


def test_sign_in_answers_429_with_retry_after_after_too_many_failures_from_one_client(limited: Flask) -> None:
    add_user(limited, "cw@example.org", "caseworker")
    attacker = client_at(limited, ATTACKER)
    for _ in range(3):
        assert attempt(attacker, "cw@example.org").status_code == 400
    refused = attempt(attacker, "cw@example.org", PASSWORD)  # even the right password, from here
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    html = refused.get_data(as_text=True)
    assert "Too many attempts" in html and 'class="govuk-template' in html
    assert "For security, wait 15 minutes before you try again." in html
    assert refused.headers.get("Cache-Control") == "no-store"


def test_the_sign_in_throttle_page_is_translated(limited: Flask) -> None:
    attacker = client_at(limited, ATTACKER)
    for _ in range(3):
        attempt(attacker, "cw@example.org", **{"Accept-Language": "cy"})
    html = attempt(attacker, "cw@example.org", **{"Accept-Language": "cy"}).get_data(as_text=True)
    assert 'lang="cy"' in html and "Too many attempts" not in html


def test_thirty_accounts_one_attempt_each_from_one_client_are_throttled(limited: Flask) -> None:
    attacker = client_at(limited, ATTACKER)
    statuses = [attempt(attacker, f"person{n}@example.org").status_code for n in range(30)]
    assert statuses[:10] == [400] * 10
    assert set(statuses[10:]) == {429}


def test_a_named_user_still_signs_in_from_another_client_while_an_attacker_is_throttled(limited: Flask) -> None:
    add_user(limited, "cw@example.org", "caseworker")
    attacker = client_at(limited, ATTACKER)
    for _ in range(10):
        attempt(attacker, "cw@example.org")
    assert attempt(attacker, "cw@example.org", PASSWORD).status_code == 429
    colleague = client_at(limited, COLLEAGUE)
    signed_in = attempt(colleague, "cw@example.org", PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/casework/"
    assert colleague.get("/casework/").status_code == 200


def test_successful_sign_ins_do_not_count_against_a_shared_office_address(limited: Flask) -> None:
    office = client_at(limited, COLLEAGUE)
    for n in range(15):
        add_user(limited, f"staff{n}@example.org", "caseworker")
        browser = client_at(limited, COLLEAGUE)
        assert attempt(browser, f"staff{n}@example.org", PASSWORD).status_code == 302
    assert attempt(office, "staff0@example.org", PASSWORD).status_code == 302


def test_the_chat_api_answers_429_with_retry_after(limited: Flask) -> None:
    token = make_user(limited, "op@example.org", "operator")
    client = client_at(limited, ATTACKER)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "pl"}
    statuses = [client.get("/api/chat/conversations", headers=headers).status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = client.post("/api/chat/conversations", json={"language": "en"}, headers=headers)
    assert_throttled_json(refused, language="pl")
    assert "Too many requests" not in refused.get_json()["error"]  # in Polish
    other = client_at(limited, COLLEAGUE)  # another client is not affected
    assert other.get("/api/chat/conversations", headers=headers).status_code == 200


def test_resume_codes_answer_429_with_retry_after_per_client(limited: Flask) -> None:
    client = client_at(limited, ATTACKER)
    for n in range(3):  # a different operator each time: the per-operator throttle never trips
        token = make_user(limited, f"op{n}@example.org", "operator")
        response = client.post("/api/chat/resume", json={"code": "ABCD-2345"},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 400
    token = make_user(limited, "op9@example.org", "operator")
    refused = client.post("/api/chat/resume", json={"code": "ABCD-2345"},
                          headers={"Authorization": f"Bearer {token}"})
    assert_throttled_json(refused)
    assert "Too many requests" in refused.get_json()["error"]


def test_the_json_api_answers_429_with_retry_after(limited: Flask) -> None:
    token = make_user(limited, "cw@example.org", "caseworker")
    client = client_at(limited, ATTACKER)
    headers = {"Authorization": f"Bearer {token}"}
    assert [client.get("/api/v1/queues/decision", headers=headers).status_code for _ in range(4)] == [200] * 4
    assert_throttled_json(client.get("/api/v1/stats", headers=headers))  # one count for all of /api/v1


def test_twilios_webhook_is_never_rate_limited(limited: Flask) -> None:
    twilio = client_at(limited, ATTACKER)
    statuses = {twilio.post("/sms/twilio", data={"From": "+447700900999", "Body": "hi",
                                                 "MessageSid": f"SM{n:032d}"}).status_code
                for n in range(20)}
    assert 429 not in statuses


def test_behind_a_trusted_proxy_each_real_client_is_counted_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    app = create_app(backend_test_config(tmp_path, TRUSTED_PROXIES=1, **LOW_LIMITS))
    migrate(app)
    try:
        balancer = "10.0.0.1"
        attacker = client_at(app, balancer)
        for _ in range(10):
            attempt(attacker, "x@example.org", **{"X-Forwarded-For": ATTACKER})
        assert attempt(attacker, "x@example.org", **{"X-Forwarded-For": ATTACKER}).status_code == 429
        colleague = client_at(app, balancer)
        assert attempt(colleague, "x@example.org", **{"X-Forwarded-For": COLLEAGUE}).status_code == 400
    finally:
        db.get_db(app).engine.dispose()


def test_a_counted_request_starts_no_thread(limited: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """``limits``' memory store started a clean-up thread after a counted request whenever the
    last one had ended (about 0.7 ms of CPU a web chat request, issue 14); the counts are kept
    without one (``backend.limit_storage``)."""
    import threading
    import time

    token = make_user(limited, "op@example.org", "operator")
    client = client_at(limited, ATTACKER)
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counting(thread: threading.Thread) -> None:
        started.append(thread)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting)
    for _ in range(3):
        time.sleep(0.03)  # longer than the store's 10 ms timer: each request would start another
        assert client.get("/api/chat/conversations", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert started == []


def test_expired_counts_are_swept_from_the_memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the timer thread, what has expired is still dropped (by a later request), so the
    store's memory stays bounded by the limits' windows."""
    import time

    from limits import parse
    from limits.strategies import MovingWindowRateLimiter

    from backend import limit_storage
    from limits.storage import storage_from_string

    store = storage_from_string(limit_storage.storage_uri("memory://"))
    assert isinstance(store, limit_storage.SweptMemoryStorage)
    limiter = MovingWindowRateLimiter(store)
    per_second = parse("2 per 1 second")
    assert limiter.hit(per_second, "client") and limiter.hit(per_second, "client")
    assert not limiter.hit(per_second, "client")  # still counted: refused
    later = time.monotonic() + limit_storage.SWEEP_EVERY_S + 1
    monkeypatch.setattr(limit_storage.time, "monotonic", lambda: later)
    time.sleep(1.1)  # the entries' own clock (time.time) passes the window
    assert limiter.hit(per_second, "client")  # the window has passed: counted again, and swept
    assert len(store.events[per_second.key_for("client")]) == 1  # the two expired entries are gone


def test_another_configured_store_is_left_to_limits() -> None:
    from backend.limit_storage import storage_uri

    assert storage_uri("redis://cache:6379") == "redis://cache:6379"
