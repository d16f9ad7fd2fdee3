"""A small HTTP load generator: N senders, each on its own keep-alive connection.

Two ways to send, every response 2xx or counted as an error (bodies of errors are not kept):

- :func:`run`, CLOSED loop: each sender sends its next request as soon as its previous one is
  answered, for a fixed time, so ``senders`` is the number of requests in flight. What it measures
  is throughput; its latencies are mostly the generator's own queueing (50 senders firing as fast
  as they are answered on the same cores as the server), not what a sender would see.
- :func:`run_open`, OPEN loop at a fixed arrival rate: each sender sends at ``rate`` messages a
  second on average (Poisson arrivals, seeded), whether or not the service keeps up, and a latency
  runs from the *scheduled* send time to the answer. A late generator or a queue in the server
  therefore counts in full (no "coordinated omission"): these are the latencies for percentiles.
"""

from __future__ import annotations

import http.client
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

Request = tuple[str, str, str | bytes | None, dict[str, str]]
"""method, path, body, headers"""


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0
    """Server CPU seconds spent during the run (when measured)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, status: int, took: float) -> None:
        """One answer (from any sender's thread): its latency if 2xx, else an error."""
        with self._lock:
            if 200 <= status < 300:
                self.latencies.append(took)
            else:
                self.errors += 1

    def add(self, other: Result) -> None:
        """Count ``other`` (a later run of the same requests) in this result too."""
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.cpu += other.cpu

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu / len(self.latencies) if self.latencies else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


def send(connection: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    method, path, body, headers = request
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def run(port: int, senders: int, make: Callable[[int, int], Request], seconds: float,
        cpu: Callable[[], float] | None = None, timeout: float = 120,
        on_response: Callable[[int, int, bytes], None] | None = None) -> Result:
    """``senders`` threads, sender ``s`` sending ``make(s, i)`` for its ``i``-th request, for ``seconds``;
    ``on_response(s, status, body)`` sees every answer."""
    result = Result()
    start_line = threading.Barrier(senders + 1)
    deadline = [0.0]

    def sender(s: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        start_line.wait()
        i = 0
        while time.perf_counter() < deadline[0]:
            request = make(s, i)
            began = time.perf_counter()
            try:
                status, body = send(connection, request)
            except (OSError, http.client.HTTPException):
                status, body = 0, b""
                connection.close()
            took = time.perf_counter() - began
            if on_response is not None:
                on_response(s, status, body)
            result.record(status, took)
            i += 1
        connection.close()

    result.elapsed, result.cpu = _in_threads(senders, sender, start_line, cpu,
                                             lambda began: deadline.__setitem__(0, began + seconds))
    return result


def run_alternating(port: int, senders: int, makes: Sequence[Callable[[int, int], Request]], seconds: float,
                    cpu: Callable[[], float] | None = None, slices: int = 4) -> list[Result]:
    """:func:`run` for each of ``makes``, ``seconds`` each in all, cut into ``slices`` that take turns
    (A B, then B A, ...): the result of each, summed over its slices.

    This machine's speed drifts from one minute to the next (other work, frequency), by as much as
    the margins of some rows; run one after the other, a ratio of two results would carry that
    drift, while slices in turns weigh on both alike."""
    results = [Result() for _ in makes]
    for which in in_turns(len(makes), slices):
        results[which].add(run(port, senders, makes[which], seconds / slices, cpu))
    return results


def in_turns(count: int, slices: int) -> Iterator[int]:
    """The indexes ``0 .. count - 1``, ``slices`` times, every other time backwards (A B, B A, ...):
    the order in which :func:`run_alternating` runs its kinds."""
    for index in range(slices):
        yield from range(count) if index % 2 == 0 else reversed(range(count))


def run_open(port: int, senders: int, make: Callable[[int, int], Request], rate: float, seconds: float,
             cpu: Callable[[], float] | None = None, timeout: float = 120, seed: int = 14) -> Result:
    """``senders`` threads, sender ``s`` sending ``make(s, i)`` at Poisson arrival times of ``rate``
    a second each, for ``seconds``; each latency is from the scheduled time to the full answer.

    A sender whose previous answer came after its next scheduled time sends at once, and that wait
    is part of the next latency. ``Result.elapsed`` is the scheduled window (``seconds``).
    """
    result = Result()
    start_line = threading.Barrier(senders + 1)
    origin = [0.0]

    def sender(s: int) -> None:
        arrivals = random.Random(seed * 100_003 + s)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        start_line.wait()
        scheduled = arrivals.expovariate(rate)
        i = 0
        while scheduled < seconds:
            request = make(s, i)  # built before its time, so building it is not counted
            wait = origin[0] + scheduled - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            status = _send_once_more_if_idle_closed(connection, request)
            took = time.perf_counter() - (origin[0] + scheduled)
            result.record(status, took)
            scheduled += arrivals.expovariate(rate)
            i += 1
        connection.close()

    _, result.cpu = _in_threads(senders, sender, start_line, cpu, lambda began: origin.__setitem__(0, began))
    result.elapsed = seconds
    return result


def _in_threads(senders: int, sender: Callable[[int], None], start_line: threading.Barrier,
                cpu: Callable[[], float] | None, starting: Callable[[float], None]) -> tuple[float, float]:
    """Run ``sender(s)`` in ``senders`` threads released together at ``start_line`` once
    ``starting(now)`` has set their clock: the seconds until the last ended, and the server CPU
    seconds spent meanwhile (0 without ``cpu``)."""
    threads = [threading.Thread(target=sender, args=(s,), daemon=True) for s in range(senders)]
    for thread in threads:
        thread.start()
    cpu_before = cpu() if cpu else 0.0
    began = time.perf_counter()
    starting(began)
    start_line.wait()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, (cpu() - cpu_before) if cpu else 0.0


def _send_once_more_if_idle_closed(connection: http.client.HTTPConnection, request: Request) -> int:
    """The status of ``request``, 0 on failure. A keep-alive connection the server closed while
    idle (gunicorn keeps one 2 s; open-loop senders pause longer) fails before the request is read:
    that one is sent again on a new connection, as any HTTP client does."""
    for attempt in (1, 2):
        try:
            return send(connection, request)[0]
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            connection.close()
            if attempt == 2:
                return 0
        except (OSError, http.client.HTTPException):
            connection.close()
            return 0
    return 0


def together(count: int, work: Callable[[int], None]) -> tuple[float, list[BaseException]]:
    """Run ``work(index)`` in ``count`` threads released at the same instant: the seconds until the
    last one finished, and the errors they raised (so a bench reports failures instead of hanging)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count + 1)

    def guarded(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:  # noqa: BLE001 - returned to the caller
            errors.append(error)

    workers = [threading.Thread(target=guarded, args=(index,)) for index in range(count)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, errors
