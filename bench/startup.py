"""Time to first answer: ``nrm serve`` and ``nrm chat`` against a bare Flask app.

``nrm serve`` counts from the process start to the first HTTP answer of the sign-in page (what a
member of staff opens first); ``nrm chat`` to its first line of output (the language list); the
bare app to its first HTTP answer. The bare app (one route answering "ok") is started two ways:
served by gunicorn exactly as ``nrm serve`` serves the product (``bot.server.server_settings``:
gthread, the same default workers and threads, the app imported once in the master before the
workers fork) and by werkzeug's ``run_simple``. ``nrm serve``'s verdict is against the first, the
same server (the issue compares every figure against a bare Flask endpoint on the same server);
``nrm chat``, no server, is compared with the second, the quicker. Each is started ``REPEATS``
times and the median taken, of the time (what the ratio compares) and of the CPU time the
process and its children (gunicorn's workers) had used by then, which a busy machine inflates less.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.report import Row
from bench.servers import children, free_port, wait_for_answer

REPEATS = 5
BIN = Path(sys.executable).parent
BARE_FLASK = ("from flask import Flask; from werkzeug.serving import run_simple; app = Flask('bare'); "
              "app.get('/')(lambda: 'ok'); run_simple('127.0.0.1', {port}, app, threaded=True)")
BARE_FLASK_GUNICORN = """
import json, sys
from flask import Flask
from gunicorn.app.base import BaseApplication
app = Flask('bare')
app.get('/')(lambda: 'ok')
class Bare(BaseApplication):
    def load_config(self):
        for key, value in json.loads(sys.argv[1]).items():
            self.cfg.set(key, value)
    def load(self):
        return app
Bare().run()
"""
TARGET = 2.0
"""``nrm serve`` and ``nrm chat`` to their first answer: at most twice the bare app's time."""


_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Start:
    """One start: seconds to the first answer, and the CPU seconds used by then."""

    seconds: float
    cpu_seconds: float


def _family(pid: int) -> list[int]:
    """``pid`` and every process under it (gunicorn's master and its workers)."""
    return [pid, *(descendant for child in children(pid) for descendant in _family(child))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of ``pid`` and every process under it (from ``/proc``)."""
    ticks = 0
    for process in _family(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += sum(int(field) for field in fields[11:15])  # utime, stime, and of children waited for
    return ticks / _TICKS


def served(command: list[str], env: dict[str, str], port: int, path: str) -> Start:
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_answer(port, process, path)
        return Start(time.perf_counter() - began, _cpu_seconds(process.pid))
    finally:
        process.terminate()
        process.wait()


def _first_line(command: list[str], env: dict[str, str]) -> Start:
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        if not process.stdout.readline():
            raise RuntimeError(f"{command[0]} printed nothing")
        return Start(time.perf_counter() - began, _cpu_seconds(process.pid))
    finally:
        process.kill()
        process.wait()


def bare_flask(env: dict[str, str]) -> Start:
    port = free_port()
    return served([sys.executable, "-c", BARE_FLASK.format(port=port)], env, port, "/")


def bare_flask_gunicorn(env: dict[str, str]) -> Start:
    """The bare app under gunicorn with ``nrm serve``'s own settings (but its product hooks)."""
    port = free_port()
    return served(bare_flask_gunicorn_command(port), env, port, "/")


def bare_flask_gunicorn_command(port: int) -> list[str]:
    """The command serving the bare app on ``port`` with :func:`bot.server.server_settings` for
    ``nrm serve``'s defaults (its workers and threads when NRM_WORKERS and NRM_THREADS are unset)."""
    from bot.cli import DEFAULT_THREADS
    from bot.server import default_workers, server_settings

    settings = server_settings(f"127.0.0.1:{port}", default_workers(), DEFAULT_THREADS)
    return [sys.executable, "-c", BARE_FLASK_GUNICORN, json.dumps(settings)]


def nrm_serve(env: dict[str, str]) -> Start:
    port = free_port()
    return served([str(BIN / "nrm"), "serve"], {**env, "PORT": str(port)}, port, "/casework/sign-in")


def nrm_chat(env: dict[str, str]) -> Start:
    return _first_line([str(BIN / "nrm"), "chat", "--new"], env)


def median_start(start: Callable[[dict[str, str]], Start], env: dict[str, str], repeats: int = REPEATS) -> Start:
    """The median time and the median CPU time of ``repeats`` starts."""
    starts = [start(env) for _ in range(repeats)]
    return Start(statistics.median(one.seconds for one in starts), statistics.median(one.cpu_seconds for one in starts))


def instance_env() -> tuple[tempfile.TemporaryDirectory[str], dict[str, str]]:
    """A fresh instance folder, migrated (``nrm db upgrade``), and the environment that uses it."""
    folder = tempfile.TemporaryDirectory(prefix="nrm-bench-start-")
    # As deployed: bytecode cached (a first start writes it), the instance's SQLite database.
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE")}
    env.update(NRM_INSTANCE_PATH=folder.name, NRM_ENV="development")
    subprocess.run([str(BIN / "nrm"), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot", "backend", "flows"], env=env, check=True,
                   cwd=Path(__file__).parent.parent, stdout=subprocess.DEVNULL)
    return folder, env


def rows(command: str) -> list[Row]:
    """The two start-up rows, each with its ratio to its bare app (``command`` reproduces them)."""
    folder, env = instance_env()
    with folder:
        on_gunicorn = median_start(bare_flask_gunicorn, env)
        on_werkzeug = median_start(bare_flask, env)
        serve = median_start(nrm_serve, env)
        chat = median_start(nrm_chat, env)
    return [
        Row("`nrm serve` to first answer", f"{serve.seconds:.2f} s (CPU {serve.cpu_seconds:.2f} s) vs bare Flask app "
            f"on gunicorn as served by nrm serve {_versus(serve, on_gunicorn)}; on werkzeug {_versus(serve, on_werkzeug)}",
            f"<= {TARGET}x (same server)", serve.seconds / on_gunicorn.seconds <= TARGET, command,
            serve.seconds / on_gunicorn.seconds),
        Row("`nrm chat` to first answer", f"{chat.seconds:.2f} s (CPU {chat.cpu_seconds:.2f} s) vs bare Flask app on "
            f"werkzeug {_versus(chat, on_werkzeug)}; on gunicorn {_versus(chat, on_gunicorn)}",
            f"<= {TARGET}x", chat.seconds / on_werkzeug.seconds <= TARGET, command, chat.seconds / on_werkzeug.seconds),
    ]


def _versus(ours: Start, bare: Start) -> str:
    return (f"{bare.seconds:.2f} s (CPU {bare.cpu_seconds:.2f} s): {ours.seconds / bare.seconds:.2f}x, "
            f"CPU {ours.cpu_seconds / bare.cpu_seconds:.2f}x")


if __name__ == "__main__":
    from bench.report import text_table

    print(text_table(rows(f"{Path(sys.executable).name} -m bench.startup")))
