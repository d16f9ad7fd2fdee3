"""``nrm translate extract|update|compile|check``: the gettext catalogues under translations/.

msgids are the English text (English needs no catalogue). The workflow for a change of wording or
a new string, and for a translator (translations/README.md says the same):

    nrm translate update     # extract translations/messages.pot from the code, merge it into every .po
    (edit translations/<lang>/LC_MESSAGES/messages.po: fill empty msgstr, clear "fuzzy" flags)
    nrm translate compile    # build the .mo files the app loads (also done by `make translations`)
    nrm translate check      # what `make test` checks: complete, no fuzzy, same {placeholders}

Extraction uses babel.cfg and the keywords below: besides Babel's defaults (``gettext``,
``ngettext``, ``N_``...) the dialogue's own helpers ``tr(t, "msgid", ...)``, ``trn(t, "singular",
"plural", n, ...)`` and ``step.say("msgid", ...)``. The .mo files are built, never committed.
"""

from __future__ import annotations

import contextlib
import os
import string
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flows.languages import CODES, EXPLAIN_ONLY, SOURCE

if TYPE_CHECKING:  # babel.messages is imported by the commands only: every `nrm` start loads this module
    from babel.messages.catalog import Catalog, Message

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
MAPPING = ROOT / "babel.cfg"
DOMAIN = "messages"
LOCALES: tuple[str, ...] = tuple(code for code in CODES if code != SOURCE)
"""Every language with a catalogue (English is the source)."""
CONSENT_DOMAIN = "consent"
CONSENT_POT = TRANSLATIONS / "consent.pot"
CONSENT_LOCALES: tuple[str, ...] = tuple(language.catalogue or language.code for language in EXPLAIN_ONLY)
"""The languages only the consent explanation speaks (Tigrinya, Dari...): their catalogue holds
the texts read to the person (``flows.consent.READ_ALOUD``), in the ``consent`` domain."""

KEYWORDS = ("tr:2", "trn:2,3", "say", "lazy_gettext")
"""Extraction keywords besides Babel's defaults: ``tr(t, msgid)``, ``trn(t, singular, plural, n)``,
``step.say(msgid)`` and the pages' ``lazy_gettext(msgid)`` (``backend.i18n``)."""

PROJECT = "NRM Referral Assistant"
COPYRIGHT = "NRM Referral Assistant maintainers"


def po_path(locale: str, domain: str = DOMAIN) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"


def domain_of(locale: str) -> str:
    """``consent`` for a language only the explanation speaks, ``messages`` for the others."""
    return CONSENT_DOMAIN if locale in CONSENT_LOCALES else DOMAIN


@contextlib.contextmanager
def _in_root() -> Iterator[None]:
    """Run pybabel from the project root, so babel.cfg's patterns and the locations match."""
    before = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(before)


def pybabel(*args: str) -> None:
    """Run one ``pybabel`` command in-process (Babel's own command line)."""
    from babel.messages.frontend import CommandLineInterface

    with _in_root():
        status = CommandLineInterface().run(["pybabel", "-q", *args])
    if status:
        raise click.ClickException(f"pybabel {args[0]} failed ({status})")


def extract() -> None:
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    pybabel(
        "extract", "-F", str(MAPPING.relative_to(ROOT)), *keywords,
        "-c", "TRANSLATORS:", "--add-location=file",
        "--project", PROJECT, "--version", "1.0", "--copyright-holder", COPYRIGHT,
        "-o", str(POT.relative_to(ROOT)), ".",
    )
    _write_consent_template()


def consent_template(template: Catalog | None = None) -> Catalog:
    """The messages of the ``consent`` domain: the texts read to the person, taken from the
    template of the code (so a change of their English reaches these catalogues too)."""
    from babel.messages.catalog import Catalog

    from flows.consent import READ_ALOUD

    source = template if template is not None else fresh_template()
    catalog = Catalog(project=PROJECT, domain=CONSENT_DOMAIN)
    for message in source:
        if message.id in READ_ALOUD:
            catalog.add(message.id, None, message.locations, auto_comments=message.auto_comments)
    return catalog


def _write_consent_template() -> None:
    from babel.messages.pofile import read_po, write_po

    with open(POT, "rb") as fileobj:
        template = read_po(fileobj)
    with open(CONSENT_POT, "wb") as fileobj:
        write_po(fileobj, consent_template(template), width=76)


def update() -> None:
    """Merge the template into every catalogue (creating missing ones): new msgids come in empty,
    changed ones fuzzy with the previous msgid shown, removed ones are dropped."""
    for locale in LOCALES:
        pybabel(
            "update", "-i", str(POT.relative_to(ROOT)), "-d", str(TRANSLATIONS.relative_to(ROOT)),
            "-D", DOMAIN, "-l", locale, "--init-missing", "--ignore-obsolete", "--previous",
        )
    for locale in CONSENT_LOCALES:
        pybabel(
            "update", "-i", str(CONSENT_POT.relative_to(ROOT)), "-d", str(TRANSLATIONS.relative_to(ROOT)),
            "-D", CONSENT_DOMAIN, "-l", locale, "--init-missing", "--ignore-obsolete", "--previous",
        )


def compile_catalogues() -> None:
    """Build the .mo files (fuzzy entries are left out, so English is shown for them)."""
    pybabel("compile", "-d", str(TRANSLATIONS.relative_to(ROOT)), "-D", DOMAIN)
    pybabel("compile", "-d", str(TRANSLATIONS.relative_to(ROOT)), "-D", CONSENT_DOMAIN)


# -- checks (also run by tests/test_translations.py) ------------------------------------------


def fresh_template() -> Catalog:
    """The msgids the code uses now, extracted in memory (without touching messages.pot)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(MAPPING, encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=str(MAPPING))
    keywords = dict(_default_keywords())
    for spec in KEYWORDS:
        name, _, positions = spec.partition(":")
        keywords[name] = tuple(int(p) for p in positions.split(",")) if positions else None
    catalog = Catalog(project=PROJECT)
    with _in_root():
        for filename, lineno, message, comments, context in extract_from_dir(
            ".", method_map, options_map, keywords=keywords, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        ):
            catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _default_keywords() -> dict[str, object]:
    from babel.messages.extract import DEFAULT_KEYWORDS

    return dict(DEFAULT_KEYWORDS)


def load_po(locale: str) -> Catalog:
    """The catalogue of ``locale``, in its domain (``domain_of``)."""
    from babel.messages.pofile import read_po

    with open(po_path(locale, domain_of(locale)), "rb") as fileobj:
        return read_po(fileobj, locale=locale)


def placeholders(text: str) -> set[str]:
    """The named ``{placeholders}`` of a msgid or msgstr (``{{`` escapes are not placeholders)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        return {f"<unparsable: {error}>"}


def _texts(value: object) -> list[str]:
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return [str(value or "")]


def problems(locale: str, template: Catalog | None = None) -> list[str]:
    """Everything wrong with one catalogue: msgids of the code not in it or not translated, fuzzy
    entries, placeholders different from the msgid's, and NBSP / narrow NBSP characters."""
    template = template if template is not None else fresh_template()
    if locale in CONSENT_LOCALES:
        template = consent_template(template)
    found: list[str] = []
    path = po_path(locale, domain_of(locale))
    if not path.exists():
        return [f"{locale}: no catalogue at {path.relative_to(ROOT)}"]
    catalog = load_po(locale)
    for message in template:
        if not message.id:
            continue
        entry: Message | None = catalog.get(message.id, context=message.context)
        label = f"{locale}: {_texts(message.id)[0]!r}"
        if entry is None:
            found.append(f"{label} is missing (run `nrm translate update`)")
            continue
        if entry.fuzzy:
            found.append(f"{label} is fuzzy")
        strings = _texts(entry.string)
        if not all(s.strip() for s in strings):
            found.append(f"{label} is not translated")
            continue
        expected = set().union(*(placeholders(s) for s in _texts(message.id)))
        for text in strings:
            if placeholders(text) != expected:
                found.append(f"{label}: placeholders {sorted(placeholders(text))} != {sorted(expected)}")
            if "\u00a0" in text or "\u202f" in text:
                found.append(f"{label}: contains a no-break space (U+00A0 or U+202F)")
    for entry in catalog:
        if entry.id and entry.fuzzy and entry.id not in template:
            found.append(f"{locale}: {_texts(entry.id)[0]!r} is fuzzy and no longer used")
    return found


# -- the command group --------------------------------------------------------------------------


@click.group("translate")
def translate_group() -> None:
    """Extract, update, compile and check the translations (Babel gettext catalogues)."""


@translate_group.command("extract")
def extract_command() -> None:
    """Write translations/messages.pot from the strings in flows/, bot/ and backend/."""
    extract()
    click.echo(f"Wrote {POT.relative_to(ROOT)}")


@translate_group.command("update")
def update_command() -> None:
    """Extract, then merge the template into every language's messages.po."""
    extract()
    update()
    click.echo("Updated " + ", ".join(str(po_path(locale, domain_of(locale)).relative_to(ROOT))
                                      for locale in (*LOCALES, *CONSENT_LOCALES)))


@translate_group.command("compile")
def compile_command() -> None:
    """Build the .mo files the app loads (``make translations``)."""
    compile_catalogues()
    click.echo("Compiled " + ", ".join((*LOCALES, *CONSENT_LOCALES)))


@translate_group.command("check")
def check_command() -> None:
    """Fail if a catalogue is incomplete, has fuzzy entries or changes a placeholder."""
    template = fresh_template()
    found = [problem for locale in (*LOCALES, *CONSENT_LOCALES) for problem in problems(locale, template)]
    for problem in found:
        click.echo(problem, err=True)
    if found:
        raise click.ClickException(f"{len(found)} problem(s) in the translations")
    click.echo(f"{len(LOCALES)} catalogues complete ({sum(1 for m in template if m.id)} messages each), "
               f"{len(CONSENT_LOCALES)} consent catalogues complete "
               f"({sum(1 for m in consent_template(template) if m.id)} messages each)")


def in_memory(locale: str):
    """The catalogue of ``locale`` compiled from its .po in memory (no .mo needed): for tests and
    for checking a translation before ``nrm translate compile``. Fuzzy entries are left out, as
    ``compile`` leaves them out."""
    import io as _io

    from babel.messages.mofile import write_mo
    from babel.support import Translations

    buffer = _io.BytesIO()
    write_mo(buffer, load_po(locale), use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=domain_of(locale))
