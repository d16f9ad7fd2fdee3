"""Casework commands: ``nrm jobs run``, ``nrm audit anchor|verify``, ``nrm erase``,
``nrm lifecycle diagram``, ``nrm stats``.

The casework jobs of ``jobs run`` (``backend.jobs``) clear expired claims, move cases whose
recovery period is over to the CG decision queue, delete closed cases past ``RETENTION_DAYS``
(``backend.retention``) and the records of sign-in sessions past their absolute limit
(``backend.sessions``), and anchor the audit trail.
``audit anchor`` seals the audit events written since the last anchor and prints the signed
anchor line to keep elsewhere (``backend.audit_anchors``; ``jobs run`` prints one too); ``audit
verify --anchor LINE`` then also detects events removed from the end of a chain, or whole chains.
``erase REFERENCE`` deletes one case's personal data.
``stats --quarter 2026Q3`` prints the published statistics of ``backend.statistics`` for a quarter,
a year (``2026``) or a rolling 12 months (``12m-2026Q3``): the same figures as ``GET /api/v1/stats``
and ``/casework/stats``, small numbers suppressed, as text tables, ``--format json``, or the page's
downloads ``--format csv`` / ``--format ods`` (``--output FILE`` to write a file).

"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Callable

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from backend import audit, audit_anchors, db, retention, sessions, statistics
from backend.access_audit import cli_actor
from backend.calendar import uk_date
from backend.db import utcnow
from backend.jobs import add_job, jobs_cli
from backend.lifecycle import CaseNotFound, diagram_markdown, end_recoveries
from backend.queues import expire_claims
from backend.statistics import cache as statistics_cache
from backend.statistics import downloads

DEFAULT_DIAGRAM = Path("docs") / "lifecycle.md"

audit_cli = AppGroup("audit", help="The hash-chained audit trail.")
lifecycle_cli = AppGroup("lifecycle", help="The case lifecycle chart.")


def _expire_claims(app: Flask) -> str:
    with db.get_db(app).transaction() as session:
        return f"claims expired: {len(expire_claims(session))}"


def _end_recoveries(app: Flask) -> str:
    with db.get_db(app).transaction() as session:
        return f"recovery periods ended: {len(end_recoveries(session))}"


def _apply_retention(app: Flask) -> str:
    with db.get_db(app).transaction() as session:
        deleted = retention.apply_retention(session, int(app.config["RETENTION_DAYS"]))
    return f"cases past retention deleted: {len(deleted)}"


def _purge_sessions(app: Flask) -> str:
    with db.get_db(app).transaction() as session:
        oldest = sessions.utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"])
        return f"sign-in sessions deleted: {sessions.purge(session, oldest)}"


def _anchor_audit(app: Flask) -> str:
    with db.get_db(app).transaction() as session:
        anchor = audit_anchors.make_anchor(session)
    return f"audit anchor: {anchor.line() if anchor else 'none (the audit trail is empty)'}"


CASEWORK_JOBS = {"claims": _expire_claims, "recoveries": _end_recoveries, "retention": _apply_retention,
                 "sessions": _purge_sessions, "audit-anchor": _anchor_audit, "statistics": statistics_cache.fill_latest}
"""Clear expired claims, move cases whose recovery period is over to the CG decision queue,
delete closed cases past their retention period and sign-in sessions that can no longer be used,
seal the audit events written since the last anchor (printing the line to keep elsewhere), and
count the statistics of a quarter that has just ended (``backend.statistics.cache``)."""


@audit_cli.command("anchor")
def audit_anchor() -> None:
    """Seal the events written since the last anchor and print the signed anchor: one line to
    keep outside the database (for verify)."""
    with db.get_db().transaction() as session:
        anchor = audit_anchors.make_anchor(session)
    if anchor is None:
        raise click.ClickException("the audit trail is empty: nothing to anchor yet")
    click.echo(anchor.line())


def _anchors(lines: tuple[str, ...], files: tuple[Path, ...]) -> list[audit_anchors.Anchor]:
    """The anchors given on the command line and in files (one per line; blank lines and # skipped)."""
    given = list(lines)
    for path in files:
        given += [line for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    try:
        return [audit_anchors.parse_anchor(line) for line in given]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--anchor") from None


@audit_cli.command("verify")
@click.option("--anchor", "anchor_lines", multiple=True, metavar="LINE",
              help="A line printed by `nrm audit anchor`: every event sealed by then must still be there unchanged.")
@click.option("--anchor-file", "anchor_files", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A file of anchor lines.")
def audit_verify(anchor_lines: tuple[str, ...], anchor_files: tuple[Path, ...]) -> None:
    """Check the audit trail's keyed hash chains, the anchors stored with them and those given;
    print every problem and exit 1 if there is any."""
    anchors = _anchors(anchor_lines, anchor_files)
    with db.get_db().transaction(readonly=True) as session:
        problems = audit.verify(session, anchors)
    if problems:
        for problem in problems:
            click.echo(problem)
        click.echo(f"audit trail: {len(problems)} problem(s)", err=True)
        raise SystemExit(1)
    click.echo("audit trail intact" + (f" and reaches all {len(anchors)} anchor(s)" if anchors else ""))


@click.command("erase")
@with_appcontext
@click.argument("reference")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(reference: str, yes: bool) -> None:
    """Erase one person's case: payload, reasons and notes deleted, its audit events' detail
    removed, and a data-free "erased" event (who, when) recorded. Cannot be undone."""
    reference = reference.strip().upper()
    if not yes:
        click.confirm(f"Erase case {reference} and all its personal data for good?", abort=True)
    try:
        with db.get_db().transaction() as session:
            redacted = retention.erase(session, reference, cli_actor())
    except CaseNotFound as error:
        raise click.ClickException(error.message) from None
    click.echo(f"erased case {reference} ({redacted} audit event(s) redacted)")


@lifecycle_cli.command("diagram")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def lifecycle_diagram(path: Path | None) -> None:
    """Write the chart as Markdown + Mermaid (default docs/lifecycle.md; "-" for stdout)."""
    text = diagram_markdown()
    if path is not None and str(path) == "-":
        click.echo(text, nl=False)
        return
    target = path or DEFAULT_DIAGRAM
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


STATS_FORMATS: dict[str, Callable[[statistics.Report], str | bytes]] = {
    "text": statistics.text_report,
    "json": lambda report: json.dumps(statistics.as_json(report), indent=2, ensure_ascii=False) + "\n",
    "csv": lambda report: downloads.to_csv(report).encode(downloads.CSV_ENCODING),
    "ods": downloads.to_ods,
}


@click.command("stats")
@with_appcontext
@click.option("--quarter", "--period", "period", metavar="PERIOD",
              help="2026Q3 (a quarter), 2026 (a year) or 12m-2026Q3 (rolling 12 months); default: the latest "
                   "ended quarter.")
@click.option("--format", "output_format", type=click.Choice(list(STATS_FORMATS)), default="text",
              show_default=True, help="How to print the tables.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of the terminal.")
def stats(period: str | None, output_format: str, output: Path | None) -> None:
    """Print the published statistics (counts only; 1 to 4 shown as "<5")."""
    today = uk_date(utcnow())
    try:
        chosen = statistics.parse(period, today)
    except statistics.InvalidPeriod as error:
        raise click.BadParameter(str(error), param_hint="--quarter") from None
    with db.get_db().transaction(readonly=True) as session:
        report = statistics.build(session, chosen, today)
    rendered = STATS_FORMATS[output_format](report)
    data = rendered.encode("utf-8") if isinstance(rendered, str) else rendered
    if output is not None:
        output.write_bytes(data)
        click.echo(f"wrote {output}")
    else:
        click.echo(data, nl=False)


def register(app: Flask) -> None:
    """Add the casework commands to ``app.cli`` and the casework jobs (idempotent)."""
    for command in (jobs_cli, audit_cli, lifecycle_cli, stats, erase):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
    for name, job in CASEWORK_JOBS.items():
        add_job(app, name, job)
