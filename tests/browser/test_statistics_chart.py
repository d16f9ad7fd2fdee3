"""The statistics chart in Chromium, under the service's Content-Security-Policy: an image whose
accessible name and description come from its title and desc, followed by its table, drawn without
breaking the policy (no style attribute, no outside resource), and mirrored on a right-to-left page.

The page is the chart-then-table partial rendered by the app and served to the browser with the
app's own policy (``backend.headers.CONTENT_SECURITY_POLICY``) through Playwright's routing."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
from flask import Flask, render_template_string
from playwright.sync_api import expect

from backend.headers import CONTENT_SECURITY_POLICY
from backend.statistics.charts import chart_svg
from tests.backend.casework_helpers import shared_app
from tests.backend.statistics_reports import BY_AGE

pytestmark = pytest.mark.browser

ORIGIN = "http://statistics.test"
POLICY = "; ".join(f"{directive} {value}" for directive, value in CONTENT_SECURITY_POLICY.items())


@pytest.fixture(scope="module")
def page_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with shared_app(tmp_path_factory.mktemp("chart-browser")) as app:
        yield app


def serve(page: Any, app: Flask, rtl: bool) -> None:
    language = "ar" if rtl else "en"
    with app.test_request_context(headers={"Accept-Language": language}):
        body = render_template_string('{% from "casework/_stat_table.html" import stat_table %}'
                                      "{{ stat_table(table, chart) }}", table=BY_AGE, chart=chart_svg(BY_AGE))
    html = (f'<!DOCTYPE html><html lang="{language}" dir="{"rtl" if rtl else "ltr"}"><head><title>Chart</title>'
            f'</head><body><main>{body}</main></body></html>')
    page.route(f"{ORIGIN}/**", lambda route: route.fulfill(
        status=200, body=html, headers={"content-type": "text/html; charset=utf-8",
                                        "content-security-policy": POLICY}))
    page.goto(f"{ORIGIN}/chart")


def bar_lefts(page: Any) -> list[float]:
    return [page.locator(".app-chart__bar").nth(index).locator("rect").first.bounding_box()["x"]
            for index in range(len(BY_AGE.columns))]


def test_chart_is_an_image_named_and_described_for_screen_readers_then_its_table(page: Any, page_app: Flask):
    serve(page, page_app, rtl=False)
    chart = page.get_by_role("img", name=BY_AGE.title)
    expect(chart).to_have_count(1)
    expect(chart).to_have_accessible_description(re.compile(r"The figures are in the table after this chart\.$"))
    table = page.get_by_role("table", name=BY_AGE.title)
    expect(table).to_be_visible()
    assert chart.bounding_box()["y"] < table.bounding_box()["y"]
    lefts = bar_lefts(page)
    assert lefts == sorted(lefts)
    assert chart.bounding_box()["width"] <= 1280


def test_chart_on_an_arabic_page_runs_right_to_left_under_the_policy(page: Any, page_app: Flask):
    serve(page, page_app, rtl=True)
    chart = page.get_by_role("img", name=BY_AGE.title)
    expect(chart).to_have_accessible_description(re.compile("^مخطط أعمدة مكدسة"))
    lefts = bar_lefts(page)
    assert lefts == sorted(lefts, reverse=True)
    axis_title = page.locator("text", has_text="عدد الإحالات")
    assert axis_title.bounding_box()["x"] > lefts[0]  # the value axis is on the right
