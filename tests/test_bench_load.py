"""``bench.load.run_alternating``: the ratio rows of ``make bench`` take turns, so drift weighs on both."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import groupby
from typing import Iterator

import pytest

from bench import load


class _Recorder(BaseHTTPRequestHandler):
    """Answers 204 to anything and notes the path, in arrival order."""

    seen: list[str] = []
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.path)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture()
def port() -> Iterator[int]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_two_take_turns_a_b_b_a_and_each_result_sums_its_slices(port: int) -> None:
    bare, ours = load.run_alternating(port, 2, [lambda s, i: ("GET", "/bare", None, {}),
                                                lambda s, i: ("GET", "/ours", None, {})], 0.4, slices=4)

    turns = [path for path, _ in groupby(_Recorder.seen)]
    assert turns == ["/bare", "/ours", "/bare", "/ours", "/bare"]  # A B | B A | A B | B A, runs merged
    assert len(bare.latencies) == _Recorder.seen.count("/bare") and bare.errors == 0
    assert len(ours.latencies) == _Recorder.seen.count("/ours") and ours.errors == 0
    # 4 slices of at least 0.1 s each (a busy machine may stretch them)
    assert 0.4 <= bare.elapsed < 10 and 0.4 <= ours.elapsed < 10
