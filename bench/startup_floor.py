"""The floor under ``nrm serve``'s start-up ratio: what the libraries alone cost.

``python -m bench.startup_floor`` starts four servers, each five times, the way ``bench.startup``
does (gunicorn with ``nrm serve``'s own settings, bytecode cached, to the first HTTP answer):

- the bare Flask app the start-up row compares against;
- the same bare app, which also imports SQLAlchemy's ORM (``sqlalchemy.orm``) before gunicorn forks,
  and nothing else: the models are SQLAlchemy's typed ORM, so no start of the product's app avoids it;
- the same bare app, which also imports, before gunicorn forks, every third-party module that
  ``nrm serve``'s master has loaded by then (SQLAlchemy's ORM, cryptography, Flask-Login,
  Flask-WTF, Flask-Limiter, Babel, python-statemachine...), found by building the product's app
  in a fresh interpreter, so the list follows the product; none of the product's own code runs;
- ``nrm serve``.

The second one's ratio is the least any app on these models could reach, the third's the least
``nrm serve`` could reach while using those libraries: the part of the start-up row that is the
product's own code is the difference between the last two. (Measured, issue 14: SQLAlchemy's ORM
alone took the bare app to 2.46x, past the row's target of 2x.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

from bench import startup
from bench.servers import free_port

OWN = ("backend", "bot", "flows", "bench")

LOADED = """
import json, sys
import bot.cli
bot.cli._create_app()
import gunicorn.app.base, gunicorn.arbiter, gunicorn.workers.gthread
own = {own}
print(json.dumps(sorted(name for name in list(sys.modules)
                        if name.split('.')[0] not in sys.stdlib_module_names
                        and name.split('.')[0] not in own and not name.startswith('_'))))
"""


def libraries_loaded(env: dict[str, str]) -> list[str]:
    """Every third-party module ``nrm serve``'s master has imported once its app is built."""
    done = subprocess.run([sys.executable, "-c", LOADED.format(own=OWN)], env=env, capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parent.parent)
    return json.loads(done.stdout.splitlines()[-1])


def bare_with_libraries(modules: list[str]) -> Callable[[dict[str, str]], startup.Start]:
    """The bare gunicorn app that first imports ``modules`` (one that cannot be imported alone is skipped)."""
    prelude = f"import importlib\nfor name in {modules!r}:\n    try: importlib.import_module(name)\n    except Exception: pass\n"

    def start(env: dict[str, str]) -> startup.Start:
        port = free_port()
        command = startup.bare_flask_gunicorn_command(port)
        command[2] = prelude + command[2]
        return startup.served(command, env, port, "/")
    return start


def main() -> None:
    folder, env = startup.instance_env()
    with folder:
        modules = libraries_loaded(env)
        bare = startup.median_start(startup.bare_flask_gunicorn, env)
        orm = startup.median_start(bare_with_libraries(["sqlalchemy.orm"]), env)
        floor = startup.median_start(bare_with_libraries(modules), env)
        serve = startup.median_start(startup.nrm_serve, env)
    print(f"{len(modules)} third-party modules loaded by nrm serve's master "
          f"({len({name.split('.')[0] for name in modules})} packages)")
    for name, start in (("bare Flask app on gunicorn", bare), ("the same, importing SQLAlchemy's ORM", orm),
                        ("the same, importing those modules", floor), ("nrm serve", serve)):
        print(f"{name:36} {start.seconds:5.2f} s {start.seconds / bare.seconds:5.2f}x   "
              f"CPU {start.cpu_seconds:5.2f} s {start.cpu_seconds / bare.cpu_seconds:5.2f}x")


if __name__ == "__main__":
    main()
