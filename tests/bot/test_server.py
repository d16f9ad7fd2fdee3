"""``nrm serve`` as an operator runs it: gunicorn with two gthread workers on a free port answers
the health checks and the sign-in page, adds up every worker's requests in ``/metrics``, logs one
JSON line per request, and stops cleanly on SIGTERM. The development server needs
NRM_ENV=development."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.cli import ScriptInfo

from backend.db import get_db
from bot.app import create_app
from bot.cli import serve_command
from bot.server import own_connections
from tests.bot.serve_support import GUNICORN_STOPS_WITHIN, free_port, wait_until_serving
from tests.bot.sms_support import ENV_KEYS
from tests.conftest import backend_test_config

TOKEN = "s" * 40
NRM = str(Path(sys.executable).with_name("nrm"))
pytestmark = pytest.mark.serial
"""Run alone (Makefile): gunicorn's master restarts a worker that misses its heartbeat for 30 s,
and the metrics test counts every request exactly; beside the other test workers on a busy
machine the count came out one short (12 of 13)."""


@dataclass
class Served:
    base: str
    process: subprocess.Popen[str]
    stderr: Path
    metrics_dir: Path

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ENV_KEYS and not key.startswith(("NRM_", "PROMETHEUS"))}
    env.update({"NRM_INSTANCE_PATH": str(folder / "instance"), "PORT": str(port), "NRM_WORKERS": "2",
                "NRM_THREADS": "4", "NRM_LOG_FORMAT": "json", "NRM_METRICS_TOKEN": TOKEN,
                "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")})
    subprocess.run([NRM, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    (folder / "metrics").mkdir()
    (folder / "metrics" / "counter_1.db").write_bytes(b"stale")  # an earlier run's: removed at start
    stderr = folder / "stderr.log"
    with stderr.open("w") as sink:
        process = subprocess.Popen([NRM, "serve"], env=env, stdout=subprocess.PIPE, stderr=sink, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_serving(base):
            pytest.fail(f"nrm serve did not start: {stderr.read_text()}")
        yield Served(base, process, stderr, folder / "metrics")
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_nrm_serve_runs_gunicorn_and_answers_health_readiness_and_sign_in(served: Served) -> None:
    health = requests.get(f"{served.base}/healthz", timeout=10)
    ready = requests.get(f"{served.base}/readyz", timeout=10)
    page = requests.get(f"{served.base}/casework/sign-in", timeout=30)

    assert health.json() == {"status": "ok"} and health.headers["Server"] == "gunicorn"
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert page.status_code == 200 and "Sign in" in page.text
    log = served.log()
    assert "Using worker: gthread" in log and log.count("Booting worker") == 2


def test_metrics_add_up_the_requests_of_every_worker(served: Served) -> None:
    for _ in range(12):
        assert requests.get(f"{served.base}/casework/sign-in", timeout=30).status_code == 200
    assert requests.get(f"{served.base}/metrics", timeout=10).status_code == 403

    counts = set()
    for _ in range(6):  # whichever worker answers, it counts all of them
        text = requests.get(f"{served.base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                            timeout=10).text
        line = next(line for line in text.splitlines()
                    if line.startswith('nrm_http_requests_total{endpoint="web_auth.sign_in"'))
        counts.add(float(line.rsplit(" ", 1)[1]))

    assert counts == {13.0}  # 12 here and 1 in the test before
    assert not (served.metrics_dir / "counter_1.db").exists()


def _open_database_files(pid: int) -> list[str]:
    """The SQLite files (database, WAL, shared memory) ``pid`` holds open."""
    folder = Path(f"/proc/{pid}/fd")
    found = []
    for fd in folder.iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed meanwhile
            continue
        if ".sqlite3" in target:
            found.append(target)
    return found


def test_gunicorns_master_holds_no_database_file_and_its_workers_open_their_own(served: Served) -> None:
    """The app is built in the master and the workers fork from it: nothing the master opened on
    the database may be inherited, so the master opens nothing, and each worker opens its own."""
    for _ in range(20):  # readiness reads the database, in whichever worker answers
        assert requests.get(f"{served.base}/readyz", timeout=10).status_code == 200
    master = served.process.pid
    workers = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]

    assert _open_database_files(master) == []
    assert len(workers) == 2
    assert any(_open_database_files(worker) for worker in workers)


def test_nrm_serve_logs_one_json_line_per_request_and_stops_on_sigterm(served: Served) -> None:
    requests.get(f"{served.base}/sms/+447700900123/nothing-here", timeout=10)

    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=GUNICORN_STOPS_WITHIN)

    assert served.process.returncode == 0
    lines = [json.loads(line) for line in served.log().splitlines()]
    request_lines = [line for line in lines if line["logger"] == "nrm.requests"]
    assert {"time", "level", "message", "method", "route", "endpoint", "status", "duration_ms",
            "request_id"} <= set(request_lines[0])
    assert [line["route"] for line in request_lines if line["status"] == 404] == ["(no route)"]
    assert "447700900123" not in served.log()
    assert any(line["message"] == "Shutting down: Master" for line in lines)


def test_the_development_server_is_refused_outside_development(tmp_path: Path) -> None:
    app = create_app(backend_test_config(tmp_path, NRM_ENV="production", SECRET_KEY="k" * 32,
                                         FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
                                         AUDIT_KEY="a" * 32, TWILIO_AUTH_TOKEN="t"))

    result = CliRunner().invoke(serve_command, ["--dev"], obj=ScriptInfo(create_app=lambda: app))

    assert result.exit_code == 1
    assert "the development server runs only with NRM_ENV=development (NRM_ENV is production)" in result.output


def test_a_forked_worker_opens_its_own_database_connections_and_leaves_the_masters_open(tmp_path: Path) -> None:
    """``nrm serve`` builds the app once and gunicorn forks its workers from it: no database
    connection crosses the fork (the worker's pool starts empty), and the master's still works."""
    app = create_app(backend_test_config(tmp_path))
    engine = get_db(app).engine
    with engine.connect() as connection:  # the master's connection, back in its pool
        connection.exec_driver_sql("SELECT 1")
    inherited = engine.pool
    assert inherited.checkedin() == 1

    child = os.fork()
    if child == 0:  # the worker: exit 0 only if it holds no inherited connection and opens its own
        own_connections(app)
        fresh = engine.pool is not inherited and engine.pool.checkedin() == 0
        with engine.connect() as connection:
            fresh = fresh and connection.exec_driver_sql("SELECT 1").scalar() == 1
        os._exit(0 if fresh else 1)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert engine.pool is inherited and inherited.checkedin() == 1
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1


SETTINGS_OF_NRM_SERVE = """
import json, sys
from bot import server
def report(self):
    print("SETTINGS " + json.dumps({key: value for key, value in self.settings.items() if not callable(value)}))
    sys.exit(0)
server.ProductServer.run = report
sys.argv = ["nrm", "serve"]
from bot.nrm import main
main()
"""


def test_the_startup_bench_serves_its_bare_flask_app_with_the_gunicorn_settings_of_nrm_serve(tmp_path: Path) -> None:
    """``bench.startup`` compares ``nrm serve``'s start with a bare Flask app on the same server:
    gunicorn with exactly what ``nrm serve`` gives gunicorn by default (gthread, workers, threads,
    preload, timeouts), but the product's hooks; it answers from gthread workers as ours does."""
    from bench.startup import bare_flask_gunicorn_command
    from bench.servers import children, wait_for_answer

    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ENV_KEYS and not key.startswith(("NRM_", "PROMETHEUS"))}
    env.update(NRM_INSTANCE_PATH=str(tmp_path / "instance"), NRM_ENV="development", PORT=str(port))
    ours = subprocess.run([sys.executable, "-c", SETTINGS_OF_NRM_SERVE], env=env, capture_output=True, text=True,
                          timeout=120)
    given = json.loads(next(line for line in ours.stdout.splitlines() if line.startswith("SETTINGS "))[9:])
    command = bare_flask_gunicorn_command(port)

    assert json.loads(command[-1]) == {**given, "bind": [f"127.0.0.1:{port}"]}
    assert given["worker_class"] == "gthread" and given["preload_app"] is True
    assert given["workers"] == (os.cpu_count() or 1) and given["threads"] == 8

    bare = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_answer(port, bare, "/")  # type: ignore[arg-type]
        answer = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        workers = children(bare.pid)
    finally:
        bare.terminate()
        log = bare.communicate(timeout=GUNICORN_STOPS_WITHIN)[1]
    assert answer.text == "ok" and answer.headers["Server"] == "gunicorn"
    assert "Using worker: gthread" in log and 1 <= len(workers) <= given["workers"]
