"""``pytest -n 2`` gives each file's tests to one worker and every PostgreSQL test to one worker
(``tests/xdist_groups.py``): a small suite of its own, run by pytest-xdist in a subprocess,
records which worker ran each test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent

RECORDING_TEST = '''
import os
import pytest

{mark}

@pytest.mark.parametrize("n", range(6))
def test_records_its_worker(n):
    with open(os.environ["RECORD"], "a") as record:
        record.write(f"{{__name__}} {{os.environ['PYTEST_XDIST_WORKER']}}\\n")
'''


def test_each_file_runs_on_one_worker_and_every_postgres_test_on_one(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    postgres: needs PostgreSQL\n")
    files = {"test_first": "", "test_second": "", "test_third": "",
             "test_pg_one": "pytestmark = pytest.mark.postgres", "test_pg_two": "pytestmark = pytest.mark.postgres"}
    for name, mark in files.items():
        (suite / f"{name}.py").write_text(RECORDING_TEST.format(mark=mark))
    record = tmp_path / "record.txt"
    environment = {**os.environ, "RECORD": str(record), "PYTHONPATH": str(REPOSITORY),
                   "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only xdist and ours: quicker workers
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "xdist", "-n", "2", "--dist", "loadgroup",
                          "-p", "tests.xdist_groups", "-p", "no:cacheprovider", str(suite)],
                         cwd=suite, env=environment, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = record.read_text().splitlines()
    workers: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        module, worker = line.split()
        workers["postgres" if module.startswith("test_pg") else module].add(worker)
    assert len(lines) == 6 * len(files)
    assert {group: len(found) for group, found in workers.items()} == {
        "test_first": 1, "test_second": 1, "test_third": 1, "postgres": 1}
