"""The translator interface the dialogue is given (a ``gettext.GNUTranslations`` or equal).

flows never loads catalogues itself: the channel hands it the translator of the conversation's
language, so the same pure functions serve every language and tests can pass any catalogue.
"""

from __future__ import annotations

import gettext
from typing import Any, Protocol


class Translator(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


ENGLISH: Translator = gettext.NullTranslations()
"""The source language needs no catalogue: msgids are the English text."""


def tr(t: Translator, message: str, **params: Any) -> str:
    """Translate a msgid and fill its named placeholders."""
    text = t.gettext(message)
    return text.format(**params) if params else text
