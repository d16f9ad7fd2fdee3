#!/usr/bin/env bash
# Regenerate docs/decision-queue.png, docs/case-page.png, docs/casework-case-page.png and docs/admin-area.png:
# the decision queue with priority and
# overdue tags, and a panel member's case page with the review form, taken by the browser test in
# Debian's Chromium (needs /usr/bin/chromium and `make assets` for the styles).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-assets.sh
NRM_UPDATE_SCREENSHOTS=1 .venv/bin/pytest -q -p no:cacheprovider \
    "tests/browser/test_casework_pages.py::test_a_caseworker_decides_negative_and_the_panel_returns_it" \
    "tests/browser/test_casework_accessibility.py::test_caseworker_pages_have_no_wcag_violation" \
    "tests/browser/test_casework_accessibility.py::test_admin_pages_have_no_wcag_violation"
echo "Wrote docs/decision-queue.png, docs/case-page.png, docs/casework-case-page.png and docs/admin-area.png"
