"""axe-core (through ``axe-playwright-python``, which ships axe's own script) as a test assertion.

Issue 12 asks CI to fail on any violation of WCAG 2.2 A or AA on every page and state the browser
tests reach, in English and in Arabic. Call :func:`assert_accessible` wherever a test has brought a
page into a state worth checking; the message lists each rule broken with the elements that break it.
"""

from __future__ import annotations

from typing import Any

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
"""axe's tags for every success criterion of WCAG 2.0, 2.1 and 2.2 at levels A and AA."""


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations of WCAG 2.2 A/AA on the page as it is now (the script is injected through
    Playwright's evaluate, which the page's Content-Security-Policy does not govern)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    return list(Axe().run(page, options=options).response["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for rule in found:
        targets = ", ".join(str(node.get("target")) for node in rule.get("nodes", [])[:5])
        lines.append(f"{rule['id']} ({rule.get('impact')}): {rule.get('help')} at {targets}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str) -> None:
    """Fail with every WCAG 2.2 A/AA violation axe finds on ``page`` (``where`` names the state)."""
    found = violations(page)
    assert found == [], f"axe found WCAG 2.2 A/AA violations on {where}:\n{describe(found)}"
