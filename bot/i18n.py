"""The gettext catalogues under translations/ for the dialogue: ``backend.i18n``'s loader.

Catalogues are compiled (``nrm translate compile``) from the .po files; a language without a
compiled catalogue falls back to the English msgids, so the product always answers. The loader
lives in ``backend.i18n`` (the pages use it too; ``bot`` may import ``backend``, not the reverse).
"""

from __future__ import annotations

from backend.i18n import SOURCE_LANGUAGE, TRANSLATIONS_DIR, translator
from flows.i18n import use_catalogues

__all__ = ["SOURCE_LANGUAGE", "TRANSLATIONS_DIR", "translator"]

use_catalogues(translator)  # LANGUAGE and EXPLAIN n in flows switch to these catalogues
