"""One row of the bench's table, and the table as text (stdout) and as ``docs/performance.md``."""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass
class Row:
    """One figure against its target. ``ratio`` is against the bare endpoint or app of the same run
    (None for absolute figures); ``passed`` is None when there is no target to meet."""

    what: str
    figure: str
    target: str
    passed: bool | None
    command: str
    ratio: float | None = None

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else "pass" if self.passed else "FAIL"

    @property
    def shown_ratio(self) -> str:
        return "" if self.ratio is None else f"{self.ratio:.2f}x"


def text_table(rows: list[Row]) -> str:
    width = max((len(row.what) for row in rows), default=10)
    lines = [f"{'what':{width}}  {'ratio':>7}  {'target':14}  {'':4}  figure"]
    lines += [f"{row.what:{width}}  {row.shown_ratio:>7}  {row.target:14}  {row.verdict:4}  {row.figure}"
              for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """CPU model and count, memory, OS and Python: what the figures were measured on."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} x {model}, {memory_kb / 1024 / 1024:.0f} GB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def markdown(rows: list[Row], preamble: list[str], notes: list[str],
             sections: Sequence[tuple[str, str]] = ()) -> str:
    """The report: the preamble, the table, each section (a title and preformatted text), the notes."""
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731
    lines = ["# Performance", "", *preamble, "",
             "| what | figure | ratio | target | result | command |", "|---|---|---|---|---|---|"]
    lines += [f"| {cell(r.what)} | {cell(r.figure)} | {r.shown_ratio} | {cell(r.target)} | {r.verdict} | "
              f"`{cell(r.command)}` |" for r in rows]
    for title, text in sections:
        lines += ["", f"## {title}", "", "```", text, "```"]
    return "\n".join([*lines, "", *notes, ""])


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
