"""A clone is self-contained: no file points outside the repository for the design or the form,
every section the code cites ("DESIGN §4", "NRM-FORM.md §1.3") exists in docs/, and every
``docs/`` file the README names is there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ("../" + "shared", "/work/" + "shared")  # spelled apart so this file does not match itself
CITED = {
    "docs/design.md": re.compile(r"\bDESIGN(?:\.md)? (§[\d.]+(?:, §[\d.]+)*)"),
    "docs/form.md": re.compile(r"\b(?:NRM-FORM(?:\.md)?|docs/form\.md(?:``)?) (§[\d.]+(?:, §[\d.]+)*)"),
}


def tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = []
    for name in listed.stdout.splitlines():
        path = ROOT / name
        if path.is_file() and path.suffix not in (".png", ".mo", ".ico", ".woff", ".woff2"):
            files.append(path)
    return files


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def sections(document: Path) -> set[str]:
    """The numbers of the document's headings: "## 4. Domain rules" -> "4", "### 1.3 Children" -> "1.3"."""
    return {match.group(1).rstrip(".") for match in re.finditer(r"^#{2,3} ([\d.]+)\s", read(document), re.M)}


def test_no_tracked_file_points_outside_the_repository_for_its_design() -> None:
    offending = [f"{path.relative_to(ROOT)}: {needle}" for path in tracked_text_files()
                 for needle in OUTSIDE if needle in read(path)]
    assert offending == []


@pytest.mark.parametrize("document", sorted(CITED))
def test_every_section_the_code_cites_exists_in_docs(document: str) -> None:
    present = sections(ROOT / document)
    missing = []
    for path in tracked_text_files():
        for match in CITED[document].finditer(read(path)):
            for number in re.findall(r"§([\d.]+)", match.group(1)):
                if number.rstrip(".") not in present:
                    missing.append(f"{path.relative_to(ROOT)}: §{number}")
    assert missing == []


def test_every_docs_file_the_readme_names_exists() -> None:
    named = set(re.findall(r"\bdocs/[\w./-]+\w", read(ROOT / "README.md")))
    assert named, "the README names no docs/ file"
    assert sorted(name for name in named if not (ROOT / name).exists()) == []
