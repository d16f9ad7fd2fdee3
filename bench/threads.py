"""Why the gunicorn gthread rows trailed the sync rows: the same turns with one thread and with eight.

``python -m bench.threads`` serves the product (``bench.app``) several ways on each database: gunicorn
sync, gunicorn gthread with one thread a worker, and gthread with ``nrm serve``'s eight
(``bench.servers.GTHREAD_THREADS``), one worker a core each time. It sends the bare endpoint, SMS
turns and web chat turns from 10 senders (``bench.turns``), in slices that take turns, and prints
for each: answers a second, the ratio to the bare endpoint, the server's CPU a request, and the
context switches its threads made a request (voluntary: a thread waited, for the GIL, a lock or
the database).

The largest number of threads is also run with its threads' plain turns at once, as before a
process ran one at a time (``bot.engine._PLAIN_TURNS``; ``bench.app.TURNS_TOGETHER``).

What it showed (issue 14): the bare endpoint costs the same CPU on every server, but turns running
at once in one process cost more than one at a time: a turn gives the GIL up at each database
call and waits to get it back while the other threads run a slice of theirs, with about twice the
context switches. Hence the lock.
"""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from bench import load, turns
from bench.app import TURNS_TOGETHER
from bench.context import Context, Database
from bench.servers import GTHREAD_THREADS, Server

SENDERS = 10
SLICES = 4
Kinds = dict[str, Callable[[int, int], load.Request]]
"""Requests to measure by name: ``make(sender, i)`` gives sender's ``i``-th (``bench.load.run``)."""


def voluntary_switches(pids: list[int]) -> int:
    """Voluntary context switches so far of every thread of ``pids`` (from ``/proc``)."""
    total = 0
    for pid in pids:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for thread in threads:
            try:
                status = Path(f"/proc/{pid}/task/{thread}/status").read_text()
            except FileNotFoundError:
                continue
            total += next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("voluntary_ctxt_switches:"))
    return total


def measure(server: Server, kinds: Kinds, seconds: float) -> list[str]:
    """One line a kind: throughput, ratio to ``bare``, server CPU and voluntary switches a request."""
    results = {kind: load.Result() for kind in kinds}
    switches = dict.fromkeys(kinds, 0)
    names = list(kinds)
    for kind in (names[which] for which in load.in_turns(len(names), SLICES)):  # as run_alternating
        before = voluntary_switches(server.pids())
        results[kind].add(load.run(server.port, SENDERS, kinds[kind], seconds / SLICES, server.cpu_seconds))
        switches[kind] += voluntary_switches(server.pids()) - before
    bare = results["bare"].throughput
    return [f"  {kind:5} {result.throughput:7,.0f}/s {result.throughput / bare:5.2f}x bare   CPU "
            f"{result.cpu_ms_per_request:5.2f} ms   {switches[kind] / max(1, len(result.latencies)):5.1f} "
            f"switches a request{f'   {result.errors} errors' if result.errors else ''}"
            for kind, result in results.items()]


def main() -> None:
    from bench.run import _databases

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases seeded into each database")
    parser.add_argument("--seconds", type=float, default=4.0, help="time each kind is sent, in all")
    parser.add_argument("--threads", default=f"1,{GTHREAD_THREADS}", help="gthread's threads a worker, each tried")
    options = parser.parse_args()
    context = Context(cases=options.cases, sqlite_cases=options.cases, seconds=options.seconds)
    with ExitStack() as stack:
        _databases(context, stack)
        for database in context.databases:
            for kind, threads, together in _servers([int(count) for count in options.threads.split(",")]):
                print(f"{database.name}, {kind}, {threads} thread{'s' if threads > 1 else ''} a worker"
                      f"{', turns at once (no lock)' if together else ''}", flush=True)
                env = {**database.env, TURNS_TOGETHER: "1"} if together else database.env
                print("\n".join(measured(database, kind, options.seconds, env, threads)), flush=True)


def measured(database: Database, kind: str, seconds: float, env: dict[str, str] | None = None,
             threads: int = GTHREAD_THREADS, extra: Kinds | None = None) -> list[str]:
    """:func:`measure` of the bare endpoint, SMS and web chat turns, and the ``extra`` kinds, on a
    ``kind`` server of ``database`` (``env``: its environment, if not the database's own), its
    drafts opened and every kind warmed first."""
    with Server(kind, env or database.env, threads) as server:
        turns.open_drafts(database, server)
        turns.warm(database, server, *(extra or {}).values())
        return measure(server, {**_kinds(database, server), **(extra or {})}, seconds)


def _servers(thread_counts: list[int]) -> list[tuple[str, int, bool]]:
    """Sync, then gthread with each number of threads, the largest also with its threads' plain
    turns at once (``bench.app.TURNS_TOGETHER``): what one turn at a time in a process gives."""
    return [("gunicorn-sync", 1, False), *(("gunicorn-gthread", count, False) for count in thread_counts),
            ("gunicorn-gthread", max(thread_counts), True)]


def _kinds(database: Database, server: Server) -> Kinds:
    return {"bare": lambda s, i: turns.BARE, "sms": lambda s, i: turns.sms_request(database, server, s),
            "chat": lambda s, i: turns.chat_request(database, s)}


if __name__ == "__main__":
    main()
