"""The rate limits' in-process store (``RATELIMIT_STORAGE_URI=memory://``) without a thread per hit.

``limits``' ``MemoryStorage`` drops expired counts from a ``threading.Timer`` that it starts
10 ms after a hit whenever the last one has finished: in a server whose requests come more than
10 ms apart, every web chat request started, ran and ended a thread, about 0.7 ms of CPU
(profiled, issue 14: more than the request's own SQL). The counts are the same here; only the
clean-up differs: done in the request itself, at most once every :data:`SWEEP_EVERY_S` seconds.
Expired entries never counted anyway (each check compares times), so the sweep only bounds memory.

``backend.limits`` uses it for ``memory://``; any other store (``redis://``...) is ``limits``' own.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits.storage import MemoryStorage

SCHEME = "nrm-memory"
SWEEP_EVERY_S = 1.0


class SweptMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose expired entries are swept by the requests, not by timer threads."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = time.monotonic() + SWEEP_EVERY_S
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides the private hook
        """Called by every count: sweep now if the last sweep is old enough (one request at a time)."""
        now = time.monotonic()
        if now < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_EVERY_S
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweeping.release()


def storage_uri(configured: str) -> str:
    """The storage ``backend.limits`` gives Flask-Limiter for the configured URI."""
    return f"{SCHEME}://" if configured == "memory://" else configured
