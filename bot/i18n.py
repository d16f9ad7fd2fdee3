"""Loads the gettext catalogues under translations/ for the dialogue and the pages.

Catalogues are compiled (``nrm translate compile``) from the .po files; a language without a
compiled catalogue falls back to the English msgids, so the product always answers.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from flows.i18n import use_catalogues

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
SOURCE_LANGUAGE = "en"


@lru_cache(maxsize=16)
def translator(language: str) -> NullTranslations:
    """The catalogue of one language (cached: catalogues do not change while the app runs)."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [language])


use_catalogues(translator)  # LANGUAGE and EXPLAIN n in flows switch to these catalogues
