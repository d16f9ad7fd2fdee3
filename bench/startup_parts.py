"""Where ``nrm serve``'s start goes: the CPU time of each part of building the app in its master.

``python -m bench.startup_parts [--runs N]`` imports, in a fresh interpreter each run and in the
order ``nrm serve`` needs them, the libraries and product modules the master loads before gunicorn
forks its workers, then builds the app (``bot.cli._create_app``) and imports gunicorn, timing each
step in process CPU time (the collector off, as the ``nrm`` script starts). It prints the median
of each step over the runs and its share of the whole. A step's time is what it adds to the steps
before it (a module another step already imported counts there), so the order matters: it is the
order in which ``import bot.cli`` and ``bot.app`` first reach them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.startup import instance_env

STEPS: tuple[tuple[str, str], ...] = (
    ("flask (what a bare app imports)", "import flask"),
    ("click, flask.cli and bot.cli", "import bot.cli"),
    ("sqlalchemy", "import sqlalchemy"),
    ("sqlalchemy.orm", "import sqlalchemy.orm"),
    ("SQLite dialect", "import sqlalchemy.dialects.sqlite"),
    ("PostgreSQL dialect (the models' postgresql_where)", "import sqlalchemy.dialects.postgresql"),
    ("flask_login (and pdb, by its test client)", "import flask_login"),
    ("backend.models (cryptography, the 23 mapped classes)", "import backend.models"),
    ("flask_limiter and limits", "import flask_limiter"),
    ("prometheus_client", "import prometheus_client"),
    ("flask_wtf and wtforms", "import flask_wtf.csrf"),
    ("argon2", "import argon2"),
    ("python-statemachine", "import statemachine"),
    ("flows (the dialogue)", "import flows.dialogue"),
    ("the rest of bot.app's imports", "import bot.app"),
    ("create_app (blueprint modules, URL rules, engine)", "bot.cli._create_app()"),
    ("gunicorn (arbiter, gthread worker)", "import gunicorn.app.base, gunicorn.arbiter, gunicorn.workers.gthread"),
)

MEASURE = """
import gc, json, time
gc.disable()
found = {"interpreter start": time.process_time()}
for name, code in json.loads(STEPS):
    began = time.process_time()
    exec(code)
    found[name] = time.process_time() - began
found["total"] = time.process_time()
print("PARTS " + json.dumps(found))
"""


def measure(env: dict[str, str]) -> dict[str, float]:
    """One run in a fresh interpreter: CPU seconds of each step (and ``total``)."""
    code = f"STEPS = {json.dumps(json.dumps(STEPS))}\n{MEASURE}"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("PARTS "))
    return json.loads(line.removeprefix("PARTS "))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_parts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters; the median of each step")
    args = parser.parse_args(argv)
    folder, env = instance_env()
    with folder:
        runs = [measure(env) for _ in range(args.runs)]
    total = statistics.median(run["total"] for run in runs)
    for name in runs[0]:
        median = statistics.median(run[name] for run in runs)
        print(f"{median * 1000:7.0f} ms {median / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
