"""Messages from one number arriving at the same moment: applied one at a time, none lost or doubled.

The probe is the channel's long-answer mode: at a free-text question every message ending in "..."
is appended to the draft's list of parts, so a lost update would drop a part and a doubled one
would repeat it. Threads share one app; processes share only the SQLite file (and the instance
folder's keys), as two workers of a server would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from backend import db
from backend.models import Conversation, InboundMessage
from flows import languages
from tests.bot.sms_support import ENV_KEYS, SmsPhone, new_sid, start

ROOT = Path(__file__).resolve().parents[2]


def _count(app: Flask, model: type) -> int:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


def _check_parts(parts: list[str], senders: int, each: int) -> None:
    expected = {f"s{i}m{j}" for i in range(senders) for j in range(each)}
    assert sorted(parts) == sorted(expected), "a message was lost or applied twice"
    for i in range(senders):  # each sender's own messages in the order it sent them
        mine = [part for part in parts if part.startswith(f"s{i}m")]
        assert mine == [f"s{i}m{j}" for j in range(each)]


def _run_threads(count: int, target) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            target(index)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_concurrent_messages_from_one_number_in_threads_are_all_applied_once(sms_app: Flask) -> None:
    start(SmsPhone(sms_app))  # first contact, English picked
    senders, each = 4, 6

    def send(index: int) -> None:
        phone = SmsPhone(sms_app)  # its own client, as another request thread of the server
        for j in range(each):
            assert phone.send(f"s{index}m{j}...") == ["Got it. Send more, or DONE when finished."]

    assert _run_threads(senders, send) == []
    phone = SmsPhone(sms_app)
    _check_parts(phone.state()["channel"]["parts"], senders, each)
    phone.send("DONE")
    answer = phone.answer("reference").split(" ")
    _check_parts(answer, senders, each)
    assert _count(sms_app, InboundMessage) == 2 + senders * each + 1


def test_two_first_messages_at_once_open_one_draft_and_both_are_applied(sms_app: Flask) -> None:
    texts = ["2", "1"]  # each could be the first message, or the reply to the language list
    replies: dict[int, list[str]] = {}

    def send(index: int) -> None:
        replies[index] = SmsPhone(sms_app).send(texts[index])

    assert _run_threads(2, send) == []
    assert _count(sms_app, Conversation) == 1
    assert _count(sms_app, InboundMessage) == 2
    phone = SmsPhone(sms_app)
    first = next(i for i in (0, 1) if replies[i][-1].endswith(languages.menu_lines()))
    second = 1 - first
    # the first opened the draft (its text is not an answer), the later one picked the language
    assert phone.state()["language"] == languages.by_number(int(texts[second]))
    assert not phone.choosing_language() and phone.current() == "reference"
    assert " 1/2" in replies[second][-1] and " 1/2" not in "\n".join(replies[first])


def test_the_same_message_sid_delivered_twice_at_once_is_applied_once(sms_app: Flask) -> None:
    start(SmsPhone(sms_app))  # first contact, English picked
    sid = new_sid()
    replies: dict[int, list[str]] = {}

    def send(index: int) -> None:
        replies[index] = SmsPhone(sms_app).send("SA-0412", sid=sid)

    assert _run_threads(4, send) == []
    assert len({tuple(reply) for reply in replies.values()}) == 1
    assert _count(sms_app, InboundMessage) == 3  # hello, "1", this one
    phone = SmsPhone(sms_app)
    assert phone.answer("reference") == "SA-0412"
    assert phone.current() == "fr-location"


WORKER = r"""
import sys, time
from pathlib import Path
from bot.app import create_app
from tests.bot.sms_support import SmsPhone, sms_config

tmp, index, each, go = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
app = create_app(sms_config(tmp))
phone = SmsPhone(app)
print("ready", flush=True)
deadline = time.monotonic() + 30
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.005)
for j in range(each):
    replies = phone.send(f"s{index}m{j}...")
    assert replies == ["Got it. Send more, or DONE when finished."], replies
print("done", flush=True)
"""


def test_concurrent_messages_from_one_number_in_two_processes_are_all_applied_once(
    sms_app: Flask, tmp_path: Path
) -> None:
    start(SmsPhone(sms_app))  # first contact, English picked
    senders, each = 2, 15
    go = tmp_path / "go"
    env = {key: value for key, value in os.environ.items() if key not in ENV_KEYS}
    env["PYTHONPATH"] = str(ROOT)
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), str(i), str(each), str(go)],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(senders)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.strip() == "ready", worker.communicate(timeout=30)
        go.touch()
        started = time.monotonic()
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
            assert out.strip() == "done"
        assert time.monotonic() - started < 30
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    phone = SmsPhone(sms_app)
    _check_parts(phone.state()["channel"]["parts"], senders, each)
    phone.send("DONE")
    _check_parts(phone.answer("reference").split(" "), senders, each)
    assert _count(sms_app, InboundMessage) == 2 + senders * each + 1
