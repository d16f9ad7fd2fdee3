"""SMS and web chat turns from many senders at once, next to a bare Flask endpoint.

Each sender (a thread with its own HTTP connection; distinct registered numbers, distinct
operators) has a draft at its first question and sends ``--turns`` messages that answer it and go
back, one after the other, while all the others do the same. Printed per endpoint: requests a
second over the whole run, p50 and p99 latency, and the throughput as a fraction of the bare
endpoint's under the same load. One threaded werkzeug server on loopback, as ``bench.run``.

    python -m bench.concurrent_turns --senders 10 50
    python -m bench.concurrent_turns --senders 10 --database-url postgresql+psycopg://...

A PostgreSQL URL gets a fresh schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import statistics
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from bench.load import together

TOKEN = "bench-twilio-token"
PORT = 5098


@contextmanager
def _database(url: str | None, instance: str) -> Iterator[str]:
    """SQLite in the instance folder, or a fresh schema of the PostgreSQL database at ``url``."""
    if not url:
        yield f"sqlite:///{instance}/bench.sqlite3"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    schema = f"nrm_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _run(threads: int, turns: int, call: Callable[[int, int], None]) -> tuple[float, list[float]]:
    """Every thread makes ``turns`` calls at once with the others: (requests/s, latencies)."""
    latencies: list[float] = []

    def work(index: int) -> None:
        mine = []
        try:
            for turn in range(turns):
                start = time.perf_counter()
                call(index, turn)
                mine.append(time.perf_counter() - start)
        finally:
            latencies.extend(mine)

    elapsed, errors = together(threads, work)
    if errors:
        raise errors[0]
    return len(latencies) / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--senders", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    most = max(args.senders)

    with tempfile.TemporaryDirectory() as instance, _database(args.database_url, instance) as url:
        os.environ.update(NRM_INSTANCE_PATH=instance, NRM_ENV="development")
        from backend import auth, db
        from backend.cli import upgrade_database
        from backend.models import Responder
        from bot.app import create_app

        app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": f"http://127.0.0.1:{PORT}",
                          "DATABASE_URL": url, "CHAT_RATE_LIMIT": "1000000 per minute"})
        upgrade_database(app)

        @app.post("/bench/bare")
        def bare() -> tuple[str, int, dict[str, str]]:
            return "<Response><Message>ok</Message></Response>", 200, {"Content-Type": "text/xml"}

        app.extensions["csrf"].exempt(bare)
        phones = [f"+4477009{i:05d}" for i in range(most)]
        with app.app_context(), db.get_db(app).transaction() as session:
            session.add_all(Responder(phone_e164=phone, organisation="Bench") for phone in phones)
            tokens = [auth.create_token(session, auth.create_user(
                session, f"bench{i}@example.org", "operator", auth.generate_password()))
                for i in range(most)]

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = make_server("127.0.0.1", PORT, app, threaded=True)
        server.socket.listen(1024)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        local = threading.local()
        validator = RequestValidator(TOKEN)

        def post(path: str, body: str, headers: dict[str, str]) -> bytes:
            if not hasattr(local, "connection"):
                local.connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            local.connection.request("POST", path, body=body, headers=headers)
            response = local.connection.getresponse()
            data = response.read()
            assert response.status in (200, 201), (path, response.status, data[:200])
            return data

        def sms(index: int, turn: int, body: str | None = None) -> None:
            text = body if body is not None else "BACK" if turn % 2 else f"Ref {turn}"
            params = {"From": phones[index], "Body": text, "MessageSid": f"SM{uuid.uuid4().hex}",
                      "NumMedia": "0"}
            signature = validator.compute_signature(f"http://127.0.0.1:{PORT}/sms/twilio", params)
            post("/sms/twilio", urlencode(params), {"Content-Type": "application/x-www-form-urlencoded",
                                                    "X-Twilio-Signature": signature})

        for index in range(most):  # each number's draft at its first question, in English
            sms(index, 0, "hello")
            sms(index, 0, "1")
        bearers = [{"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                   for token in tokens]
        paths = [f"/api/chat/conversations/{json.loads(post('/api/chat/conversations', '', bearer))['conversation']}/messages"
                 for bearer in bearers]

        def chat(index: int, turn: int) -> None:
            text = "BACK" if turn % 2 else f"Ref {turn}"
            post(paths[index], json.dumps({"text": text, "client_message_id": uuid.uuid4().hex}),
                 bearers[index])

        def bare_call(index: int, turn: int) -> None:
            post("/bench/bare", "", {})

        engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{engine}, one threaded werkzeug server on loopback, {args.turns} turns per sender")
        print(f"{'senders':>7} {'endpoint':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7}")
        for senders in args.senders:
            base = None
            for name, call in (("bare Flask endpoint", bare_call), ("POST /sms/twilio (signed)", sms),
                               ("POST /api/chat/.../messages", chat)):
                rate, times = _run(senders, args.turns, call)
                base = base or rate
                p50 = statistics.median(times) * 1000
                p99 = statistics.quantiles(times, n=100)[-1] * 1000
                print(f"{senders:7} {name:28} {rate:8.0f} {p50:8.1f} {p99:8.1f} {rate / base:7.2f}")
        server.shutdown()
        db.get_db(app).engine.dispose()


if __name__ == "__main__":
    main()
