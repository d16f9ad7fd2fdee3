"""The statistics columns of a case, derived once at intake from its payload (issue 14).

Statistics are counted in SQL on these plain columns, never by decrypting payloads. Every value is
a code or an entry of one of the form's published lists, never free text: an answer typed in that
is not on its list becomes ``other``, so nothing a responder typed is ever copied out of the
encrypted payload. ``backend.intake`` sets them on every new case; migration 0011 filled them in
for the cases stored before.

- ``age_group``: age *at exploitation*, as published: ``child`` if the person is a child now or was
  under 18 at any time during the exploitation, ``adult`` if they were not, else ``not-specified``
  (age not known now, or "not sure" about the time of exploitation).
- ``gender``, ``nationality`` (the entry of the nationality list, ``Unknown`` included, or
  ``other``), ``police_force`` (the force it was reported to: the only police force area the form
  asks for) and ``local_authority`` (the council contacted about a child); None when not answered.
- ``organisation_type``: the published first responder type of the referring organisation, from
  ``data/first-responder-types.tsv`` (every organisation of the form's list has one; a test checks).
- ``exploitation_groups``: a bit per published group of ``types-of-exploitation`` (see
  :data:`EXPLOITATION_GROUPS`); a case can be in several. "Other" is published as not specified.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

DATA = Path(__file__).parent / "data"

AGE_GROUPS = ("adult", "child", "not-specified")
GENDERS = ("female", "male", "unknown")
ORGANISATION_TYPES = ("police", "local-authority", "border-force", "immigration-enforcement", "asylum-group",
                      "government-agency", "ngo", "other")
REGIONS = ("north-east", "north-west", "yorkshire-and-the-humber", "east-midlands", "west-midlands",
           "east-of-england", "london", "south-east", "south-west", "wales", "scotland", "northern-ireland",
           "national")
OTHER = "other"

EXPLOITATION_GROUPS: dict[str, int] = {
    "labour": 1, "sexual": 2, "criminal": 4, "domestic-servitude": 8, "organ-harvesting": 16, "not-specified": 32,
}
"""Published exploitation type group -> its bit in ``Case.exploitation_groups``."""

TYPE_GROUP = {
    "forced-to-work": "labour", "wages-taken": "labour", "forced-to-commit-fraud": "labour",
    "prostitution": "sexual", "child-exploitation": "sexual", "taken-somewhere": "sexual",
    "forced-to-commit-crime": "criminal", "unpaid-household-work": "domestic-servitude",
    "organs-removed": "organ-harvesting", "other": "not-specified",
}
"""Each choice of ``types-of-exploitation`` -> its published group (the form's own headings, with
organ harvesting apart as the Home Office publishes it)."""


def _table(name: str) -> dict[str, str]:
    rows = (line.split("\t") for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in rows}


@lru_cache(maxsize=1)
def organisation_types() -> dict[str, str]:
    """Organisation (as on the form's list) -> published first responder type."""
    return _table("first-responder-types.tsv")


@lru_cache(maxsize=1)
def force_regions() -> dict[str, str]:
    """Police force area -> region (``national`` for forces that cover the whole UK)."""
    return _table("police-force-regions.tsv")


@lru_cache(maxsize=1)
def _lists() -> dict[str, frozenset[str]]:
    from flows.schema import payload_schema  # the published schema only: no other flows module

    questions = payload_schema()["properties"]["answers"]["properties"]

    def entries(question_id: str) -> frozenset[str]:
        schema = questions[question_id]
        return frozenset(schema.get("enum") or schema.get("x-entries", ()))

    return {"nationality": entries("pv-nationality"),
            "force": entries("reported-to-police-police-forces"),
            "authority": entries("local-authority-contacted-about-child-local-authority-name")}


def list_entries(name: str) -> frozenset[str]:
    """The entries of a list breakdown: ``nationality``, ``force`` or ``authority``."""
    return _lists()[name]


def _listed(value: Any, allowed: frozenset[str]) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value if value in allowed else OTHER


def age_group(age_route: str, answers: Mapping[str, Any]) -> str:
    if age_route == "child":
        return "child"
    if age_route == "adult":
        return {"yes": "child", "no": "adult"}.get(answers.get("pv-under-age-at-time-of-exploitation"),
                                                    "not-specified")
    return "not-specified"


def exploitation_groups(answers: Mapping[str, Any]) -> int:
    types = answers.get("types-of-exploitation")
    groups = {TYPE_GROUP[value] for value in types if value in TYPE_GROUP} if isinstance(types, list) else set()
    return sum(EXPLOITATION_GROUPS[group] for group in groups or {"not-specified"})


def organisation_type(organisation: str) -> str:
    types = organisation_types()
    if organisation in types:
        return types[organisation]
    folded = {name.casefold(): kind for name, kind in types.items()}
    return folded.get(organisation.strip().casefold(), OTHER)


def columns(payload: Mapping[str, Any], organisation: str) -> dict[str, Any]:
    """The statistics columns of a case with this payload, made for ``organisation``."""
    answers = payload.get("answers")
    answers = answers if isinstance(answers, dict) else {}
    lists = _lists()
    gender = answers.get("pv-gender")
    return {
        "age_group": age_group(str(payload.get("age_route")), answers),
        "gender": gender if gender in GENDERS else None,
        "nationality": _listed(answers.get("pv-nationality"), lists["nationality"]),
        "organisation_type": organisation_type(organisation),
        "police_force": _listed(answers.get("reported-to-police-police-forces"), lists["force"]),
        "local_authority": _listed(answers.get("local-authority-contacted-about-child-local-authority-name"),
                                   lists["authority"]),
        "exploitation_groups": exploitation_groups(answers),
    }
