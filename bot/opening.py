"""The first question of a new draft, from the dialogue alone (no database).

``bot.engine.begin`` stores a draft at this turn; ``nrm chat --new`` shows it first and opens the
database while the person reads it (``bot.terminal``), so this module imports no SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import translator
from flows import dialogue
from flows.dialogue import Turn


def first_turn(registration: dict[str, Any] | None = None, language: str | None = "en") -> Turn:
    """The first question of a new draft (``language=None``: which language, as a numbered list)."""
    return dialogue.start(translator(language or "en"), registration, language)
