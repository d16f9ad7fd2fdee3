"""Write flows/data/names/countries.<lang>.tsv: every country of flows/data/countries.txt by its
name in each dialogue language, from CLDR through Babel (``Locale(lang).territories``).

flows reads the files at run time and never imports Babel for this; run again after a Babel
upgrade or a change to the country list:

    .venv/bin/python scripts/country_names.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel import Locale

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.languages import CODES, SOURCE  # noqa: E402
from flows.lookups import NAMES_DIR, entries, fold  # noqa: E402

CODE_OF = {
    "Burma": "MM", "Congo": "CG", "Congo (Democratic Republic)": "CD", "East Timor": "TL",
    "Ivory Coast": "CI", "Palestine": "PS", "St Vincent": "VC", "The Bahamas": "BS",
    "The Gambia": "GM", "Turkey": "TR",
}
"""Entries of the Home Office list whose English name is not CLDR's."""


def territory_codes() -> dict[str, str]:
    """Our country entry -> its ISO 3166 code."""
    english = {fold(name): code for code, name in Locale("en").territories.items() if code.isalpha()}
    found = {}
    for country in entries("countries"):
        code = CODE_OF.get(country) or english.get(fold(country))
        if code:
            found[country] = code
    return found


def main() -> None:
    codes = territory_codes()
    for language in CODES:
        if language == SOURCE:
            continue
        names = Locale.parse(language).territories
        lines = ["list\tentry\tname"]
        for country, code in codes.items():
            if code in names:
                lines.append(f"countries\t{country}\t{names[code]}")
        (NAMES_DIR / f"countries.{language}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
