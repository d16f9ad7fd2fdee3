"""One log line per request, and the log format of the server (``NRM_LOG_FORMAT=json|text``).

Each request is logged once, when its response is ready, by the ``nrm.requests`` logger: method,
the route's *rule* (``/api/chat/conversations/<conversation_id>/messages``, never the URL asked
for: a URL can carry what someone typed), the Flask endpoint, status, duration in milliseconds and
a request id. Nothing else of the request is logged: no query string, no body, no client address,
no user. The request id is the load balancer's ``X-Request-ID`` when it sends a plausible one
(letters, digits, ``.``, ``_``, ``-``; 8 to 64), else a new one; it is sent back in
``X-Request-ID`` and added to every other line logged while the request runs, so a failure
(``backend.request_guards``) can be matched with its request. Health checks and ``/metrics`` are
logged at DEBUG unless they fail, so probes every few seconds do not drown the log.

The same hook feeds the request metrics (``backend.metrics``).

:func:`configure_logging` (called by ``nrm serve``) sends every logger to stderr in the chosen
format; with ``json`` each line is one JSON object with ``time``, ``level``, ``logger`` and
``message`` plus the fields above.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import IO, Any

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from backend import metrics

LOGGER = logging.getLogger("nrm.requests")
REQUEST_ID_HEADER = "X-Request-ID"
QUIET_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "metrics.metrics"})
UNMATCHED = "(no route)"
"""The route of a request no rule matched (a 404): its URL is never logged."""
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_STARTED = "nrm_request_started"
QUIET_LOGGERS = ("werkzeug", "alembic.runtime.migration", "alembic.runtime.plugins")
"""werkzeug's access lines carry raw URLs; Alembic says which dialect it uses at every readiness
check, and lists its plugins at the first one."""
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def init_request_log(app: Flask) -> None:
    """Time and log every request of ``app`` (register before any other request hook)."""
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    setattr(g, _STARTED, time.perf_counter())
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex


def route_rule() -> str:
    """The rule of the request's route, or :data:`UNMATCHED`."""
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED


def _finish(response: Any) -> Any:
    started = g.get(_STARTED)
    if started is None:  # an app whose own hooks answered before this one ran: nothing to time
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or UNMATCHED
    metrics.observe_request(endpoint, request.method, response.status_code, seconds)
    quiet = endpoint in QUIET_ENDPOINTS and response.status_code < 400
    fields = {"method": request.method, "route": route_rule(), "endpoint": endpoint,
              "status": response.status_code, "duration_ms": round(seconds * 1000, 1)}
    LOGGER.log(logging.DEBUG if quiet else logging.INFO, "%(method)s %(route)s %(status)s %(duration_ms)sms",
               fields, extra=fields)
    response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record logged while a request runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and "request_id" in g:
            record.request_id = g.request_id
        return True


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``NRM_LOG_FORMAT``: ``json`` (one object a line) or ``text``."""
    if log_format == "json":
        return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                             rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
    return logging.Formatter(TEXT_FORMAT)


def handler(log_format: str, stream: IO[str]) -> logging.Handler:
    """A handler writing to ``stream`` in ``log_format``, with request ids."""
    made = logging.StreamHandler(stream)
    made.setFormatter(formatter(log_format))
    made.addFilter(RequestIdFilter())
    return made


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send every log record to stderr in ``log_format``, replacing the root's handlers."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format, sys.stderr))
    root.setLevel(level)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
