"""The translator interface the dialogue is given (a ``gettext.GNUTranslations`` or equal).

flows never loads catalogues itself: the channel hands it the translator of the conversation's
language, so the same pure functions serve every language and tests can pass any catalogue.
"""

from __future__ import annotations

import gettext
from typing import Any, Callable, Protocol


class Translator(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


ENGLISH: Translator = gettext.NullTranslations()
"""The source language needs no catalogue: msgids are the English text."""


def tr(t: Translator, message: str, **params: Any) -> str:
    """Translate a msgid and fill its named placeholders."""
    text = t.gettext(message)
    return text.format(**params) if params else text


def trn(t: Translator, singular: str, plural: str, n: int, **params: Any) -> str:
    """Translate a msgid with plural forms for ``n`` (the language's own plural rules) and fill
    its named placeholders; ``n`` is also available as ``{n}``."""
    return t.ngettext(singular, plural, n).format(n=n, **params)


Catalogues = Callable[[str], Translator]
"""Language code -> translator: how the dialogue gets the catalogue of a language it switches to."""

_catalogues: Catalogues = lambda language: ENGLISH  # noqa: E731  (English until a channel installs one)


def use_catalogues(loader: Catalogues) -> None:
    """Install the channel's catalogue loader (``bot.i18n`` does this when it is imported), so that
    LANGUAGE can switch the dialogue to a catalogue flows never loads itself."""
    global _catalogues
    _catalogues = loader


def catalogue(language: str) -> Translator:
    """The translator of ``language`` from the installed loader (English when none is installed)."""
    return _catalogues(language)
