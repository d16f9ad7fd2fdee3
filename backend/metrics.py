"""Prometheus metrics at ``GET /metrics`` (prometheus-client): requests, latencies, queues, jobs.

Request metrics, counted by ``backend.request_log`` for every request, labelled by the Flask
endpoint (``webchat.post_message``; ``(no route)`` for a 404 no rule matched), never by URL:

- ``nrm_http_requests_total{endpoint, method, status}``
- ``nrm_http_request_duration_seconds{endpoint, method}`` (histogram)

Gauges read from the database when Prometheus scrapes (:class:`DatabaseGauges`), in one pass
over the partial index of waiting cases (an index-only scan: closed cases cost nothing):

- ``nrm_queue_depth{queue="decision"|"review", stage="rg"|"cg"}``: cases waiting;
- ``nrm_queue_oldest_age_seconds{queue, stage}``: how long the longest-waiting one has waited (0
  when none waits);
- ``nrm_queue_overdue{queue, stage}``: waiting cases past their target date;
- ``nrm_metrics_database_up``: 1, or 0 when the database did not answer (the gauges above are
  then left out).

Other parts add their own gauges with :func:`add_gauges` (``backend.jobs`` adds each job's last
success). **Extension point for the outbox**: when the outbox table exists, its module registers
a :data:`GaugeSource` giving ``nrm_outbox_backlog`` (messages not yet sent) and
``nrm_outbox_oldest_age_seconds``, counted through an index on its status column, the same way.

Nothing here is personal or identifies a case: counts, ages and labels from fixed lists only.

Several processes: under gunicorn every worker counts its own requests; ``nrm serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at an emptied directory before the workers start
(:func:`use_multiprocess_dir`), the workers write their counts there, and whichever worker
answers a scrape adds them all up.

Who may read it: callers from ``NRM_METRICS_NETWORKS`` (addresses or networks, none by
default; the client address as ``TRUSTED_PROXIES`` makes it) or with ``Authorization: Bearer
<NRM_METRICS_TOKEN>``. Everyone else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import case as sql_case, func, select, text
from sqlalchemy.orm import Session

from backend import db
from backend.calendar import uk_date
from backend.lifecycle import DECISION_STATUSES, REVIEW_STATUSES, STAGE_OF
from backend.models import WAITING, WAITING_STATUSES, Case
from backend.queues import DUE_COLUMNS

EXTENSION = "nrm_metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

GaugeSource = Callable[[Session, datetime], Iterable[Metric]]
"""Reads gauges in the scrape's read-only transaction, at ``now``."""

bp = Blueprint("metrics", __name__)


@dataclass
class AppMetrics:
    """The request metrics of one app and the gauge sources read at each scrape."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    gauge_sources: list[GaugeSource]


def init_metrics(app: Flask) -> None:
    """Request metrics, the queue gauges and the ``/metrics`` endpoint for ``app``."""
    registry = CollectorRegistry()
    app.extensions[EXTENSION] = AppMetrics(
        registry=registry,
        requests=Counter("nrm_http_requests", "HTTP requests answered, by endpoint, method and status.",
                         ["endpoint", "method", "status"], registry=registry),
        latency=Histogram("nrm_http_request_duration_seconds", "Time to answer HTTP requests, by endpoint.",
                          ["endpoint", "method"], registry=registry),
        gauge_sources=[queue_gauges],
    )
    app.register_blueprint(bp)


def add_gauges(app: Flask, source: GaugeSource) -> None:
    """Read ``source``'s gauges from the database at every scrape (see the module docs)."""
    app.extensions[EXTENSION].gauge_sources.append(source)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request of the current app."""
    metrics: AppMetrics = current_app.extensions[EXTENSION]
    metrics.requests.labels(endpoint, method, str(status)).inc()
    metrics.latency.labels(endpoint, method).observe(seconds)


# -- the gauges read at scrape time ---------------------------------------------------------------

QUEUE_OF = {**{status: "decision" for status in DECISION_STATUSES},
            **{status: "review" for status in REVIEW_STATUSES}}
assert set(QUEUE_OF) == set(WAITING_STATUSES), "models.WAITING_STATUSES is out of date"


def queue_gauges(session: Session, now: datetime) -> Iterator[Metric]:
    """Depth, oldest wait and overdue count of each queue and stage: one pass over the partial
    index of waiting cases (``ix_cases_waiting``), which holds every column read here."""
    statuses = list(QUEUE_OF)
    due = sql_case(*((Case.status == status, DUE_COLUMNS[status]) for status in statuses))
    rows = session.execute(
        select(Case.status, func.count(), func.min(Case.status_changed_at),
               func.count().filter(due < uk_date(now)))
        .where(text(WAITING)).group_by(Case.status))
    found = {status: (count, since, late) for status, count, since, late in rows}
    labels = ["queue", "stage"]
    depth = GaugeMetricFamily("nrm_queue_depth", "Cases waiting, by queue and stage.", labels=labels)
    oldest = GaugeMetricFamily("nrm_queue_oldest_age_seconds",
                               "How long the longest-waiting case has waited (0 when none waits).", labels=labels)
    overdue = GaugeMetricFamily("nrm_queue_overdue", "Waiting cases past their target date.", labels=labels)
    for status in statuses:
        count, since, late = found.get(status, (0, None, 0))
        key = [QUEUE_OF[status], STAGE_OF[status]]
        depth.add_metric(key, count)
        oldest.add_metric(key, max(0.0, (now - since).total_seconds()) if since is not None else 0.0)
        overdue.add_metric(key, late)
    return iter((depth, oldest, overdue))


class DatabaseGauges:
    """A Prometheus collector running every gauge source of an app in one read-only transaction."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("nrm_metrics_database_up", "1 when the gauges could be read from the database.")
        try:
            with db.get_db(self.app).transaction(readonly=True) as session:
                now = db.utcnow()
                families = [family for source in self.app.extensions[EXTENSION].gauge_sources
                            for family in source(session, now)]
        except Exception:  # noqa: BLE001 - a scrape still answers; the type is in request_guards' style
            self.app.logger.warning("metrics: the database gauges could not be read")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


# -- the endpoint ------------------------------------------------------------------------------------


def _may_read() -> bool:
    config = current_app.config
    token = config.get("NRM_METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return True
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(client in network for network in config.get("NRM_METRICS_NETWORKS") or ())


@bp.get("/metrics")
def metrics() -> Any:
    """The Prometheus text format, for callers allowed by :func:`_may_read`."""
    if not _may_read():
        abort(403)
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(current_app.extensions[EXTENSION].registry)
    registry.register(DatabaseGauges(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


# -- several processes ---------------------------------------------------------------------------------


def use_multiprocess_dir(directory: str | None) -> tuple[str, bool]:
    """Count in ``directory`` (a new temporary one when None) from now on, emptied first; returns
    it and whether it was made here (so that the caller removes it at the end).

    Call it before the worker processes start and before any request is counted:
    prometheus-client reads ``PROMETHEUS_MULTIPROC_DIR`` once, when it is imported, so its value
    class is chosen again here. (An app built earlier, as ``nrm serve`` builds it before gunicorn
    forks, is fine: its request metrics have labels, and each labelled value is made at its first
    count, in the worker.)
    """
    made = directory is None
    path = Path(directory or tempfile.mkdtemp(prefix="nrm-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # counts of an earlier run would be added to this one's
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    values.ValueClass = values.get_value_class()
    return str(path), made
