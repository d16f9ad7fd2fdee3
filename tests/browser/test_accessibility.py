"""axe-core over the pages a visitor reaches before signing in, in English and in Arabic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_sign_in_page_has_no_wcag_violation(chromium: Any, live_server: LiveServer, language: str) -> None:
    context = chromium.new_context(locale=language)  # the browser's Accept-Language
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/casework/sign-in")
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("#email").is_visible()
        assert_accessible(page, f"the sign-in page ({language})")
    finally:
        context.close()
