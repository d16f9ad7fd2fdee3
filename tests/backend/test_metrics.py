"""``/metrics``: only for configured networks or the bearer token; request counts and latencies by
endpoint and status; queue depth, oldest wait and overdue counts read from the database at scrape
time; never a reference, a name or anything else of a case."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from backend import db
from backend.app import create_app
from backend.calendar import uk_date
from backend.db import utcnow
from tests.backend.casework_helpers import make_case
from tests.conftest import backend_test_config, migrate

TOKEN = "m" * 40
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metered(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(backend_test_config(tmp_path, NRM_METRICS_TOKEN=TOKEN))
    migrate(app)
    yield app
    db.get_db(app).engine.dispose()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(app: Flask) -> str:
    response = app.test_client().get("/metrics", headers=BEARER)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def test_metrics_are_refused_without_the_token_or_an_allowed_network(metered: Flask) -> None:
    client = metered.test_client()

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40}).status_code == 403
    assert client.get("/metrics", headers=BEARER).status_code == 200


def test_metrics_are_open_to_a_configured_network_only(tmp_path: Path) -> None:
    app = create_app(backend_test_config(tmp_path, NRM_METRICS_NETWORKS="10.1.0.0/16, 127.0.0.1"))
    client = app.test_client()

    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 403


def test_requests_are_counted_and_timed_by_endpoint_and_status(metered: Flask) -> None:
    client = metered.test_client()
    for _ in range(3):
        client.get("/casework/sign-in")
    client.get("/no/such/page/+447700900123")

    found = samples(scrape(metered))

    key = (("endpoint", "web_auth.sign_in"), ("method", "GET"), ("status", "200"))
    assert found[("nrm_http_requests_total", key)] == 3
    assert found[("nrm_http_requests_total", (("endpoint", "(no route)"), ("method", "GET"), ("status", "404")))] == 1
    assert found[("nrm_http_request_duration_seconds_count",
                  (("endpoint", "web_auth.sign_in"), ("method", "GET")))] == 3


def test_queue_gauges_give_depth_oldest_wait_and_overdue_by_queue_and_stage(metered: Flask) -> None:
    now = utcnow()
    with metered.app_context(), db.get_db(metered).transaction() as session:
        make_case(session, status_changed_at=now - timedelta(hours=5), rg_due_offset_days=-2)
        make_case(session, status_changed_at=now - timedelta(hours=1))
        make_case(session, "awaiting_cg", status_changed_at=now - timedelta(days=3),
                  cg_due_date=uk_date(now) - timedelta(days=1), cg_not_before=uk_date(now) - timedelta(days=5))
        make_case(session, "rg_review", status_changed_at=now - timedelta(days=2),
                  review_due_date=uk_date(now) + timedelta(days=4))
        make_case(session, "cg_positive", status_changed_at=now - timedelta(days=30))  # waits for nothing

    found = samples(scrape(metered))

    def gauge(name: str, queue: str, stage: str) -> float:
        return found[(name, (("queue", queue), ("stage", stage)))]

    assert found[("nrm_metrics_database_up", ())] == 1
    assert [gauge("nrm_queue_depth", q, s) for q, s in
            (("decision", "rg"), ("decision", "cg"), ("review", "rg"), ("review", "cg"))] == [2, 1, 1, 0]
    assert 5 * 3600 <= gauge("nrm_queue_oldest_age_seconds", "decision", "rg") < 5 * 3600 + 120
    assert 2 * 86400 <= gauge("nrm_queue_oldest_age_seconds", "review", "rg") < 2 * 86400 + 120
    assert gauge("nrm_queue_oldest_age_seconds", "review", "cg") == 0
    assert [gauge("nrm_queue_overdue", q, s) for q, s in
            (("decision", "rg"), ("decision", "cg"), ("review", "rg"), ("review", "cg"))] == [1, 1, 0, 0]


def test_metrics_hold_no_reference_or_personal_data(metered: Flask) -> None:
    with metered.app_context(), db.get_db(metered).transaction() as session:
        references = [make_case(session).reference for _ in range(3)]
    metered.test_client().get(f"/api/v1/cases/{references[0]}")

    text = scrape(metered)

    assert not any(reference in text for reference in references)
    assert "NRM-" not in text and "Quellmalz" not in text and "Zbigniew" not in text and "1990" not in text


def test_a_scrape_still_answers_when_the_database_is_down(tmp_path: Path) -> None:
    app = create_app(backend_test_config(tmp_path, NRM_METRICS_TOKEN=TOKEN,
                                         DATABASE_URL="sqlite:////nonexistent-directory/nrm.sqlite3"))
    app.test_client().get("/healthz")

    found = samples(scrape(app))

    assert found[("nrm_metrics_database_up", ())] == 0
    assert not any(name.startswith("nrm_queue") for name, _ in found)
    assert found[("nrm_http_requests_total", (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200")))] == 1
