"""The whole product in one process (what ``make run`` serves): casework backend plus channels."""

from __future__ import annotations

from typing import Any

from flask import Flask

from backend.app import init_backend
from backend.limits import exempt, limit_blueprint_by_hook, limit_endpoint
from bot import chat_page, sms, webchat
from backend.jobs import add_job
from bot.purge import purge_command, run_purge
from bot.terminal import chat_command


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """App factory: the backend's configuration, database and pages, then the bot's channels."""
    app = Flask("bot", instance_relative_config=True)
    init_backend(app, test_config)
    app.register_blueprint(webchat.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(chat_page.bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # Twilio's webhook is authenticated by its signature, not a CSRF token
        csrf.exempt(sms.bp)
        # The chat API checks X-CSRFToken itself for session callers (backend.auth.require_api_user);
        # bearer-token callers have no session and need none.
        csrf.exempt(webchat.bp)
    # Per-client limits on the chat API and, tighter, on resume codes; never on Twilio's webhook
    # (Twilio sends from shared addresses: a throttled webhook would drop people's answers).
    limit_blueprint_by_hook(app, webchat.bp, "CHAT_RATE_LIMIT", besides=("webchat.resume_by_code",))
    exempt(app, sms.is_webhook)  # skipped outright, not resolved to no limit
    limit_endpoint(app, "webchat.resume_by_code", "RESUME_RATE_LIMIT")
    app.cli.add_command(chat_command)
    app.cli.add_command(purge_command)
    add_job(app, "purge", run_purge)
    return app
