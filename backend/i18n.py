"""The gettext catalogues under translations/ for the pages, and the page language of a request.

One loader for the whole product: ``bot.i18n`` uses :func:`translator` too (``bot`` may import
``backend``, never the reverse). Catalogues are compiled (``nrm translate compile``) from the .po
files; a language without a compiled catalogue falls back to the English msgids.

The staff pages (sign-in, web chat chrome, casework) are shown in the best match of the request's
``Accept-Language`` among :data:`PAGE_LANGUAGES` (English by default): :func:`page_language`.
Templates call ``_("Text with {name}", name=value)`` and ``ngettext(singular, plural, n, ...)``
(``{n}`` is filled too): the same ``{named}`` placeholders as the dialogue's msgids, filled with
``str.format`` after translation (values are HTML-escaped, the translation itself is trusted).
Python code uses :func:`gettext` / :func:`ngettext` in a request, or :func:`lazy_gettext` for text
defined at import time (form validators, labels), read when it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request
from markupsafe import Markup

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
SOURCE_LANGUAGE = "en"
PAGE_LANGUAGES: tuple[str, ...] = ("en", "cy", "sq", "vi", "ro", "pl", "ar")
"""The languages with catalogues (the same codes as ``flows.languages.CODES``, which backend does
not import; tests/backend/test_page_languages.py checks they agree)."""
RTL_LANGUAGES = frozenset({"ar"})


def N_(message: str) -> str:
    """Mark a msgid for extraction where it is defined; translate it where it is shown."""
    return message


@lru_cache(maxsize=16)
def translator(language: str) -> NullTranslations:
    """The catalogue of one language (cached: catalogues do not change while the app runs)."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [language])


@dataclass(frozen=True)
class PageLanguage:
    code: str

    @property
    def dir(self) -> str:
        return "rtl" if self.code in RTL_LANGUAGES else "ltr"

    @property
    def rtl(self) -> bool:
        return self.code in RTL_LANGUAGES


def page_language() -> PageLanguage:
    """The language of this request's page: the best ``Accept-Language`` match, else English."""
    if not has_request_context():
        return PageLanguage(SOURCE_LANGUAGE)
    cached = g.get("_page_language")
    if cached is None:
        code = request.accept_languages.best_match(PAGE_LANGUAGES, default=SOURCE_LANGUAGE)
        cached = g._page_language = PageLanguage(code or SOURCE_LANGUAGE)
    return cached


def _current() -> NullTranslations:
    return translator(page_language().code)


def gettext(message: str, **params: Any) -> str:
    """``message`` in the page language, its ``{named}`` placeholders filled."""
    text = _current().gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    """The plural form for ``n`` in the page language; ``{n}`` and the other placeholders filled."""
    return _current().ngettext(singular, plural, n).format(n=n, **params)


class LazyText:
    """A msgid translated when it is read (``str()``), in the language of the request then."""

    def __init__(self, message: str, params: dict[str, Any]) -> None:
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return gettext(self.message, **self.params)

    def __repr__(self) -> str:
        return f"LazyText({self.message!r})"

    def __mod__(self, other: Any) -> str:  # WTForms fills %(...)s into validator messages
        return str(self) % other

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.message)

    def __html__(self) -> str:
        return str(Markup.escape(str(self)))


def lazy_gettext(message: str, **params: Any) -> LazyText:
    """``gettext`` deferred until the text is shown (for module-level text)."""
    return LazyText(message, params)


# -- templates ------------------------------------------------------------------------------------


def _template_gettext(message: str, **params: Any) -> Markup:
    text = Markup(_current().gettext(message))
    return text.format(**params) if params else text


def _template_ngettext(singular: str, plural: str, n: int, **params: Any) -> Markup:
    return Markup(_current().ngettext(singular, plural, n)).format(n=n, **params)


def init_i18n(app: Flask) -> None:
    """Jinja's i18n extension with ``_``/``gettext``/``ngettext`` in the request's page language,
    and ``page_language`` (``.code``, ``.dir``) for ``<html lang dir>``."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=False)
    app.jinja_env.globals["page_language"] = page_language
