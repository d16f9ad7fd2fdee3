"""``nrm chat``: the SMS dialogue in a terminal, through the same engine and database.

Useful for trying the dialogue and for support staff; a draft typed here survives the process
being killed, and ``nrm chat`` picks it up again. It runs in :func:`create_terminal_app`, not
the whole web app, so that it starts quickly. The quick-exit word deletes the draft at once
and ends the session, as by SMS (``bot.quick_exit``).
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from backend import text_hygiene
from backend.core import init_core
from backend.db import get_db
from backend.models import Responder
from bot import engine, quick_exit
from bot.registration import prefill
from flows import languages

CHANNEL = "cli"


def create_terminal_app() -> Flask:
    """The app ``nrm chat`` runs in: ``bot.app``'s settings, database, cipher and audit key, and
    none of its web (pages, API, limits, metrics), which a terminal never serves."""
    app = Flask("bot", instance_relative_config=True)
    init_core(app)
    return app


def _responder(phone: str | None) -> tuple[str, str, dict | None]:
    """Address, audit actor and registration answers for ``--phone`` (a registered number)."""
    if phone is None:
        return "terminal", "terminal", None
    import phonenumbers  # only for --phone: not on every start

    try:
        number = phonenumbers.parse(phone, "GB")
    except phonenumbers.NumberParseException as error:
        raise click.BadParameter(str(error), param_hint="--phone") from error
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    with get_db().transaction(readonly=True) as db:
        responder = db.scalars(select(Responder).where(Responder.phone_e164 == e164)).first()
        if responder is None:
            raise click.BadParameter(f"{e164} is not a registered responder number", param_hint="--phone")
        return e164, f"responder:{responder.id}", prefill(responder)


def _show(reply: engine.Reply) -> None:
    for message in reply.messages:
        click.echo(message)
        click.echo()


@click.command("chat")
@click.option("--phone", help="Act as this registered responder number (its registration is used).")
@click.option("--new", "fresh", is_flag=True, help="Start a new referral even if a draft exists.")
@click.option("--language", type=click.Choice(languages.CODES), default=None, help="Dialogue language code (en, cy, sq, vi, ro, pl, ar); "
              "without it the languages are offered first, as on SMS.")
def chat_command(phone: str | None, fresh: bool, language: str | None) -> None:
    """Make a referral in the terminal, one question at a time (Ctrl-D to pause)."""
    address, actor, registration = _responder(phone)
    database = get_db()
    with database.transaction() as db:
        draft = None if fresh else engine.latest_draft(db, CHANNEL, address)
        if draft is not None:
            click.echo("Resuming your saved draft. (Use --new to start another.)\n")
            reply = engine.resume(db, draft)
        else:
            reply = engine.begin(db, CHANNEL, address, registration, language)
    _show(reply)
    exit_word = quick_exit.word(current_app.config)
    while not reply.done:
        try:
            text = click.prompt(">", prompt_suffix=" ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo("\nDraft saved. Run `nrm chat` to carry on.")
            return
        with database.transaction() as db:
            text = text_hygiene.clean(text)
            drafts = engine.drafts(db, CHANNEL, address)
            if quick_exit.apply(db, text, exit_word, drafts):
                click.echo(quick_exit.REPLY)  # nothing of the message is stored
                return
            reply = engine.receive(db, reply.conversation, address, text, actor)
        _show(reply)
