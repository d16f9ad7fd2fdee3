"""A real ``nrm serve`` for tests: a free loopback port, and waiting until it answers."""

from __future__ import annotations

import socket
import time

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(base: str, attempts: int = 300) -> bool:
    """True once ``base``/healthz answers 200 (False after ``attempts`` tries, 0.2 s apart)."""
    for _ in range(attempts):
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return True
        except requests.ConnectionError:
            time.sleep(0.2)
    return False


GUNICORN_STOPS_WITHIN = 60
"""Seconds a gunicorn master may take to stop after SIGTERM. A worker forked a moment before the
signal can miss it (its own signal handlers are not installed yet) and is then killed at
gunicorn's graceful timeout, 30 s: a wait of exactly 30 s failed once in CI for that."""
