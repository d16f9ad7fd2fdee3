"""The request session is used again by the thread's next request, closed and empty in between,
and never by two requests at once (``backend.db.session``)."""

from __future__ import annotations

import threading

from backend import db
from backend.models import Conversation


def test_a_request_session_is_used_again_by_the_next_request_with_nothing_of_the_last(app):
    with app.test_request_context():
        first = db.session()
        first.add(Conversation(id="uncommitted", channel="web", address="a", status="draft", state={}))
        first.flush()  # written in a transaction that is never committed
    with app.test_request_context():
        again = db.session()
        assert again is first  # closed at the end of the request, then used again
        assert list(again) == [] and not again.in_transaction()
        assert again.get(Conversation, "uncommitted") is None


def test_requests_on_two_threads_at_once_never_share_a_session(app):
    both_open = threading.Barrier(2, timeout=10)
    seen: list[object] = []

    def request() -> None:
        with app.test_request_context():
            seen.append(db.session())
            both_open.wait()

    for _ in range(3):
        threads = [threading.Thread(target=request) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen[-1] is not seen[-2]


def test_a_session_left_failed_by_a_request_is_usable_by_the_next(app):
    with app.test_request_context():
        broken = db.session()
        broken.add(Conversation(id="twice", channel="web", address="a", status="draft", state={}))
        broken.add(Conversation(id="twice-2", channel="web", address="a", status="draft", state={}))
        broken.flush()
        broken.add(Conversation(id="twice", channel="web", address="b", status="draft", state={}))
        try:
            broken.flush()
        except Exception:  # noqa: BLE001 - the duplicate key; the session is now unusable until closed
            pass
        else:
            raise AssertionError("a duplicate primary key was flushed")
    with app.test_request_context():
        session = db.session()
        session.add(Conversation(id="after", channel="web", address="c", status="draft", state={}))
        session.commit()
        assert session.get(Conversation, "after") is not None
