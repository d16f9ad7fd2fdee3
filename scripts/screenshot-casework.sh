#!/usr/bin/env bash
# Regenerate docs/decision-queue.png and docs/case-page.png: the decision queue with priority and
# overdue tags, and a panel member's case page with the review form, taken by the browser test in
# Debian's Chromium (needs /usr/bin/chromium and `make assets` for the styles).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-assets.sh
NRM_UPDATE_SCREENSHOTS=1 .venv/bin/pytest -q -p no:cacheprovider \
    "tests/browser/test_casework_pages.py::test_a_caseworker_decides_negative_and_the_panel_returns_it"
echo "Wrote docs/decision-queue.png and docs/case-page.png"
