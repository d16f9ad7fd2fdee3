"""How SQLite's write lock passes from writer to writer: is it left free while writers wait?

Like gunicorn ``gthread`` (``--processes 2 --threads 8``) or ``sync`` (``--processes 2 --threads 1``):
processes forked from one app on a SQLite file, each with threads (each a registered number with its
own draft) sending signed SMS turns through the Flask test client, all at once. Every write
transaction's times are kept (asked for the lock, got it, committed); printed: turns a second,
process CPU per turn, how many write BEGINs waited over 1 ms, and, at each hand-over where a writer
was already waiting, how long the lock sat free before the next one had it: the time lost to
SQLite's busy handler sleeping (1, 2, 5, 10 ... 100 ms steps) rather than waking the waiter. No
HTTP, no server: the load generator's own CPU is in the CPU figure, the same in any comparison.

    python -m bench.writer_waits --processes 2 --threads 8 --turns 100
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Engine

from twilio.request_validator import RequestValidator

from bench.load import together

TOKEN = "bench-twilio-token"
BASE = "http://localhost"
WAITED_S = 0.001

Held = tuple[float, float, float]
"""A write transaction: when it asked for the write lock, got it and committed (``time.time()``)."""


def _record_write_transactions(engine: Engine, held: list[Held]) -> None:
    """Keep :data:`Held` times of every write transaction on ``engine`` (``BEGIN`` other than
    ``DEFERRED``, by ``backend.db._begin_patiently``; the end once the DBAPI commit or rollback
    returned)."""
    from backend import db

    begin = db._begin_patiently
    began: dict[int, tuple[float, float]] = {}

    def timed(dbapi_connection: object, mode: str) -> None:
        asked = time.time()
        begin(dbapi_connection, mode)
        if mode != "DEFERRED":
            began[id(dbapi_connection)] = (asked, time.time())

    def ending(end: Callable[[Any], None]) -> Callable[[Any], None]:
        def ended(pooled: Any) -> None:  # the pool's proxy of the DBAPI connection
            end(pooled)
            times = began.pop(id(pooled.dbapi_connection), None)
            if times is not None:
                held.append((*times, time.time()))
        return ended

    db._begin_patiently = timed
    engine.dialect.do_commit = ending(engine.dialect.do_commit)
    engine.dialect.do_rollback = ending(engine.dialect.do_rollback)


def _lost_at_handovers(held: list[Held]) -> list[float]:
    """At each hand-over where the next writer had asked before the last one committed: how long
    the lock sat free between them."""
    ordered = sorted(held, key=lambda times: times[1])
    return [max(0.0, nxt[1] - last[2]) for last, nxt in zip(ordered, ordered[1:]) if nxt[0] < last[2]]


def _held_time(held: list[Held]) -> float:
    """Seconds some writer held the lock (the union of the transactions: the times each process
    took overlap by the moments between a release and its recording)."""
    total, until = 0.0, 0.0
    for _, got, end in sorted(held, key=lambda times: times[1]):
        total += max(0.0, end - max(got, until))
        until = max(until, end)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads of each process")
    parser.add_argument("--turns", type=int, default=100, help="turns each thread sends")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        os.environ.update(NRM_INSTANCE_PATH=instance, NRM_ENV="development")
        from backend import db
        from backend.cli import upgrade_database
        from backend.models import Responder
        from bot.app import create_app

        app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE,
                          "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite3"})
        upgrade_database(app)
        phones = [f"+4477009{i:05d}" for i in range(args.processes * args.threads)]
        with app.app_context(), db.get_db(app).transaction() as session:
            session.add_all(Responder(phone_e164=phone, organisation="Bench") for phone in phones)
        validator = RequestValidator(TOKEN)
        local = threading.local()

        def sms(sender: int, body: str) -> None:
            if not hasattr(local, "client"):
                local.client = app.test_client()
            params = {"From": phones[sender], "Body": body, "MessageSid": f"SM{uuid.uuid4().hex}", "NumMedia": "0"}
            signature = validator.compute_signature(f"{BASE}/sms/twilio", params)
            answer = local.client.post("/sms/twilio", data=params, headers={"X-Twilio-Signature": signature})
            assert answer.status_code == 200, answer.status_code

        for sender in range(len(phones)):  # each draft at its first question, in English
            sms(sender, "hello")
            sms(sender, "1")
        db.get_db(app).engine.dispose()  # each process opens its own connections
        start_at = time.time() + 2.0
        children = []
        for process in range(args.processes):
            pid = os.fork()
            if pid == 0:
                held: list[Held] = []
                _record_write_transactions(db.get_db(app).engine, held)
                time.sleep(max(0.0, start_at - time.time()))
                cpu = time.process_time()
                _, errors = together(args.threads, lambda thread: [
                    sms(process * args.threads + thread, "BACK" if turn % 2 else f"Ref {turn}")
                    for turn in range(args.turns)])
                Path(instance, f"{process}.json").write_text(json.dumps(
                    {"held": held, "cpu": time.process_time() - cpu, "errors": [repr(e) for e in errors]}))
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        found = [json.loads(Path(instance, f"{process}.json").read_text()) for process in range(args.processes)]
        held = [tuple(times) for child in found for times in child["held"]]
        errors = [error for child in found for error in child["errors"]]
        if errors:
            raise SystemExit(f"errors: {errors[:3]}")
        turns = args.processes * args.threads * args.turns
        elapsed = max(times[2] for times in held) - start_at
        cpu = sum(child["cpu"] for child in found)
        waits = [got - asked for asked, got, _ in held]
        lost = _lost_at_handovers(held)
        print(f"{args.processes} processes x {args.threads} threads x {args.turns} SMS turns, SQLite: "
              f"{turns / elapsed:.0f} turns/s, process CPU {cpu / turns * 1000:.2f} ms a turn, "
              f"cores busy {cpu / elapsed:.2f}")
        print(f"write transactions: {len(held)}; BEGINs that waited > {WAITED_S * 1000:g} ms: "
              f"{sum(wait > WAITED_S for wait in waits)}, longest wait {max(waits) * 1000:.0f} ms; "
              f"lock held {_held_time(held) / elapsed:.0%} of the time")
        print(f"hand-overs to a writer already waiting: {len(lost)}; lock left free meanwhile "
              f"{sum(lost):.2f} s in all ({sum(lost) / elapsed:.0%} of the time), "
              f"mean {sum(lost) / max(1, len(lost)) * 1000:.2f} ms, longest {max(lost, default=0) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
