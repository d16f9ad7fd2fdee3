"""What every process of the product needs before it touches a case: settings, the instance
folder, the database, the field cipher and the audit key.

``backend.app.init_backend`` starts with this and adds the web (pages, API, limits, metrics...);
``nrm chat`` (``bot.terminal.create_terminal_app``) needs nothing more, so a terminal chat starts
without importing or building the web app, on the same database with the same encryption and
audit chain. ``init_settings`` alone (no database, no SQLAlchemy) lets ``nrm chat`` refuse a bad
setting and ask its first question before the database layer is imported.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping

from flask import Flask

from backend import config as settings

if TYPE_CHECKING:
    from backend.db import Database


def init_core(app: Flask, test_config: Mapping[str, Any] | None = None) -> Database:
    """Configure ``app``'s settings, instance folder, database, cipher and audit key.

    Settings already on ``app.config`` (non-None) and ``test_config`` beat the environment.
    ``test_config["INSTANCE_PATH"]`` (or the ``NRM_INSTANCE_PATH`` environment variable) moves
    the instance folder, where development keys and the default SQLite file live.
    Raises ``backend.config.ConfigError`` when production secrets are missing.
    """
    init_settings(app, test_config)
    return init_database(app)


def init_settings(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    """``app``'s settings and instance folder, checked (``ConfigError``), as :func:`init_core`."""
    from backend.outbound.settings import load as check_outbound_settings

    overrides = dict(test_config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get("NRM_INSTANCE_PATH")
    if instance_path:
        app.instance_path = os.path.abspath(instance_path)
    os.makedirs(app.instance_path, exist_ok=True)
    explicit = {key: app.config[key] for key in settings.KEYS if app.config.get(key) is not None}
    explicit.update(overrides)
    app.config.update(settings.load(app.instance_path, explicit))
    check_outbound_settings(app.config)  # a malformed setting stops the start (ConfigError), not the first send


def init_database(app: Flask) -> Database:
    """The database, field cipher and audit key of an app whose settings are loaded (:func:`init_settings`)."""
    from backend import audit, db
    from backend.crypto import FieldCipher, bind_cipher, use_cipher

    database = db.init_app(app)
    cipher = FieldCipher.from_setting(app.config["FIELD_ENCRYPTION_KEY"])
    bind_cipher(database.engine, cipher)
    use_cipher(cipher)
    app.extensions["nrm_cipher"] = cipher
    audit.bind_key(database.engine, app.config["AUDIT_KEY"])
    return database
