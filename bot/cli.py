"""The ``nrm`` command: Flask's CLI around the whole-product app (DESIGN.md §3)."""

from __future__ import annotations

from typing import Callable

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from backend.config import ConfigError
from bot.nrm import started

DEFAULT_THREADS = 8
"""gunicorn threads per worker unless NRM_THREADS or --threads says otherwise."""


def _default_bind() -> str:
    from bot import server  # gunicorn: only `nrm serve` needs it, not `nrm chat` and the rest

    return server.default_bind()


def _default_workers() -> int:
    from bot import server

    return server.default_workers()


@click.command("serve")
@click.option("--bind", default=_default_bind, show_default="HOST:PORT or 127.0.0.1:5000",
              help="Address and port to listen on.")
@click.option("--workers", envvar="NRM_WORKERS", type=click.IntRange(min=1), default=_default_workers,
              show_default="NRM_WORKERS or one per CPU core", help="gunicorn worker processes.")
@click.option("--threads", envvar="NRM_THREADS", type=click.IntRange(min=1), default=DEFAULT_THREADS,
              show_default=True, help="Threads per worker (NRM_THREADS).")
@click.option("--dev", is_flag=True, help="werkzeug's development server instead (NRM_ENV=development only).")
@with_appcontext
def serve_command(bind: str, workers: int, threads: int, dev: bool) -> None:
    """Serve the product (web chat, SMS webhook, casework) with gunicorn."""
    from bot import server

    config = current_app.config
    if dev and config["NRM_ENV"] != "development":
        raise click.ClickException(
            f"the development server runs only with NRM_ENV=development (NRM_ENV is {config['NRM_ENV']}); "
            "run `nrm serve` without --dev for gunicorn")
    base = f"http://{bind}"
    click.echo(f"NRM Referral Assistant on {base}/")
    click.echo(f"  sign in (all staff):   {base}/casework/sign-in")
    click.echo(f"  web chat (operators):  {base}/chat")
    click.echo(f"  casework queues:       {base}/casework/")
    click.echo(f"  web chat API:          {base}/api/chat/conversations")
    click.echo(f"  health, readiness:     {base}/healthz, {base}/readyz")
    click.echo("  terminal chat:         .venv/bin/nrm chat --phone +447700900123")
    click.echo("  demo logins:           printed by `nrm demo` above; API tokens: nrm user add EMAIL --role operator")
    if dev:
        server.serve_development(current_app._get_current_object(), bind, config["NRM_LOG_FORMAT"])
        return
    click.echo(f"  gunicorn:              {workers} worker(s) x {threads} thread(s); Ctrl-C or SIGTERM stops")
    if workers > 1 and config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        click.echo("  note: RATELIMIT_STORAGE_URI is memory://, so each worker counts its own rate limits; "
                   "set a shared store (e.g. redis://) in production")
    server.serve_gunicorn(current_app._get_current_object(), bind, workers, threads,  # type: ignore[attr-defined]
                          config["NRM_LOG_FORMAT"])


def _built(factory: Callable[[], Flask]) -> Flask:
    try:
        return factory()
    except ConfigError as error:  # a clear one-line refusal, not a traceback
        raise click.ClickException(f"cannot start: {error}") from None


def _create_app() -> Flask:
    from bot.app import create_app  # the whole web app: not for `nrm chat` (see _Commands)

    app = _built(create_app)
    app.cli.add_command(serve_command)
    return app


class _Commands(FlaskGroup):
    """Flask's command group, loading other packages' ``flask.commands`` plugins (Flask-Limiter's
    ``limiter``, which imports rich) only for a command that is not the product's own, so that
    ``nrm chat`` and ``nrm serve`` start without them. ``nrm --help`` still lists them.

    ``nrm chat`` runs in ``bot.terminal.create_terminal_app`` (settings; the database once its
    first question is shown) rather than the whole web app, which it would build only to leave
    unused. Once the command is found (and its app built) the garbage collector, off while the
    ``nrm`` script starts, resumes (``bot.nrm``)."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        try:
            return self._command(ctx, name)
        finally:
            started()  # the app is built: the collector resumes (``bot.nrm``)

    def _command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "chat":
            from bot.terminal import chat_command, create_terminal_app

            ctx.with_resource(_built(create_terminal_app).app_context())
            return chat_command
        if not self._loaded_plugin_commands:
            self._loaded_plugin_commands = True  # the built-in and the product's commands first
            try:
                found = super().get_command(ctx, name)
            finally:
                self._loaded_plugin_commands = False
            if found is not None:
                return found
        return super().get_command(ctx, name)


main = _Commands(create_app=_create_app, add_version_option=False, load_dotenv=False,
                  help="NRM Referral Assistant: referral dialogue, queues and casework.")
main.add_command(__import__("bot.translate", fromlist=["translate_group"]).translate_group)  # needs no app
