"""``nrm serve``: the whole product under gunicorn, or werkzeug's server for development.

gunicorn runs ``--workers`` processes (``NRM_WORKERS``, default: one per CPU core), each with
``--threads`` threads (``NRM_THREADS``, default 8; the ``gthread`` worker), on ``--bind``
(``HOST``:``PORT``, default 127.0.0.1:5000). The app is built once, by the command, and the
workers fork from it (gunicorn's preload), so that a worker answers as soon as it has started
rather than importing and building everything again. No database connection crosses a fork: the
master opens none, and each worker drops the pool it inherited (``Engine.dispose(close=False)``,
SQLAlchemy's recipe for forked processes) so that it opens its own. The
``--dev`` server (werkzeug, one process, reloads nothing) is for development only and refuses to
start unless ``NRM_ENV=development``.

Before the workers start, ``PROMETHEUS_MULTIPROC_DIR`` (a temporary directory unless set) is
emptied so that ``/metrics`` adds up this run's workers only (``backend.metrics``); the log
format is ``NRM_LOG_FORMAT`` for the app's lines and gunicorn's own (``backend.request_log``).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from backend import metrics, request_log
from backend.db import get_db

TIMEOUT_SECONDS = 30
"""A worker silent for this long is restarted (no request of the product takes seconds)."""
KEEPALIVE_SECONDS = 75
"""Longer than load balancers' usual 60-second idle timeout: the balancer closes idle connections
first, so it never sends a request on a connection the server is closing."""


def default_bind() -> str:
    return f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '5000'}"


def default_workers() -> int:
    return os.cpu_count() or 1


class _Logger(GunicornLogger):
    """gunicorn's own lines (start, stop, worker restarts) in ``NRM_LOG_FORMAT`` too."""

    log_format = "text"

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(request_log.formatter(self.log_format))


class ProductServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with the settings of ``nrm serve``, serving ``app`` (built before the workers fork)."""

    def __init__(self, app: Flask, settings: dict[str, Any]) -> None:
        self.app = app
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


def serve_gunicorn(app: Flask, bind: str, workers: int, threads: int, log_format: str) -> None:
    """Run gunicorn on ``app`` until it is stopped (SIGTERM: finish the requests under way, then exit)."""
    request_log.configure_logging(log_format)
    directory, made = metrics.use_multiprocess_dir(os.environ.get(metrics.MULTIPROC_ENV) or None)
    if made:
        atexit.register(_remove_in_master, os.getpid(), directory)
    _Logger.log_format = log_format
    ProductServer(app, {**server_settings(bind, workers, threads),
                        "post_fork": lambda _arbiter, _worker: own_connections(app), "logger_class": _Logger}).run()


def server_settings(bind: str, workers: int, threads: int) -> dict[str, Any]:
    """gunicorn's settings for ``nrm serve`` but the product's hooks (``bench.startup`` serves a bare
    Flask app with exactly these, to compare starts on the same server)."""
    return {
        "bind": [bind], "workers": workers, "threads": threads, "worker_class": "gthread", "preload_app": True,
        "timeout": TIMEOUT_SECONDS, "graceful_timeout": TIMEOUT_SECONDS, "keepalive": KEEPALIVE_SECONDS,
        "accesslog": None, "errorlog": "-", "loglevel": "info",
        "proc_name": "nrm", "control_socket_disable": True,  # one fixed path per user: two servers clash
    }


def own_connections(app: Flask) -> None:
    """In a worker just forked: forget the connections the master's pool holds (without closing
    them: they are the master's), so that this process opens its own on first use."""
    get_db(app).engine.dispose(close=False)


def _remove_in_master(master: int, directory: str) -> None:
    """Remove the metrics directory when gunicorn's master exits (workers run atexit too)."""
    if os.getpid() == master:
        shutil.rmtree(directory, ignore_errors=True)


def serve_development(app: Flask, bind: str, log_format: str) -> None:
    """werkzeug's server in this process (NRM_ENV=development only; checked by the caller)."""
    from werkzeug.serving import run_simple

    request_log.configure_logging(log_format)
    host, _, port = bind.rpartition(":")
    logging.getLogger(__name__).warning("development server: never use it in production")
    run_simple(host or "127.0.0.1", int(port), app, threaded=True)
