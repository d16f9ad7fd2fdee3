"""Start the product (``bench.app``) as a real server in its own process, and read its CPU and memory.

Three servers: werkzeug's threaded server (what ``run_simple`` gives), gunicorn ``-k sync`` and
gunicorn ``-k gthread``, each with one worker per core. CPU time and peak RSS are read from
``/proc`` for the server process and all its children (gunicorn's workers), so a figure per request
is the server's own work, apart from the load generator's.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

SERVERS = ("werkzeug", "gunicorn-sync", "gunicorn-gthread")
GTHREAD_THREADS = 8
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(kind: str, port: int, threads: int = GTHREAD_THREADS) -> list[str]:
    """The command line that serves ``bench.app`` with server ``kind`` on ``port`` (``threads`` a
    gthread worker)."""
    if kind == "werkzeug":
        return [sys.executable, "-c", "import logging; from werkzeug.serving import run_simple; "
                "from bench.app import create_app; logging.getLogger('werkzeug').setLevel(logging.WARNING); "
                f"run_simple('127.0.0.1', {port}, create_app(), threaded=True)"]
    workers = str(os.cpu_count() or 1)
    worker = ["-k", "sync"] if kind == "gunicorn-sync" else ["-k", "gthread", "--threads", str(threads)]
    return [sys.executable, "-m", "gunicorn", *worker, "-w", workers, "-b", f"127.0.0.1:{port}",
            "--backlog", "2048", "--log-level", "warning", "bench.app:create_app()"]


class Server:
    """One server process on loopback: ``with Server(kind, env) as server: ... server.port``."""

    def __init__(self, kind: str, env: dict[str, str], threads: int = GTHREAD_THREADS) -> None:
        self.kind = kind
        self.threads = threads
        self.port = free_port()
        self.env = {**os.environ, **env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}"}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(command(self.kind, self.port, self.threads), env=self.env,
                                        cwd=Path(__file__).parent.parent, stdout=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_for_answer(self.port, self.process, "/bench/bare")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def pids(self) -> list[int]:
        """The server process and its workers."""
        assert self.process is not None
        return [self.process.pid, *children(self.process.pid)]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its workers so far."""
        return cpu_seconds_of(self.pids())

    def reset_peak_rss(self) -> None:
        """Start the peak resident set (VmHWM) afresh, so the next reading is the next request's."""
        for pid in self.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                continue

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of the server's processes, in MB."""
        peaks = []
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            peaks += [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")]
        return max(peaks, default=0) / 1024


def cpu_seconds_of(pids: Iterable[int]) -> float:
    """User + system CPU time of processes ``pids`` so far (those that have ended count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def wait_for_answer(port: int, process: subprocess.Popen[bytes], path: str = "/", timeout: float = 60) -> float:
    """Poll ``path`` until the server answers anything; the seconds it took. Fails if it exits."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"server did not answer within {timeout} s")
