"""The statistics charts (backend.statistics.charts): the inline SVG of hand-made tables parsed as XML
and checked for what a reader with a screen reader, low vision or colour blindness, or an Arabic
page, needs; and the page partial that puts the table right after the chart."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from flask import render_template_string

from backend.statistics.charts import PALETTE, TEXT, chart_svg, charts, contrast, nice_ticks, series_style
from backend.statistics.report import Row
from tests.backend.casework_helpers import shared_app
from tests.backend.statistics_reports import (ARABIC, BY_AGE, BY_TYPE, DECISIONS, FORMULA_LABEL, QUARTERS, REPORT,
                                              WELSH)

SVG = "{http://www.w3.org/2000/svg}"


def parse(table, **options) -> ET.Element:
    return ET.fromstring(str(chart_svg(table, **options)))


def bars(svg: ET.Element) -> list[ET.Element]:
    return [group for group in svg.iter(f"{SVG}g") if group.get("class") == "app-chart__bar"]


def legend_entries(svg: ET.Element) -> list[str]:
    (legend,) = [group for group in svg.iter(f"{SVG}g") if group.get("class") == "app-chart__legend"]
    return [entry.get("data-series") for entry in legend.findall(f"{SVG}g")]


def segments(bar: ET.Element) -> dict[str, list[ET.Element]]:
    return {piece.get("data-series"): piece.findall(f"{SVG}rect") for piece in bar.findall(f"{SVG}g")}


def texts(element: ET.Element) -> list[str]:
    return [text.text for text in element.iter(f"{SVG}text")]


def test_chart_is_an_image_named_by_its_title_and_described_by_its_desc():
    svg = parse(BY_AGE, rtl=False)
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby"), svg.get("aria-describedby")
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert (title.get("id"), title.text) == (title_id, BY_AGE.title)
    assert desc.get("id") == desc_id
    assert "one bar for each of: 2026 Q1, 2026 Q2, 2026 Q3, 2026 Q4" in desc.text
    assert "split by Age group: Adult, Child" in desc.text
    assert desc.text.endswith("The figures are in the table after this chart.")


def test_chart_has_one_bar_per_column_and_a_legend_entry_per_series_but_not_the_total():
    svg = parse(BY_AGE, rtl=False)
    assert [bar.get("data-column") for bar in bars(svg)] == list(QUARTERS)
    series = [row.label for row in BY_AGE.rows if not row.total]
    assert sorted(legend_entries(svg)) == sorted(series)
    assert legend_entries(svg) == series[::-1]  # the stack's order, top first
    assert "Total" not in str(chart_svg(BY_AGE))


def test_chart_bar_heights_are_in_proportion_to_the_counts():
    table = replace(BY_AGE, rows=(Row("Adult", (10, 40, 0, 20)), Row("Child", (10, 0, 0, 5))))
    heights = []
    for bar in bars(parse(table, rtl=False)):
        heights.append(sum(float(pieces[0].get("height")) + 2 for pieces in segments(bar).values()))
    assert heights[0] == pytest.approx(heights[1] / 2, abs=0.2)
    assert heights[2] == 0
    assert heights[3] == pytest.approx(heights[1] * 25 / 40, abs=0.2)


def test_every_series_colour_and_the_text_meet_the_contrast_rules_against_white():
    assert all(contrast(colour) >= 3 for colour in PALETTE)  # WCAG 1.4.11 non-text contrast
    assert contrast(TEXT) >= 4.5
    fills = {rect.get("fill") for rect in parse(BY_TYPE).iter(f"{SVG}rect")}
    solid = {fill for fill in fills if fill.startswith("#")}
    assert solid and all(contrast(fill) >= 3 for fill in solid)
    assert {fill for fill in fills if not fill.startswith("#")} <= {f"url(#chart-{BY_TYPE.id}-pattern-{n})"
                                                                     for n in range(1, 7)}


def test_series_differ_by_pattern_as_well_as_colour_and_the_legend_shows_the_same_pattern():
    assert len({series_style(index) for index in range(42)}) == 42
    svg = parse(BY_TYPE, rtl=False)
    (legend,) = [group for group in svg.iter(f"{SVG}g") if group.get("class") == "app-chart__legend"]
    keys = {entry.get("data-series"): [rect.get("fill") for rect in entry.findall(f"{SVG}rect")]
            for entry in legend.findall(f"{SVG}g")}
    for label, pieces in segments(bars(svg)[0]).items():
        assert [rect.get("fill") for rect in pieces] == keys[label]
    patterns = {fills[1] for fills in keys.values() if len(fills) > 1}
    assert len(patterns) == 6  # eight series: the first and the eighth plain, in different colours
    assert len({tuple(fills) for fills in keys.values()}) == len(keys)


def test_chart_has_no_style_attribute_script_or_outside_reference():
    markup = str(chart_svg(BY_AGE)) + str(chart_svg(BY_TYPE, rtl=True))
    for svg in (parse(BY_AGE), parse(BY_TYPE, rtl=True)):
        for element in svg.iter():
            assert "style" not in element.attrib
            assert element.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}image", f"{SVG}foreignObject")
            assert not [value for key, value in element.attrib.items()
                        if "href" in key or (value.startswith("url(") and not value.startswith("url(#"))]
    assert not re.search(r"\son\w+=", markup)


def test_suppressed_cells_are_gaps_marked_with_their_symbol_and_explained():
    svg = parse(BY_AGE, rtl=False)
    second, third = bars(svg)[1], bars(svg)[2]
    assert set(segments(second)) == {"Adult", ARABIC}  # Child "<5", Welsh "[c]", the last one 0
    assert "<5 [c]" in texts(second) and "<5" in texts(third)
    assert "<5" not in texts(bars(svg)[0])
    note = " ".join(texts(next(group for group in svg.iter(f"{SVG}g") if group.get("class") == "app-chart__note")))
    assert '"<5" is a count from 1 to 4' in note and "protects the people counted" in note
    assert '"[c]" a count hidden' in svg.find(f"{SVG}desc").text


def test_chart_without_suppressed_cells_has_no_suppression_note():
    svg = parse(BY_TYPE)
    assert not [group for group in svg.iter(f"{SVG}g") if group.get("class") == "app-chart__note"]
    assert "Suppressed" not in svg.find(f"{SVG}desc").text


def x_of(bar: ET.Element) -> float:
    return float(next(bar.iter(f"{SVG}rect")).get("x"))


def test_right_to_left_chart_is_mirrored_and_keeps_quarters_and_symbols_left_to_right():
    ltr, rtl = parse(BY_AGE, rtl=False), parse(BY_AGE, rtl=True)
    assert x_of(bars(ltr)[0]) < x_of(bars(ltr)[-1])
    assert x_of(bars(rtl)[0]) > x_of(bars(rtl)[-1])
    assert float(rtl.get("width")) - x_of(bars(rtl)[0]) == pytest.approx(
        x_of(bars(ltr)[0]) + float(next(bars(ltr)[0].iter(f"{SVG}rect")).get("width")), abs=0.2)
    assert (ltr.get("direction"), rtl.get("direction")) == ("ltr", "rtl")
    for svg in (ltr, rtl):
        direction = {text.text: text.get("direction") for text in svg.iter(f"{SVG}text")}
        assert direction["2026 Q1"] == direction["<5"] == direction[WELSH] == "ltr"
        assert direction[ARABIC] == "rtl"


def test_right_to_left_legend_keys_are_on_the_right_of_labels_that_end_at_them():
    svg = parse(BY_AGE, rtl=True)
    (legend,) = [group for group in svg.iter(f"{SVG}g") if group.get("class") == "app-chart__legend"]
    for entry in legend.findall(f"{SVG}g"):
        key, label = entry.find(f"{SVG}rect"), entry.find(f"{SVG}text")
        assert float(label.get("x")) < float(key.get("x"))
        # the text's right edge is at x: "end" of a left-to-right label, "start" of a right-to-left one
        assert (label.get("direction"), label.get("text-anchor")) in (("ltr", "end"), ("rtl", "start"))
        assert label.get("direction") == ("rtl" if label.text == ARABIC else "ltr")


def test_chart_ids_are_unique_to_the_table_so_charts_can_share_a_page():
    ids = [element.get("id") for table in (BY_AGE, BY_TYPE) for element in parse(table).iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    assert all(identifier.startswith("chart-") for identifier in ids)


def test_labels_are_text_never_markup():
    table = replace(BY_AGE, title="<script>alert(1)</script>",
                    rows=(Row("<b onmouseover=alert(1)>x</b>", (1, 2, 3, 4)), Row(FORMULA_LABEL, (5, 6, 7, 8))))
    markup = str(chart_svg(table))
    assert "<script>" not in markup and "<b " not in markup
    assert "<b onmouseover=alert(1)>x</b>" in legend_entries(ET.fromstring(markup))


def test_chart_of_a_table_with_zero_rows_is_still_a_described_image_with_its_bars_axis():
    svg = parse(replace(BY_AGE, rows=()))
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == BY_AGE.title
    assert [bar.get("data-column") for bar in bars(svg)] == list(QUARTERS)
    assert legend_entries(svg) == []
    assert not list(svg.iter(f"{SVG}rect"))


def test_value_axis_ticks_are_round_numbers_from_zero_past_the_tallest_bar():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(4) == [0, 1, 2, 3, 4]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]
    assert nice_ticks(167) == [0, 50, 100, 150, 200]
    svg = parse(BY_AGE)
    assert {"0", "500", "1,000", "1,500"} <= set(texts(svg))


# --- the page partial: the chart, then the table ------------------------------------------------

@pytest.fixture(scope="module")
def page_app(tmp_path_factory, compiled_catalogues):
    with shared_app(tmp_path_factory.mktemp("charts")) as app:
        yield app


def render_partial(app, table, chart, language: str = "en") -> str:
    with app.test_request_context(headers={"Accept-Language": language}):
        return render_template_string('{% from "casework/_stat_table.html" import stat_table %}'
                                      "{{ stat_table(table, chart) }}", table=table, chart=chart)


def test_partial_puts_the_chart_first_and_the_table_right_after_it_with_its_notes(page_app):
    html = render_partial(page_app, BY_AGE, charts(REPORT, rtl=False)[BY_AGE.id])
    assert html.index("<svg") < html.index("</svg>") < html.index("<table") < html.index(BY_AGE.notes[0])
    assert f'<caption class="govuk-table__caption govuk-table__caption--m">{BY_AGE.title}</caption>' in html
    cells = re.findall(r"<td[^>]*>\s*(.*?)\s*</td>", html, re.S)
    assert cells[:4] == ["120", "95", "40", "1,234"]
    assert "&lt;5" in cells and "[c]" in cells
    assert re.search(r'<th scope="row" class="govuk-table__header govuk-!-font-weight-bold">\s*Total', html)
    assert html.count("<svg") == 1


def test_partial_without_a_chart_is_the_table_alone_and_says_not_applicable_in_words(page_app):
    html = render_partial(page_app, DECISIONS, None)
    assert "<svg" not in html and "<table" in html
    assert '<span class="govuk-visually-hidden">Not applicable</span>' in html
    assert "4.5" in html


def test_charts_are_drawn_only_for_the_tables_that_ask_for_one():
    assert set(charts(REPORT)) == {BY_AGE.id, BY_TYPE.id}


def test_chart_follows_the_page_language_arabic_right_to_left_welsh_left_to_right(page_app):
    with page_app.test_request_context(headers={"Accept-Language": "ar"}):
        arabic = ET.fromstring(str(chart_svg(BY_AGE)))
    with page_app.test_request_context(headers={"Accept-Language": "cy"}):
        welsh = ET.fromstring(str(chart_svg(BY_AGE)))
    assert arabic.get("direction") == "rtl" and welsh.get("direction") == "ltr"
    assert arabic.find(f"{SVG}desc").text.startswith("مخطط أعمدة مكدسة")
    assert "عدد الإحالات" in texts(arabic)
    assert welsh.find(f"{SVG}desc").text.endswith("Mae'r ffigurau yn y tabl ar ôl y siart hwn.")
    assert x_of(bars(arabic)[0]) > x_of(bars(arabic)[-1])
