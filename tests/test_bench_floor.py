"""The bench's floor request (``bench.app.floor_turn``) does the two statements it claims, no more."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench import turns
from bench.context import Database


def test_the_floor_request_reads_its_row_and_stores_the_count_plus_one(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    database = Database("SQLite", f"sqlite:///{tmp_path / 'floor.db'}", str(tmp_path / "instance"))
    turns.make_floor_table(database)
    for key, value in {**database.env, "PUBLIC_BASE_URL": "http://localhost"}.items():
        monkeypatch.setenv(key, value)
    from bench.app import create_app

    client = create_app().test_client()
    answers = []
    for sender in (7, 7, 107, 8):  # sender 107 counts on row 7 too (100 rows)
        _method, path, body, headers = turns.floor_request(sender)
        answer = client.post(path, data=body, headers=headers)
        assert answer.status_code == 200, answer.data[:300]
        answers.append(answer.get_json()["n"])

    assert answers == [1, 2, 3, 1]
    with sqlite3.connect(tmp_path / "floor.db") as stored:  # committed: another connection reads it
        assert dict(stored.execute("SELECT id, n FROM bench_floor WHERE n > 0")) == {7: 3, 8: 1}
