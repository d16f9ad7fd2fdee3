"""What a request costs PostgreSQL, seen from the client: the round trips psycopg makes and the
CPU time of the server processes behind the connections used (``bench.profile_claim``,
``bench.profile_turn``); and the maintenance autovacuum gives a database in use, so that costs are
measured as on one (:func:`analyze`)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from sqlalchemy import Engine


@contextmanager
def round_trips() -> Iterator[list[int]]:
    """Counts (in the list's one item) the queries psycopg sends and waits for while the block
    runs: statements, BEGIN, COMMIT (a ROLLBACK of a connection with no transaction sends none)."""
    from psycopg import _cursor_base, generators

    counted, real = [0], generators.execute

    def execute(*args: Any, **kwargs: Any) -> Any:
        counted[0] += 1
        return real(*args, **kwargs)

    generators.execute = _cursor_base.execute = execute  # type: ignore[assignment]
    try:
        yield counted
    finally:
        generators.execute = _cursor_base.execute = real  # type: ignore[assignment]


@contextmanager
def server_cpu() -> Iterator[Callable[[], float]]:
    """CPU seconds so far of the PostgreSQL server processes of the connections checked out while
    the block runs (read from ``/proc``, in 10 ms ticks: meaningful over many requests)."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    from bench.servers import cpu_seconds_of

    pids: set[int] = set()

    def checkout(connection: Any, *_: Any) -> None:
        pid = getattr(getattr(connection, "info", None), "backend_pid", None)
        if pid:
            pids.add(pid)

    event.listen(Pool, "checkout", checkout)
    try:
        yield lambda: cpu_seconds_of(pids)
    finally:
        event.remove(Pool, "checkout", checkout)


def analyze(engine: Engine, vacuum: bool = False) -> None:
    """``ANALYZE`` the product's tables (``vacuum``: ``VACUUM (ANALYZE)``), as autovacuum soon does
    on a live database.

    After a bulk load (the bench's million cases by COPY) PostgreSQL's guide says to run it: until
    autovacuum gets there, the planner has no statistics, reads set hint bits and so write pages,
    and autovacuum's own pass over the new rows then runs beside whatever is being measured.

    A table read while it holds a few rows is best scanned whole, and psycopg's prepared
    statements keep that plan on their connection until the table's statistics change: a run
    begun on new, nearly empty tables then scans ``inbound_messages`` and ``chat_messages`` whole
    at every turn, more each turn, until autovacuum's next ANALYZE (up to a minute: a whole
    in-process run). Analysed once they hold a few thousand rows, each statement is planned
    again along its indexes, as on a database in use."""
    from backend.models import Base

    names = ", ".join(sorted(table.name for table in Base.metadata.sorted_tables))
    with engine.connect() as connection:
        command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"{command} {names}")
