#!/usr/bin/env bash
# Regenerate docs/webchat-mid-referral.png: the web chat page part-way through a referral, taken by
# the browser test in Debian's Chromium (needs /usr/bin/chromium and `make assets` for the styles).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-assets.sh
NRM_UPDATE_SCREENSHOTS=1 .venv/bin/pytest -q -p no:cacheprovider \
    "tests/browser/test_chat_page.py::test_an_operator_makes_a_whole_referral_in_the_browser"
echo "Wrote docs/webchat-mid-referral.png"
