"""The counts a queue page shows ("110,257 cases waiting, 3,020 overdue"), bounded in cost.

Counting a queue reads its index (``ix_cases_queue_order``: an index-only scan, no payload), but
every entry of it: on a national queue of 100,000 waiting cases that is most of a page's time,
for a figure that hardly moves from one second to the next. So a count of a large queue
(``EXACT_BELOW`` cases or more) is kept for ``MAX_AGE_S`` seconds per process and shared by every
page read in that time with the same queue, filters, day and (review queue) reader; a small queue
is counted afresh on every read, as the entries shown always are.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Hashable

EXACT_BELOW = 10_000
"""Queues with fewer cases than this are counted on every page read."""
MAX_AGE_S = 10.0
"""How long a large queue's counts are reused (each process counts for itself)."""

_kept: dict[Hashable, tuple[float, tuple[int, int]]] = {}
_lock = threading.Lock()


def counts(key: Hashable, count: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    """``count()`` (total, overdue) for the queue read ``key`` names, or its large result of
    less than ``MAX_AGE_S`` ago."""
    now = time.monotonic()
    kept = _kept.get(key)
    if kept is not None and now - kept[0] < MAX_AGE_S:
        return kept[1]
    found = count()
    with _lock:
        if found[0] >= EXACT_BELOW:
            _kept[key] = (now, found)
        else:
            _kept.pop(key, None)
        for stale in [k for k, (at, _) in _kept.items() if now - at >= MAX_AGE_S]:
            del _kept[stale]
    return found
