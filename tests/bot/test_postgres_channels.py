"""The channels on PostgreSQL, the multi-worker engine: the whole product (``bot.app``) on a fresh,
migrated schema, with requests from several threads at once.

On SQLite every write transaction takes the one database lock (``BEGIN IMMEDIATE``). Here an
ordinary message mid-referral is read without a lock and written in one statement only if its draft
is unchanged (``bot.engine.on_plain_connection``); one that lost that race, and every other message,
is applied under the responder's row lock (``SELECT ... FOR UPDATE``); references are serialised by
the counter row. These tests make the contention certain rather than likely: the test holds the
lock itself (the draft's row, the responder's, the counters), waits until every request is seen
waiting for it in ``pg_stat_activity``, and only then lets them go. A process runs one plain turn at
a time (``bot.engine._PLAIN_TURNS``): here that lock is lifted, so that the threads of one test race
as the workers and machines of a deployment do.

Needs ``DATABASE_URL_PG`` (skipped locally without a server, failed in CI: ``tests/conftest.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from backend import audit, db
from backend.calendar import UK_TIME
from backend.db import get_for_update
from backend.models import Case, ChatMessage, Conversation, InboundMessage, Responder, User
from bench.load import together
from bot import engine, quick_exit, sms
from flows import languages
from tests.bot.conftest import make_user
from tests.bot.sms_support import (
    ENV_KEYS,
    PHONE,
    SmsPhone,
    make_sms_app,
    new_sid,
    start,
    walk,
)
from tests.conftest import fresh_postgres_url
from tests.flows.conversation import ADULT_NRM, CHILD

pytestmark = pytest.mark.postgres

GOT_PART = ["Got it. Send more, or DONE when finished."]
RESPONDER_LOCK = "%FROM responders%FOR UPDATE%"
DRAFT_WRITE = "%UPDATE conversations%"
COUNTER_UPDATE = "UPDATE reference_counters%"


@pytest.fixture
def pg_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The whole product on a fresh PostgreSQL schema, migrated, with the SMS test number
    registered as a responder."""
    for key in ENV_KEYS:  # the developer's shell must not leak into tests
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(engine, "_PLAIN_TURNS", nullcontext())  # threads race as processes would
    with fresh_postgres_url() as url:
        app = make_sms_app(tmp_path, DATABASE_URL=url)
        try:
            assert db.get_db(app).engine.dialect.name == "postgresql"
            yield app
        finally:
            db.get_db(app).engine.dispose()


# -- contention on demand ---------------------------------------------------------------------------


@contextmanager
def holding(app: Flask, lock: Callable[[Any], None]) -> Iterator[None]:
    """Run ``lock(session)`` in a transaction and keep it open (its locks held) for the block."""
    with app.app_context(), db.get_db(app).transaction() as session:
        lock(session)
        yield


def lock_responder(session: Any) -> None:
    """What a request from :data:`PHONE` in progress holds: the responder's row lock."""
    responder_id = session.scalar(select(Responder.id).where(Responder.phone_e164 == PHONE))
    assert get_for_update(session, Responder, responder_id) is not None


def lock_draft(session: Any, address: str = PHONE) -> Conversation:
    """What a message from ``address`` being written holds: its draft's row lock. Every ordinary
    message then reads the draft (a read does not wait for a row lock) and waits in its write."""
    draft_id = session.scalar(select(Conversation.id).where(Conversation.address == address,
                                                           Conversation.status == "draft"))
    draft = get_for_update(session, Conversation, draft_id)
    assert draft is not None
    return draft


def lock_counters(session: Any) -> None:
    """Block every reference allocation (its ``UPDATE reference_counters``), reads still allowed."""
    session.execute(text("LOCK TABLE reference_counters IN EXCLUSIVE MODE"))


def wait_for_waiters(app: Flask, pattern: str, count: int, threads: list[threading.Thread],
                     errors: list[BaseException], timeout: float = 60) -> None:
    """Wait until ``count`` of this app's connections wait for a lock in a statement matching
    ``pattern`` (connections are told apart by ``application_name``: ``fresh_postgres_url``);
    fail as soon as a thread raised or all of them finished without waiting."""
    engine = db.get_db(app).engine
    name = engine.url.query["application_name"]
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                 "AND wait_event_type = 'Lock' AND query ILIKE :pattern")
    deadline = time.monotonic() + timeout
    waiting = 0
    with engine.connect() as connection:
        while time.monotonic() < deadline and not errors and any(t.is_alive() for t in threads):
            waiting = connection.execute(query, {"name": name, "pattern": pattern}).scalar_one()
            connection.rollback()  # a fresh snapshot of pg_stat_activity next time
            if waiting >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{waiting} of {count} requests waited for the lock; errors: {errors!r}")


def run_held(app: Flask, lock: Callable[[Any], None], pattern: str, count: int,
             target: Callable[[int], None]) -> list[BaseException]:
    """Start ``count`` threads running ``target(index)`` while the test holds ``lock``; release it
    once all of them wait for it, then wait for them. Returns what the threads raised."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            target(index)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    try:
        with holding(app, lock):
            for thread in threads:
                thread.start()
            wait_for_waiters(app, pattern, count, threads, errors)
    finally:
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return errors


def count(app: Flask, model: type, *where: Any) -> int:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def check_parts(parts: list[str], senders: int, each: int) -> None:
    """Every part once, and each sender's parts in the order it sent them."""
    expected = [f"s{i}m{j}" for i in range(senders) for j in range(each)]
    assert sorted(parts) == sorted(expected), "a message was lost or applied twice"
    for i in range(senders):
        assert [part for part in parts if part.startswith(f"s{i}m")] == [f"s{i}m{j}" for j in range(each)]


# -- SMS ----------------------------------------------------------------------------------------------


def test_interleaved_messages_from_one_number_on_postgres_are_all_applied_once(pg_product: Flask) -> None:
    start(SmsPhone(pg_product))  # first contact, English picked: the first question takes free text
    senders, each = 2, 12

    def send(index: int) -> None:
        phone = SmsPhone(pg_product)  # its own client, as another request thread of the server
        for j in range(each):
            assert phone.send(f"s{index}m{j}...") == GOT_PART

    # Both first messages read the same draft and wait to write it, the rest race freely: every
    # write of a copy read before another's lands finds the draft changed, and is applied again
    # under the responder's lock.
    assert run_held(pg_product, lock_draft, DRAFT_WRITE, senders, send) == []
    phone = SmsPhone(pg_product)
    check_parts(phone.state()["channel"]["parts"], senders, each)
    phone.send("DONE")
    check_parts(phone.answer("reference").split(" "), senders, each)
    assert phone.current() == "fr-location"
    assert count(pg_product, InboundMessage) == 2 + senders * each + 1


def test_a_message_that_waited_for_the_sender_s_lock_answers_the_draft_opened_meanwhile_on_postgres(
    pg_product: Flask,
) -> None:
    """The sender's drafts are read after the responder's lock is held, in a statement of their
    own (a snapshot taken after the lock), so a draft that the sender's previous message opened
    and committed while this one waited is the one it answers, not a second referral beside it."""

    def open_a_draft(session: Any) -> None:  # what a first message in progress has done
        lock_responder(session)
        engine.begin(session, "sms", PHONE, None, language="en")

    def send(_index: int) -> None:
        SmsPhone(pg_product).send("SA-0412")

    assert run_held(pg_product, open_a_draft, RESPONDER_LOCK, 1, send) == []
    assert count(pg_product, Conversation, Conversation.status == "draft") == 1
    phone = SmsPhone(pg_product)
    assert phone.answer("reference") == "SA-0412"


def test_the_sender_s_read_that_waited_for_the_lock_returns_the_drafts_committed_meanwhile_on_postgres(
    pg_product: Flask,
) -> None:
    """The read itself, without the ORM session's second try behind it: one statement that locks
    the responder and only then reads the drafts (``locked_drafts``, a snapshot of its own), so
    a draft committed while it waited for the lock is among its rows, and locked."""
    read: list[Any] = []

    def open_a_draft(session: Any) -> None:
        lock_responder(session)
        engine.begin(session, "sms", PHONE, None, language="en")

    def read_drafts(_index: int) -> None:
        with db.get_db(pg_product).engine.connect() as connection:
            found = sms._read(connection, sms.Inbound(sid=new_sid(), sender=PHONE, body=""))
            read.append((found, [locked(row["id"]) for row in found.draft_rows]))
            connection.rollback()

    def locked(draft_id: str) -> bool:
        with db.get_db(pg_product).engine.connect() as other:
            try:
                other.execute(select(Conversation.id).where(Conversation.id == draft_id).with_for_update(nowait=True))
            except OperationalError:
                return True
            return False

    assert run_held(pg_product, open_a_draft, RESPONDER_LOCK, 1, read_drafts) == []
    ((found, locks),) = read
    assert [row["status"] for row in found.draft_rows] == ["draft"]
    assert locks == [True]


def test_an_answer_in_flight_when_the_quick_exit_deletes_the_draft_is_written_nowhere_on_postgres(
    pg_product: Flask,
) -> None:
    """An ordinary answer reads the draft while the sender's quick exit is deleting it, and waits
    to write it; once the deletion lands, the answer finds no draft to write: nothing of it is
    stored, no draft comes back holding it, and the message is answered as a first contact."""
    start(SmsPhone(pg_product))
    replies: list[list[str]] = []

    def quick_exit_in_progress(session: Any) -> None:
        quick_exit.delete_draft(session, lock_draft(session))

    def send(_index: int) -> None:
        replies.append(SmsPhone(pg_product).send("Ana Example"))

    assert run_held(pg_product, quick_exit_in_progress, DRAFT_WRITE, 1, send) == []
    assert replies[0][-1].endswith(languages.menu_lines())  # a new referral's first question
    with pg_product.app_context(), db.get_db(pg_product).transaction(readonly=True) as session:
        drafts = session.scalars(select(Conversation)).all()
        assert len(drafts) == 1 and "Ana Example" not in repr(drafts[0].state)
        assert all("Ana Example" not in repr(reply) for reply in session.scalars(select(InboundMessage.reply)))


def test_quotes_and_semicolons_in_a_message_sid_are_data_on_postgres(
    pg_product: Flask,
) -> None:
    """Whatever a MessageSid holds stays one bound value, and its retry gets the stored reply."""
    phone = SmsPhone(pg_product)
    start(phone)
    sid = "SM'; DELETE FROM responders; --\\' \"$$"
    first = phone.send("SA-0412", sid=sid)
    assert phone.send("SA-0412", sid=sid) == first
    assert phone.answer("reference") == "SA-0412"
    assert count(pg_product, Responder) == 1
    assert count(pg_product, InboundMessage, InboundMessage.id == sid) == 1


def test_one_message_sid_delivered_by_four_threads_at_once_on_postgres_is_applied_once(
    pg_product: Flask,
) -> None:
    start(SmsPhone(pg_product))
    sid = new_sid()
    replies: dict[int, list[str]] = {}

    def send(index: int) -> None:
        replies[index] = SmsPhone(pg_product).send("SA-0412", sid=sid)

    # All four read the draft with no reply stored and wait to write it: one writes, and each of
    # the others finds the draft changed and, under the responder's lock, the stored reply.
    assert run_held(pg_product, lock_draft, DRAFT_WRITE, 4, send) == []
    assert len(replies) == 4 and len({tuple(reply) for reply in replies.values()}) == 1
    assert "(About you 2/" in replies[0][-1]  # the reply of the one that applied it: the next question
    assert count(pg_product, InboundMessage) == 3  # hello, "1", this one
    phone = SmsPhone(pg_product)
    assert phone.answer("reference") == "SA-0412"
    assert phone.current() == "fr-location"


def test_a_whole_referral_by_sms_on_postgres_makes_one_case_even_when_confirm_is_retried(
    pg_product: Flask,
) -> None:
    phone = SmsPhone(pg_product)
    start(phone)
    walk(phone, ADULT_NRM)
    assert "Reply CONFIRM" in phone.replies[-1]
    conversation_id = phone.draft().id
    confirm = new_sid()
    replies: dict[int, list[str]] = {}

    def send(index: int) -> None:  # Twilio retrying CONFIRM while the first delivery is applied
        replies[index] = SmsPhone(pg_product).send("CONFIRM", sid=confirm)

    assert run_held(pg_product, lock_responder, RESPONDER_LOCK, 3, send) == []
    assert len({tuple(reply) for reply in replies.values()}) == 1
    said = "\n".join(replies[0])
    assert "Reference: NRM-" in said
    reference = said.split("Reference: ", 1)[1].split(".", 1)[0]
    assert reference == f"NRM-{datetime.now(UK_TIME).year}-000001"

    assert phone.send("CONFIRM", sid=confirm) == replies[0]  # a later retry: the same reply
    assert phone.draft() is None
    with pg_product.app_context(), db.get_db(pg_product).transaction(readonly=True) as session:
        case = session.scalars(select(Case)).one()
        assert (case.reference, case.conversation_id, case.status) == (reference, conversation_id,
                                                                      "awaiting_rg")
        conversation = session.get(Conversation, conversation_id)
        assert conversation.status == "submitted" and not conversation.state
        assert session.get(InboundMessage, confirm).reply == replies[0]
        assert audit.verify(session) == []


# -- web chat -------------------------------------------------------------------------------------


def test_two_operators_confirming_at_once_on_postgres_get_consecutive_references(pg_product: Flask) -> None:
    tokens = [make_user(pg_product, f"operator{i}@example.org", "operator") for i in range(2)]
    at_summary = threading.Barrier(2)
    finals: dict[int, dict[str, Any]] = {}

    def post(client: Any, token: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = client.post(f"/api/chat/conversations{path}", json=body,
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def operator(index: int) -> None:
        client, token = pg_product.test_client(), tokens[index]
        reply = post(client, token, "")
        while reply["question"]["kind"] != "confirm":  # both operators answer side by side
            reply = post(client, token, f"/{reply['conversation']}/messages",
                         {"text": CHILD[reply["question"]["id"]]})
        assert "Your answers:" in "\n".join(reply["messages"])
        at_summary.wait(timeout=30)
        finals[index] = post(client, token, f"/{reply['conversation']}/messages", {"text": "CONFIRM"})

    # Both CONFIRMs wait to allocate a reference (the year's counter row does not exist yet).
    assert run_held(pg_product, lock_counters, COUNTER_UPDATE, 2, operator) == []
    year = datetime.now(UK_TIME).year
    assert all(final["done"] for final in finals.values())
    references = sorted(final["reference"] for final in finals.values())
    assert references == [f"NRM-{year}-000001", f"NRM-{year}-000002"]
    with pg_product.app_context(), db.get_db(pg_product).transaction(readonly=True) as session:
        cases = {case.reference: case.conversation_id for case in session.scalars(select(Case))}
        assert cases == {final["reference"]: final["conversation"] for final in finals.values()}
        statuses = session.scalars(select(Conversation.status).where(Conversation.id.in_(cases.values())))
        assert sorted(statuses) == ["submitted", "submitted"]
        assert audit.verify(session) == []


def test_one_web_chat_message_sent_four_times_at_once_on_postgres_is_applied_once(pg_product: Flask) -> None:
    """Four copies of one message (the same ``client_message_id``) read the draft together and
    wait to write it: one writes its step and transcript row, and the three others, finding the
    draft changed, answer from that row under the conversation's lock."""
    token = make_user(pg_product, "operator@example.org", "operator")
    client = pg_product.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    started = client.post("/api/chat/conversations", headers=headers).get_json()
    conversation = started["conversation"]
    first = started["question"]["id"]
    with pg_product.app_context(), db.get_db(pg_product).transaction(readonly=True) as session:
        address = f"user:{session.scalar(select(User.id).where(User.email == 'operator@example.org'))}"
    replies: dict[int, dict[str, Any]] = {}

    def send(index: int) -> None:
        response = pg_product.test_client().post(
            f"/api/chat/conversations/{conversation}/messages", headers=headers,
            json={"text": CHILD[first], "client_message_id": "a1b2c3d4-same-message"})
        assert response.status_code == 200, response.get_json()
        replies[index] = response.get_json()

    assert run_held(pg_product, lambda session: lock_draft(session, address), DRAFT_WRITE, 4, send) == []
    assert len(replies) == 4 and len({repr(reply) for reply in replies.values()}) == 1
    assert replies[0]["question"]["id"] != first  # the step was taken: the next question
    assert count(pg_product, ChatMessage, ChatMessage.client_message_id == "a1b2c3d4-same-message") == 1
    with pg_product.app_context(), db.get_db(pg_product).transaction(readonly=True) as session:
        draft = session.get(Conversation, conversation)
        assert draft.version == 2 and draft.state["current"] == replies[0]["question"]["id"]


def test_one_process_runs_one_plain_turn_at_a_time_on_postgres(pg_product: Flask,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A gthread worker's threads ran their turns interleaved, each waiting to get the interpreter
    back at every database call (issue 14): one process now runs one plain turn at a time, while
    the others wait for it, and every message is still answered once."""
    monkeypatch.setattr(engine, "_PLAIN_TURNS", threading.Lock())  # as in production
    token = make_user(pg_product, "operator@example.org", "operator")
    headers = {"Authorization": f"Bearer {token}"}
    opened = [pg_product.test_client().post("/api/chat/conversations", headers=headers).get_json()
              for _ in range(4)]
    guard, inside, most, stepped = threading.Lock(), [0], [0], []
    step = engine.plain_step

    def slow_step(conversation: Conversation, text: str) -> Any:
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            stepped.append(text)
        try:
            time.sleep(0.02)  # time for the other threads to come in, were they let in
            return step(conversation, text)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(engine, "plain_step", slow_step)
    answers: dict[int, list[int]] = {}

    def send(index: int) -> None:
        client, path = pg_product.test_client(), f"/api/chat/conversations/{opened[index]['conversation']}/messages"
        answers[index] = [client.post(path, headers=headers, json={"text": text}).status_code
                          for text in ("BACK", CHILD[opened[index]["question"]["id"]], "BACK")]

    assert together(4, send)[1] == []
    assert answers == {index: [200, 200, 200] for index in range(4)}
    assert len(stepped) == 12 and most[0] == 1


@pytest.mark.parametrize(("sent", "kept"), [
    ("SA\x00-04\x1b12", "SA-0412"),  # control characters removed before anything is stored
    ("\u0645\u0631\u062d\u0628\u0627-7", "\u0645\u0631\u062d\u0628\u0627-7"),  # another script
    ("", None),  # nothing to take: the question again, nothing stored as an answer
    ("x" * 15_001, None),  # over the question's 15,000 characters: refused with the reason
], ids=["controls", "arabic", "empty", "too-long"])
def test_awkward_answers_on_postgres_take_the_plain_turn_and_keep_only_what_is_valid(
    pg_product: Flask, sent: str, kept: str | None,
) -> None:
    """The written-once turn on PostgreSQL stores an answer exactly as SQLite's does: cleaned, in
    any script, and only when valid; a refused answer leaves the draft at its question."""
    phone = SmsPhone(pg_product)
    start(phone)
    reply = phone.send(sent)
    assert reply
    if kept is None:
        assert phone.current() == "reference" and "reference" not in phone.state().get("answers", {})
    else:
        assert phone.answer("reference") == kept and phone.current() == "fr-location"
    assert count(pg_product, InboundMessage) == 3  # hello, "1", this one: its reply kept for a retry
