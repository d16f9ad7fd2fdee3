"""SMS and web chat turns mid-referral against the bare endpoint, on every server and database.

Each sender is a registered number with its own draft, past the language question: its messages
alternate an answer to the first question and BACK, so every turn is a real step (signature check,
row lock, dialogue step, encrypted save, stored reply, TwiML) that leaves the draft where it was.

Each web chat row also gives the floor's ratio: ``POST /bench/floor`` (``bench.app.floor_turn``),
a request that reads a JSON body and runs a turn's two statements and nothing else, taking turns
with the other two. No turn can reach more on that server and database.
"""

from __future__ import annotations

import json
import uuid
from typing import Callable
from urllib.parse import urlencode

from sqlalchemy import text

from bench import load
from bench.app import FLOOR_TABLE
from bench.context import SENDERS, Context, Database, sender_phone
from bench.report import Row
from bench.servers import SERVERS, Server

CONCURRENCY = (1, 10, SENDERS)
WEBCHAT_SENDERS = 10
SMS_RATIO_TARGET = 0.35
WEBCHAT_RATIO_TARGET = 0.5
P99_TARGET_MS = 50
OPEN_RATE = 0.25
"""Messages a second each of the :data:`SENDERS` senders sends in the p99 rows: one every 4 s on
average (quicker than anyone types an answer on a phone), 12.5 a second in all, in Poisson arrivals
(open loop, so bursts come as they fall); the same for the bare endpoint."""
OPEN_SECONDS = 16.0


def _answer(count: int) -> str:
    return "BACK" if count % 2 else f"Ref {count}"


def sms_request(database: Database, server: Server, sender: int, body: str | None = None) -> load.Request:
    from twilio.request_validator import RequestValidator

    count = database.sms_sent.get(sender, 0)
    database.sms_sent[sender] = count + 1
    params = {"From": sender_phone(sender), "To": "+447700900001", "Body": body or _answer(count),
              "MessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0"}
    url = f"http://127.0.0.1:{server.port}/sms/twilio"
    signature = RequestValidator(database.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    return ("POST", "/sms/twilio", urlencode(params),
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def chat_request(database: Database, sender: int) -> load.Request:
    count = database.chat_sent.get(sender, 0)
    database.chat_sent[sender] = count + 1
    body = json.dumps({"text": _answer(count), "client_message_id": str(uuid.uuid4())})
    return ("POST", f"/api/chat/conversations/{database.chats[sender]}/messages", body, _bearer(database))


def _bearer(database: Database) -> dict[str, str]:
    return {"Authorization": f"Bearer {database.tokens['operator']}", "Content-Type": "application/json"}


BARE: load.Request = ("POST", "/bench/bare", "", {})

FLOOR_ROWS = 100


def make_floor_table(database: Database) -> None:
    """``bench_floor`` (``bench.app.floor_turn``) with :data:`FLOOR_ROWS` rows at 0, made anew."""
    with database.connection() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {FLOOR_TABLE}"))
        connection.execute(text(f"CREATE TABLE {FLOOR_TABLE} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        connection.execute(text(f"INSERT INTO {FLOOR_TABLE} (id, n) VALUES (:id, 0)"),
                           [{"id": row} for row in range(FLOOR_ROWS)])


def floor_request(sender: int, _index: int = 0) -> load.Request:
    """A floor request: a JSON body of a web chat message's size, naming the sender's row (the
    signature of ``bench.load.run``'s requests)."""
    body = json.dumps({"sender": sender % FLOOR_ROWS, "text": f"Ref {sender}", "client_message_id": str(uuid.uuid4())})
    return ("POST", "/bench/floor", body, {"Content-Type": "application/json"})


def open_drafts(database: Database, server: Server) -> None:
    """Once per database: every sender's draft opened and English chosen; web chat conversations opened."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    for sender in range(SENDERS):
        if sender not in database.sms_sent:
            for body in ("Hello", "1"):  # the first message gets the language list; 1 = English
                status, reply = load.send(connection, sms_request(database, server, sender, body))
                assert status == 200, (status, reply[:200])
            database.sms_sent[sender] = 0
    for sender in range(WEBCHAT_SENDERS):
        if sender not in database.chats:
            status, reply = load.send(connection, ("POST", "/api/chat/conversations", "", _bearer(database)))
            assert status in (200, 201), (status, reply[:200])
            database.chats[sender] = json.loads(reply)["conversation"]
    connection.close()


def warm(database: Database, server: Server, *also: Callable[[int, int], load.Request]) -> None:
    """A short run of each kind (and of ``also``'s), so every worker has imported and compiled
    what it needs."""
    load.run(server.port, 4, lambda s, i: BARE, 0.5)
    load.run(server.port, 4, lambda s, i: sms_request(database, server, s), 1.0)
    load.run(server.port, 4, lambda s, i: chat_request(database, s), 1.0)
    for make in also:
        load.run(server.port, 4, make, 0.5)


def _versus(what: str, result: load.Result, bare: load.Result, target: float, command: str,
            floor: load.Result | None = None) -> Row:
    ratio = result.throughput / bare.throughput if bare.throughput else 0.0
    errors = f"; {result.errors} errors" if result.errors else ""
    figure = (f"{result.throughput:,.0f}/s vs bare {bare.throughput:,.0f}/s; server CPU {result.cpu_ms_per_request:.2f} "
              f"vs {bare.cpu_ms_per_request:.2f} ms a request; p50 {result.median * 1000:.1f} ms{errors}")
    if floor is not None and bare.throughput:
        floor_errors = f", {floor.errors} errors" if floor.errors else ""
        figure += (f"; floor (two statements alone) {floor.throughput / bare.throughput:.2f}x, server CPU "
                   f"{floor.cpu_ms_per_request:.2f} ms{floor_errors}")
    return Row(what, figure, f">= {target}x", ratio >= target and not result.errors, command, ratio)


def _p99(server: Server, database: Database, where: str, command: str) -> Row:
    """SMS turns and bare requests from :data:`SENDERS` senders at :data:`OPEN_RATE` each, open loop:
    the latency a sender sees, from the time the message was due to the answer."""
    bare = load.run_open(server.port, SENDERS, lambda s, i: BARE, OPEN_RATE, OPEN_SECONDS, server.cpu_seconds)
    sms = load.run_open(server.port, SENDERS, lambda s, i: sms_request(database, server, s), OPEN_RATE,
                        OPEN_SECONDS, server.cpu_seconds)
    p99 = sms.percentile(99) * 1000
    errors = f"; {sms.errors} errors" if sms.errors else ""
    return Row(f"SMS turn p99, open loop, {SENDERS} senders x {OPEN_RATE:g} msg/s (Poisson): {where}",
               f"{p99:,.1f} ms, p50 {sms.median * 1000:.1f} ms (bare p99 {bare.percentile(99) * 1000:,.1f} ms; "
               f"{len(sms.latencies)} turns; server CPU {sms.cpu_ms_per_request:.2f} vs "
               f"{bare.cpu_ms_per_request:.2f} ms a request){errors}",
               f"<= {P99_TARGET_MS} ms", p99 <= P99_TARGET_MS and not sms.errors, command)


def _senders(count: int) -> str:
    return f"{count} sender{'' if count == 1 else 's'}"


def rows(context: Context) -> list[Row]:
    command = context.command("turns")
    found = []
    for database in context.databases:
        make_floor_table(database)
        for kind in SERVERS:
            with Server(kind, database.env) as server:
                open_drafts(database, server)
                warm(database, server, floor_request)
                where = f"{kind}, {database.name}"
                for senders in CONCURRENCY:
                    bare, sms = load.run_alternating(
                        server.port, senders, [lambda s, i: BARE, lambda s, i: sms_request(database, server, s)],
                        context.seconds, server.cpu_seconds)
                    found.append(_versus(f"SMS turn vs bare: {where}, {_senders(senders)}", sms, bare,
                                         SMS_RATIO_TARGET, command))
                found.append(_p99(server, database, where, command))  # open loop, at a stated rate
                bare, chat, floor = load.run_alternating(
                    server.port, WEBCHAT_SENDERS,
                    [lambda s, i: BARE, lambda s, i: chat_request(database, s), floor_request],
                    context.seconds, server.cpu_seconds)
                found.append(_versus(f"web chat turn vs bare: {where}, {_senders(WEBCHAT_SENDERS)}", chat, bare,
                                     WEBCHAT_RATIO_TARGET, command, floor))
    return found
