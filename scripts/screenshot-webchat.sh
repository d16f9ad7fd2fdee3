#!/usr/bin/env bash
# Regenerate docs/webchat-mid-referral.png (part-way through a referral), docs/webchat-check-your-answers.png
# and docs/webchat-arabic.png (check your answers, in English and in Arabic), taken by the browser
# tests in Debian's Chromium (needs /usr/bin/chromium and `make assets` for the styles).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-assets.sh
NRM_UPDATE_SCREENSHOTS=1 .venv/bin/pytest -q -p no:cacheprovider \
    "tests/browser/test_chat_page.py::test_an_operator_makes_a_whole_referral_in_the_browser" \
    "tests/browser/test_chat_services.py::test_check_your_answers_groups_full_answers_by_section_with_change_links"
echo "Wrote docs/webchat-mid-referral.png, docs/webchat-check-your-answers.png and docs/webchat-arabic.png"
