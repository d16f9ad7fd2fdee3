"""Casework commands: ``nrm jobs run``, ``nrm audit anchor|verify``, ``nrm erase``,
``nrm lifecycle diagram``, ``nrm stats``.

The casework jobs of ``jobs run`` (``backend.jobs``) clear expired claims, move cases whose
recovery period is over to the CG decision queue and delete closed cases past ``RETENTION_DAYS``
(``backend.retention``) and the records of sign-in sessions past their absolute limit
(``backend.sessions``). ``audit anchor`` prints the
signed head of the audit chain to keep elsewhere; ``audit verify --anchor LINE`` then also detects
events removed from the end. ``erase REFERENCE`` deletes one case's personal data.
``stats`` prints the aggregate statistics of ``backend.statistics`` (the same figures as
``GET /api/v1/stats`` and ``/casework/stats``, small numbers suppressed) as text tables, or as JSON
with ``--json``; ``--from``/``--to`` (YYYY-MM-DD) limit them to cases submitted in that period.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from backend import audit, db, retention, sessions
from backend.access_audit import cli_actor
from backend.jobs import add_job, jobs_cli
from backend.lifecycle import CaseNotFound, diagram_markdown, end_recoveries
from backend.queues import expire_claims
from backend.statistics import InvalidPeriod, parse_period, statistics, text_report

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


CASEWORK_JOBS = {"claims": _expire_claims, "recoveries": _end_recoveries, "retention": _apply_retention,
                 "sessions": _purge_sessions}
"""Clear expired claims, move cases whose recovery period is over to the CG decision queue,
delete closed cases past their retention period and sign-in sessions that can no longer be used."""


@audit_cli.command("anchor")
def audit_anchor() -> None:
    """Print the signed head of the chain: one line to keep outside the database (for verify)."""
    with db.get_db().transaction(readonly=True) as session:
        anchor = audit.make_anchor(session)
    if anchor is None:
        raise click.ClickException("the audit trail is empty: nothing to anchor yet")
    click.echo(anchor.line())


def _anchors(lines: tuple[str, ...], files: tuple[Path, ...]) -> list[audit.Anchor]:
    """The anchors given on the command line and in files (one per line; blank lines and # skipped)."""
    given = list(lines)
    for path in files:
        given += [line for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    try:
        return [audit.parse_anchor(line) for line in given]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--anchor") from None


@audit_cli.command("verify")
@click.option("--anchor", "anchor_lines", multiple=True, metavar="LINE",
              help="A line printed by `nrm audit anchor`: the chain must still reach that event unchanged.")
@click.option("--anchor-file", "anchor_files", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A file of anchor lines.")
def audit_verify(anchor_lines: tuple[str, ...], anchor_files: tuple[Path, ...]) -> None:
    """Check the audit trail's keyed hash chain (and anchors); print every problem and exit 1 if
    there is any."""
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


@click.command("stats")
@with_appcontext
@click.option("--from", "start", metavar="YYYY-MM-DD", help="Only cases submitted on or after this UK date.")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Only cases submitted on or before this UK date.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the shape of GET /api/v1/stats).")
def stats(start: str | None, end: str | None, as_json: bool) -> None:
    """Print aggregate statistics (counts only; 1 to 4 shown as "<5")."""
    try:
        period = parse_period(start, end)
    except InvalidPeriod as error:
        raise click.BadParameter(str(error), param_hint=f"--{error.field}") from None
    with db.get_db().transaction(readonly=True) as session:
        result = statistics(session, period=period)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else text_report(result))


def register(app: Flask) -> None:
    """Add the casework commands to ``app.cli`` and the casework jobs (idempotent)."""
    for command in (jobs_cli, audit_cli, lifecycle_cli, stats, erase):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
    for name, job in CASEWORK_JOBS.items():
        add_job(app, name, job)
