"""The whole product in one process (what ``make run`` serves): casework backend plus channels."""

from __future__ import annotations

from typing import Any

from flask import Flask

from backend.app import init_backend
from bot import webchat
from bot.terminal import chat_command


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """App factory: the backend's configuration, database and pages, then the bot's channels."""
    app = Flask("bot", instance_relative_config=True)
    init_backend(app, test_config)
    app.register_blueprint(webchat.bp)
    app.cli.add_command(chat_command)
    return app
