"""How long SQLite writers of one process wait for the write lock, and whether the process is idle.

Threads (each a registered number with its own draft) send signed SMS turns through the Flask test
client of one app on a SQLite file, all at once, as gunicorn ``gthread``'s threads of one worker
do. Printed: turns a second, process CPU per turn, cores busy (CPU time / wall time: below 1 on
this single process means it sat idle), and every write ``BEGIN``'s wait: how many waited over
1 ms, their total and the longest. No HTTP, no server: the load generator's own CPU is in the
figure, the same on both sides of a comparison.

    python -m bench.writer_waits --threads 10 --turns 200
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid

from twilio.request_validator import RequestValidator

from bench.load import together

TOKEN = "bench-twilio-token"
BASE = "http://localhost"
WAITED_S = 0.001


def _timed_begins(waits: list[float]) -> None:
    """Record the wall time of every write BEGIN (``backend.db._begin_patiently``)."""
    from backend import db

    begin = db._begin_patiently

    def timed(dbapi_connection: object, mode: str) -> None:
        started = time.perf_counter()
        begin(dbapi_connection, mode)
        if mode != "DEFERRED":
            waits.append(time.perf_counter() - started)

    db._begin_patiently = timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--turns", type=int, default=200, help="turns each thread sends")
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
        phones = [f"+4477009{i:05d}" for i in range(args.threads)]
        with app.app_context(), db.get_db(app).transaction() as session:
            session.add_all(Responder(phone_e164=phone, organisation="Bench") for phone in phones)
        validator = RequestValidator(TOKEN)
        local = threading.local()

        def sms(index: int, body: str) -> None:
            if not hasattr(local, "client"):
                local.client = app.test_client()
            params = {"From": phones[index], "Body": body, "MessageSid": f"SM{uuid.uuid4().hex}", "NumMedia": "0"}
            signature = validator.compute_signature(f"{BASE}/sms/twilio", params)
            answer = local.client.post("/sms/twilio", data=params, headers={"X-Twilio-Signature": signature})
            assert answer.status_code == 200, answer.status_code

        for index in range(args.threads):  # each draft at its first question, in English
            sms(index, "hello")
            sms(index, "1")
        waits: list[float] = []
        _timed_begins(waits)

        def sender(index: int) -> None:
            for turn in range(args.turns):
                sms(index, "BACK" if turn % 2 else f"Ref {turn}")

        cpu = time.process_time()
        elapsed, errors = together(args.threads, sender)
        cpu = time.process_time() - cpu
        if errors:
            raise errors[0]
        turns = args.threads * args.turns
        waited = [wait for wait in waits if wait > WAITED_S]
        print(f"{args.threads} threads x {args.turns} SMS turns, one process, SQLite: {turns / elapsed:.0f} turns/s, "
              f"process CPU {cpu / turns * 1000:.2f} ms a turn, wall {elapsed / turns * 1000:.2f} ms a turn, "
              f"cores busy {cpu / elapsed:.2f}")
        print(f"write BEGINs: {len(waits)}, waited > {WAITED_S * 1000:g} ms: {len(waited)} "
              f"({len(waited) / len(waits):.0%}), time in BEGIN {sum(waits):.2f} s in all "
              f"({sum(waits) / elapsed / args.threads:.0%} of the threads' time), "
              f"mean wait {sum(waited) / max(1, len(waited)) * 1000:.1f} ms, longest {max(waits) * 1000:.0f} ms")
        db.get_db(app).engine.dispose()


if __name__ == "__main__":
    main()
