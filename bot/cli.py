"""The ``nrm`` command: Flask's CLI around the whole-product app (DESIGN.md §3)."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from backend.config import ConfigError
from bot.app import create_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@with_appcontext
def serve_command(host: str) -> None:
    """Serve the product (web chat, SMS webhook, casework) on PORT (default 5000)."""
    port = int(os.environ.get("PORT", "5000"))
    click.echo(f"NRM Referral Assistant on http://{host}:{port}/")
    click.echo(f"  sign in (all staff):   http://{host}:{port}/casework/sign-in")
    click.echo(f"  web chat (operators):  http://{host}:{port}/chat")
    click.echo(f"  casework queues:       http://{host}:{port}/casework/")
    click.echo(f"  web chat API:          http://{host}:{port}/api/chat/conversations")
    click.echo("  terminal chat:         .venv/bin/nrm chat --phone +447700900123")
    click.echo("  demo logins:           printed by `nrm demo` above; API tokens: nrm user add EMAIL --role operator")
    run_simple(host, port, current_app._get_current_object(), threaded=True)


def _create_app() -> object:
    try:
        app = create_app()
    except ConfigError as error:  # a clear one-line refusal, not a traceback
        raise click.ClickException(f"cannot start: {error}") from None
    app.cli.add_command(serve_command)
    return app


main = FlaskGroup(create_app=_create_app, add_version_option=False, load_dotenv=False,
                  help="NRM Referral Assistant: referral dialogue, queues and casework.")
main.add_command(__import__("bot.translate", fromlist=["translate_group"]).translate_group)  # needs no app
