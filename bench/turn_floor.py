"""The floor under the turn rows: what a request that only runs a turn's two statements reaches.

``python -m bench.turn_floor`` serves the product (``bench.app``) on each server of the turn rows
(``bench.servers.SERVERS``) and each database, and sends from 10 senders, in slices that take
turns: the bare endpoint; SMS and web chat turns; and ``POST /bench/floor``, which reads a JSON
body and runs the two statements every turn needs (read one row, then durably update it, on a
pooled connection as a turn does: ``bench.app.floor_turn``) and nothing else. It prints for each:
answers a second, the ratio to the bare endpoint, the server's CPU a request and the context
switches a request (``bench.threads.measured``).

The floor's ratio is the most any turn could reach on that server and database, with no token
check, no decryption, no dialogue, no encryption and no second row: how far a turn row's target
lies from what the machine gives two statements (issue 14).
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack

from bench import turns
from bench.context import Context
from bench.servers import SERVERS
from bench.threads import measured

FLOOR = {"floor": turns.floor_request}


def main() -> None:
    from bench.run import _databases

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000, help="cases seeded into each database")
    parser.add_argument("--seconds", type=float, default=4.0, help="time each kind is sent, in all")
    parser.add_argument("--servers", default=",".join(SERVERS), help="servers to try, comma-separated")
    options = parser.parse_args()
    context = Context(cases=options.cases, sqlite_cases=options.cases, seconds=options.seconds)
    with ExitStack() as stack:
        _databases(context, stack)
        for database in context.databases:
            turns.make_floor_table(database)
            for kind in options.servers.split(","):
                print(f"{database.name}, {kind}", flush=True)
                print("\n".join(measured(database, kind, options.seconds, extra=FLOOR)), flush=True)


if __name__ == "__main__":
    main()
