"""Server CPU of one SMS or web chat turn in-process, against the bare endpoint, and where it goes.

The product (``bench.app``, production settings) on a fresh SQLite file, or on PostgreSQL with
``--pg URL``, driven through the WSGI app itself (no socket, no server): each request is timed in
process CPU time, so the figures are this process's work only and hold on a busy machine better
than wall time. On PostgreSQL it also prints each turn's round trips and the CPU of the server
processes that answered them, on analysed tables (``bench.postgres_costs.analyze``).
``--profile sms|chat|bare`` also prints a pyinstrument profile of that kind.

    .venv/bin/python -m bench.profile_turn                   # CPU ms a request, SQLite
    .venv/bin/python -m bench.profile_turn --profile sms     # ... and where an SMS turn spends it
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from werkzeug.test import EnvironBuilder

from bench import turns
from bench.context import Context, Database
from bench.postgres_costs import analyze, round_trips, server_cpu

KINDS = ("bare", "sms", "chat")


class _Port:
    """What ``bench.turns.sms_request`` reads of a server: the port of the signed URL."""

    port = 80


def _environ(request: Any) -> dict[str, Any]:
    method, path, body, headers = request
    return EnvironBuilder(path=path, method=method, data=body, headers=headers,
                          base_url="http://127.0.0.1:80").get_environ()


def _caller(app: Any, database: Database, kind: str) -> Callable[[int], dict[str, Any]]:
    """A function giving the WSGI environ of the ``i``-th request of ``kind`` (all from sender 0)."""
    if kind == "bare":
        return lambda i: _environ(turns.BARE)
    if kind == "sms":
        return lambda i: _environ(turns.sms_request(database, _Port, 0))  # type: ignore[arg-type]
    return lambda i: _environ(turns.chat_request(database, 0))


def _call(app: Any, environ: dict[str, Any]) -> int:
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    code = int(status[0].split()[0])
    assert code == 200, (code, body[:300])
    return code


def cpu_ms(app: Any, makers: dict[str, Callable[[int], dict[str, Any]]], count: int) -> dict[str, float]:
    """Median process CPU milliseconds of ``count`` requests of each kind (:func:`cpu_times`)."""
    return {kind: 1000 * statistics.median(times) for kind, times in cpu_times(app, makers, count).items()}


def cpu_times(app: Any, makers: dict[str, Callable[[int], dict[str, Any]]], count: int) -> dict[str, list[float]]:
    """Process CPU seconds of each of ``count`` requests of each kind, the kinds taking turns (so
    that other work on the machine weighs on each alike); environs are built outside the timing."""
    took: dict[str, list[float]] = {kind: [] for kind in makers}
    for i in range(count):
        for kind, make in makers.items():
            environ = make(i)
            began = time.process_time()
            _call(app, environ)
            took[kind].append(time.process_time() - began)
    return took


def postgres_per_request(app: Any, make: Callable[[int], dict[str, Any]], count: int) -> tuple[float, float]:
    """Round trips to PostgreSQL and milliseconds of its server processes' CPU, a request, over
    ``count`` requests made by ``make`` (what the process CPU above leaves out)."""
    environs = [make(i) for i in range(count)]
    with round_trips() as counted, server_cpu() as postgres_cpu:
        _call(app, environs[0])  # a checkout, so that the server process is known
        before_trips, before_cpu = counted[0], postgres_cpu()
        for environ in environs[1:]:
            _call(app, environ)
        return (counted[0] - before_trips) / (count - 1), 1000 * (postgres_cpu() - before_cpu) / (count - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL URL (default: a new SQLite file)")
    parser.add_argument("--count", type=int, default=400, help="requests of each kind")
    parser.add_argument("--profile", choices=KINDS, help="print a profile of this kind (pyinstrument, wall time)")
    parser.add_argument("--cprofile", choices=KINDS, help="print a cProfile of this kind in process CPU time")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.pg or f"sqlite:///{Path(folder) / 'bench.db'}"
        database = Database("PostgreSQL" if options.pg else "SQLite", url, folder)
        database.prepare(10)  # a few cases: the seeder needs some
        database.env["PUBLIC_BASE_URL"] = "http://127.0.0.1:80"
        context = Context(cases=0, sqlite_cases=0, seconds=0, databases=[database])
        from bench.app import create_app

        flask_app = create_app_for(database, create_app)
        with flask_app.app_context():
            pass
        app = flask_app.wsgi_app
        for sender_body in ("Hello", "1"):
            _call(app, _environ(turns.sms_request(database, _Port, 0, sender_body)))  # type: ignore[arg-type]
        database.sms_sent[0] = 0
        opened = flask_app.test_client().post("/api/chat/conversations",
                                              headers=turns._bearer(database))  # noqa: SLF001
        database.chats[0] = opened.get_json()["conversation"]
        makers = {kind: _caller(app, database, kind) for kind in KINDS}
        cpu_ms(app, makers, 30)  # warm: imports, compiled templates, caches
        figures = cpu_ms(app, makers, options.count)
        print(f"{database.name}: median process CPU a request over {options.count} requests")
        for kind in KINDS:
            print(f"  {kind:5} {figures[kind]:6.2f} ms   {figures['bare'] / figures[kind]:.2f}x bare")
        if options.pg:
            from backend import db

            with flask_app.app_context():
                analyze(db.get_db(flask_app).engine)
            cpu_ms(app, makers, 30)  # each statement planned again, on the analysed tables
            for kind in KINDS[1:]:
                trips, server_ms = postgres_per_request(app, makers[kind], options.count)
                print(f"  {kind:5} {trips:.1f} round trips and {server_ms:.2f} ms of the PostgreSQL server's CPU a turn")
        if options.profile:
            make = _caller(app, database, options.profile)
            print_pyinstrument(app, [make(i) for i in range(options.count)])
        if options.cprofile:
            make = _caller(app, database, options.cprofile)
            print_cprofile(app, [make(i) for i in range(options.count)])
        del context


def print_pyinstrument(app: Any, environs: list[dict[str, Any]]) -> None:
    """A pyinstrument profile (wall time) of ``app`` answering ``environs``."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0002)
    profiler.start()
    for environ in environs:
        _call(app, environ)
    profiler.stop()
    out = io.StringIO()
    out.write(profiler.output_text(unicode=False, color=False, show_all=False))
    print(out.getvalue())


def print_cprofile(app: Any, environs: list[dict[str, Any]]) -> None:
    """A cProfile (process CPU time) of ``app`` answering ``environs``: by cumulative, then own time."""
    import cProfile
    import pstats

    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for environ in environs:
        _call(app, environ)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)


def create_app_for(database: Database, create_app: Callable[[], Any]) -> Any:
    """``bench.app`` with the database's settings, as the bench's servers get them."""
    import os

    os.environ.update(database.env)
    return create_app()


if __name__ == "__main__":
    main()
