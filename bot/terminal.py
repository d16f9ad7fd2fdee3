"""``nrm chat``: the SMS dialogue in a terminal, through the same engine and database.

Useful for trying the dialogue and for support staff; a draft typed here survives the process
being killed, and ``nrm chat`` picks it up again. It runs in :func:`create_terminal_app`, not
the whole web app, so that it starts quickly: a new referral (``--new``) shows its first question
(the language list) before the database layer is even imported, and opens the database while the
person reads it; what they type meanwhile waits in the terminal for the prompt. The quick-exit word deletes the draft at once
and ends the session, as by SMS (``bot.quick_exit``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import click
from flask import Flask, current_app

from backend.core import init_database, init_settings
from flows import languages

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from backend.db import Database

CHANNEL = "cli"


def create_terminal_app() -> Flask:
    """The app ``nrm chat`` runs in: ``bot.app``'s settings (checked: a bad one stops the start),
    and none of its web (pages, API, limits, metrics), which a terminal never serves. The
    database, cipher and audit key are added by the command (``init_database``)."""
    app = Flask("bot", instance_relative_config=True)
    init_settings(app)
    return app


@contextmanager
def _first_transaction(database: Database) -> Iterator[Session]:
    """The chat's first transaction: a database that cannot be opened (unreachable, or not
    migrated) stops the chat with one clear line rather than a traceback."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        with database.transaction() as db:
            yield db
    except (OperationalError, ProgrammingError) as error:  # the engine hides parameters; no URL in it
        raise click.ClickException(f"cannot open the database ({type(error.orig or error).__name__}): "
                                   "check DATABASE_URL, and run `nrm db upgrade`") from None


def _responder(db: Session, phone: str | None) -> tuple[str, str, dict | None]:
    """Address, audit actor and registration answers for ``--phone`` (a registered number)."""
    if phone is None:
        return "terminal", "terminal", None
    import phonenumbers  # only for --phone: not on every start
    from sqlalchemy import select

    from backend.models import Responder
    from bot.registration import prefill

    try:
        number = phonenumbers.parse(phone, "GB")
    except phonenumbers.NumberParseException as error:
        raise click.BadParameter(str(error), param_hint="--phone") from error
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    responder = db.scalars(select(Responder).where(Responder.phone_e164 == e164)).first()
    if responder is None:
        raise click.BadParameter(f"{e164} is not a registered responder number", param_hint="--phone")
    return e164, f"responder:{responder.id}", prefill(responder)


def _show(messages: list[str]) -> None:
    for message in messages:
        click.echo(message)
        click.echo()


@click.command("chat")
@click.option("--phone", help="Act as this registered responder number (its registration is used).")
@click.option("--new", "fresh", is_flag=True, help="Start a new referral even if a draft exists.")
@click.option("--language", type=click.Choice(languages.CODES), default=None, help="Dialogue language code (en, cy, sq, vi, ro, pl, ar); "
              "without it the languages are offered first, as on SMS.")
def chat_command(phone: str | None, fresh: bool, language: str | None) -> None:
    """Make a referral in the terminal, one question at a time (Ctrl-D to pause)."""
    opening = None
    if fresh and phone is None:  # nothing to look up: the first question needs no database
        from bot.opening import first_turn

        opening = first_turn(None, language)
        _show(opening.messages)
    database = init_database(current_app)
    from backend import text_hygiene
    from bot import engine, quick_exit

    with _first_transaction(database) as db:
        address, actor, registration = _responder(db, phone)
        if opening is not None:
            reply = engine.open_draft(db, CHANNEL, address, opening)
        else:
            draft = None if fresh else engine.latest_draft(db, CHANNEL, address)
            if draft is not None:
                click.echo("Resuming your saved draft. (Use --new to start another.)\n")
                reply = engine.resume(db, draft)
            else:
                reply = engine.begin(db, CHANNEL, address, registration, language)
    if opening is None:
        _show(reply.messages)
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
        _show(reply.messages)
