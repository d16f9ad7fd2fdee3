"""The gettext catalogues under translations/ for the dialogue: ``backend.i18n``'s loader, and
the consent explanation's own catalogues.

Catalogues are compiled (``nrm translate compile``) from the .po files; a language without a
compiled catalogue falls back to the English msgids, so the product always answers. The loader
lives in ``backend.i18n`` (the pages use it too; ``bot`` may import ``backend``, not the reverse).
The languages the dialogue does not speak but the explanation does (``flows.languages.EXPLAIN_ONLY``:
Tigrinya, Dari...) have only the ``consent`` domain: ``translations/<locale>/LC_MESSAGES/consent.mo``.
"""

from __future__ import annotations

from functools import lru_cache

from babel.support import NullTranslations, Translations

from backend.i18n import SOURCE_LANGUAGE, TRANSLATIONS_DIR, translator
from flows.i18n import use_catalogues
from flows.languages import EXPLAIN_ONLY

__all__ = ["SOURCE_LANGUAGE", "TRANSLATIONS_DIR", "translator", "catalogue"]

CONSENT_DOMAIN = "consent"
EXPLAIN_ONLY_LOCALES: dict[str, str] = {language.code: language.catalogue or language.code for language in EXPLAIN_ONLY}


@lru_cache(maxsize=32)
def catalogue(language: str) -> NullTranslations:
    """The dialogue's catalogue of ``language``, or the consent catalogue of a language only the
    explanation speaks."""
    if language in EXPLAIN_ONLY_LOCALES:
        return Translations.load(str(TRANSLATIONS_DIR), [EXPLAIN_ONLY_LOCALES[language]], domain=CONSENT_DOMAIN)
    return translator(language)


use_catalogues(catalogue)  # LANGUAGE and EXPLAIN n in flows switch to these catalogues
