"""Wire the outbound half into an app: pages, Twilio's callback, ``nrm worker``, the lapse job."""

from __future__ import annotations

from flask import Flask, get_flashed_messages

from backend import db
from backend.jobs import add_job


def lapse_information_requests(app: Flask) -> str:
    """The ``nrm jobs run`` job: unanswered requests past ``INFO_REQUEST_WORKING_DAYS`` lapse."""
    from backend.outbound import information

    with db.get_db(app).transaction() as session:
        lapsed = information.lapse(session)
    return f"information requests: {len(lapsed)} lapsed"


def init_outbound(app: Flask) -> None:
    """Register the outbound pages, callback, command and job on ``app`` (``backend.app``)."""
    from backend.outbound import labels
    from backend.outbound.pages import bp, callbacks, panel
    from backend.outbound.worker import worker_command

    app.register_blueprint(bp)
    app.register_blueprint(callbacks)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # Twilio's callback is authenticated by its signature
        csrf.exempt(callbacks)
    app.jinja_env.globals["outbound_panel"] = panel
    app.jinja_env.globals["outbox_labels"] = labels
    app.jinja_env.globals.setdefault("outbound_banners", lambda: [
        {"type": category, "text": text} for category, text in get_flashed_messages(with_categories=True)])
    app.cli.add_command(worker_command)
    add_job(app, "information_requests", lapse_information_requests)
