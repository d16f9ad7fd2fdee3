"""Accessible inline SVG charts of a :class:`~backend.statistics.report.StatTable`, for the page.

:func:`chart_svg` draws a stacked bar chart of a table whose ``chart`` is ``"stacked-bar"``: one bar
a column (e.g. a quarter), split by the table's rows (e.g. age groups); total lines are not drawn.
The page shows the table itself right after the chart (``casework/_stat_table.html``), so the chart
adds a picture, never a figure the table does not have.

- Accessible: ``role="img"`` named by its ``<title>`` (``aria-labelledby``) and described by its
  ``<desc>`` (``aria-describedby``: both in one ``aria-labelledby`` would make the whole description
  its name), which says what the bars are and that the figures are in the table after the chart. Axis titles, tick labels and a legend (in stack order, top first) are SVG text.
- Colour: the Analysis Function's categorical palette, every colour at least 3:1 against white
  (WCAG 1.4.11; :func:`contrast` checks it in the tests), segments parted by white gaps; colour is
  never the only cue: each series after the first also has its own white pattern, the same in the
  legend. Gridlines are light grey and only help: the tick labels and the table carry the values.
- Suppressed counts (``"<5"``, ``"[c]"``) are not drawn (a gap in the stack) and their symbols are
  written above the bar, with a note under the chart saying what they mean and why.
- Right to left: with ``rtl`` (default: the page language's direction) the chart is mirrored, the
  first bar and the value axis on the right. Every text sets its own ``direction`` from its first
  strong letter, so "2026 Q1" and "<5" read left to right in an Arabic chart and an Arabic label
  right to left in any chart, whatever the page around the chart says.
- CSP: no script, no ``style`` attribute, no external resource; only SVG presentation attributes
  and the class ``app-chart`` (``app.css`` sizes it). Ids start with ``chart-`` and the table's id,
  so several charts can share a page.
"""

from __future__ import annotations

import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from markupsafe import Markup

from backend.i18n import N_, gettext, page_language
from backend.statistics.downloads import HIDDEN, SMALL
from backend.statistics.report import Report, StatTable

STACKED_BAR = "stacked-bar"
PALETTE = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
"""The Analysis Function's categorical colours for charts, in their order of use."""
TEXT = "#0b0c0c"
GRIDLINE = "#b1b4b6"
WHITE = "#ffffff"
PATTERNS = (
    "",  # the first series is plain colour
    "M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4",  # diagonal lines
    "M0,2 h8 M0,6 h8",  # horizontal lines
    "M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4",  # the other diagonal
    "M2,0 v8 M6,0 v8",  # vertical lines
    "M0,4 h8 M4,0 v8",  # grid
    "M2,2 h1 M6,6 h1 M2,6 h1 M6,2 h1",  # dots
)
"""White strokes on an 8x8 tile over the series colour; (colour, pattern) pairs repeat only after 42."""

Y_TITLES = {"nrm": N_("Number of referrals"), "dtn": N_("Number of Duty to Notify reports"),
            "decisions": N_("Number of decisions"), "reviews": N_("Number of reviews")}
NUMBER = N_("Number")
DESCRIPTION = N_("Stacked bar chart with one bar for each of: {columns}. Each bar is split by {heading}: {series}.")
SUPPRESSED = N_('Suppressed counts are left out of the bars and their symbols are written above them: "<5" is a '
                'count from 1 to 4 and "[c]" a count hidden so that a "<5" cannot be worked out. This protects '
                'the people counted.')
WHERE_THE_TABLE_IS = N_("The figures are in the table after this chart.")

FONT = 14
LINE = 22
PLOT_HEIGHT = 240
CHAR_WIDTH = 0.62  # of the font size: a generous average, so labels are given room
GAP = 2  # white space between stacked segments


@dataclass(frozen=True)
class _Segment:
    series: int
    label: str
    value: int


@dataclass(frozen=True)
class _Bar:
    column: str
    segments: list[_Segment]
    marks: list[str]
    """The symbols of its suppressed cells, written above it."""


def contrast(colour: str, background: str = WHITE) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(colour), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def series_style(index: int) -> tuple[str, str]:
    """Colour and pattern path of the ``index``-th series."""
    return PALETTE[index % len(PALETTE)], PATTERNS[index % len(PATTERNS)]


def nice_ticks(highest: int) -> list[int]:
    """0 then round steps (1, 2 or 5 times a power of ten) up to at least ``highest``, about 5 steps."""
    highest = max(highest, 1)
    raw = highest / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return list(range(0, math.ceil(highest / step) * step + 1, step))


def text_direction(text: str) -> str:
    """``rtl`` if the first strong letter of ``text`` is right to left (Arabic, Hebrew), else ``ltr``."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _width(text: str) -> float:
    return len(text) * FONT * CHAR_WIDTH


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "table"


class _Canvas:
    """SVG elements placed in left-to-right coordinates, mirrored when right to left."""

    def __init__(self, width: float, rtl: bool) -> None:
        self.width = width
        self.rtl = rtl

    def x(self, x: float, width: float = 0) -> float:
        return round(self.width - x - width if self.rtl else x, 1)

    def rect(self, parent: ET.Element, x: float, y: float, width: float, height: float, fill: str) -> None:
        ET.SubElement(parent, "rect", x=f"{self.x(x, width)}", y=f"{round(y, 1)}", width=f"{round(width, 1)}",
                      height=f"{round(height, 1)}", fill=fill)

    def text(self, parent: ET.Element, x: float, y: float, content: str, align: str = "left",
             **extra: str) -> ET.Element:
        """Text on the ``align`` side of ``x`` in the left-to-right layout ("left": the text starts
        at ``x``; "right": it ends there; or "middle"), mirrored when right to left. Each text has
        its own direction, from its first strong letter (like ``dir="auto"``): "2026 Q1" and "<5"
        stay left to right in an Arabic chart, an Arabic label stays right to left in any chart."""
        direction = text_direction(content)
        if align == "middle":
            anchor = "middle"
        else:
            physical_left = (align == "left") != self.rtl
            anchor = "start" if physical_left == (direction == "ltr") else "end"
        element = ET.SubElement(parent, "text", x=f"{self.x(x)}", y=f"{round(y, 1)}", fill=TEXT,
                                **{"font-size": str(FONT), "text-anchor": anchor, "direction": direction},
                                **extra)
        element.text = content
        return element

    def line(self, parent: ET.Element, x1: float, y1: float, x2: float, y2: float, stroke: str) -> None:
        ET.SubElement(parent, "line", x1=f"{self.x(x1)}", y1=f"{round(y1, 1)}", x2=f"{self.x(x2)}",
                      y2=f"{round(y2, 1)}", stroke=stroke)


def _swatch(canvas: _Canvas, parent: ET.Element, uid: str, index: int, x: float, y: float, width: float,
            height: float) -> None:
    """A series' colour with its pattern over it (a legend key or a bar segment)."""
    colour, pattern = series_style(index)
    canvas.rect(parent, x, y, width, height, colour)
    if pattern:
        canvas.rect(parent, x, y, width, height, f"url(#{uid}-pattern-{index % len(PATTERNS)})")


def _bars(table: StatTable) -> list[_Bar]:
    """A bar a column: the positive counts of the series (not the totals) and the symbols hidden."""
    series = [row for row in table.rows if not row.total]
    bars = []
    for column, heading in enumerate(table.columns):
        cells = [row.cells[column] if column < len(row.cells) else None for row in series]
        bars.append(_Bar(heading, [_Segment(index, series[index].label, cell) for index, cell in enumerate(cells)
                                   if isinstance(cell, int) and not isinstance(cell, bool) and cell > 0],
                         [symbol for symbol in (SMALL, HIDDEN) if symbol in cells]))
    return bars


@dataclass(frozen=True)
class _Layout:
    """Where things go, left to right (``_Canvas`` mirrors it): the value axis's title above the
    plot, tick labels left of it, column labels under it, then the legend and the note."""

    ticks: list[int]
    y_title: str
    series: int
    slot: float  # the width given to each bar
    plot_left: float
    plot_top: float
    width: float
    note: list[str]

    @classmethod
    def of(cls, table: StatTable, bars: list[_Bar], series: int) -> "_Layout":
        ticks = nice_ticks(max([sum(segment.value for segment in bar.segments) for bar in bars], default=0))
        y_title = gettext(Y_TITLES.get(table.series, NUMBER))
        slot = max(64.0, max([_width(column) for column in table.columns], default=0) + 16)
        plot_left = 8 + max(_width(f"{tick:,}") for tick in ticks) + 8
        labels = [table.row_heading, *(row.label for row in table.rows if not row.total)]
        width = math.ceil(max(plot_left + slot * max(len(bars), 1) + 16, _width(y_title) + 16,
                              max(_width(label) for label in labels) + 34 + 16, 320))
        note = _wrap(gettext(SUPPRESSED), width - 16) if any(bar.marks for bar in bars) else []
        return cls(ticks, y_title, series, slot, plot_left, LINE * 2, width, note)

    @property
    def plot_bottom(self) -> float:
        return self.plot_top + PLOT_HEIGHT

    @property
    def legend_top(self) -> float:
        return self.plot_bottom + LINE * 2 + 4

    @property
    def note_top(self) -> float:
        return self.legend_top + LINE * (self.series + 1) + 8

    @property
    def height(self) -> int:
        return math.ceil(self.note_top + LINE * len(self.note))

    def y(self, value: float) -> float:
        return self.plot_bottom - value * PLOT_HEIGHT / self.ticks[-1]


def chart_svg(table: StatTable, *, rtl: bool | None = None) -> Markup:
    """The table as an accessible stacked bar chart (inline SVG markup; see the module docstring)."""
    rtl = page_language().rtl if rtl is None else rtl
    uid = f"chart-{_slug(table.id)}"
    series = [row for row in table.rows if not row.total]
    bars = _bars(table)
    layout = _Layout.of(table, bars, len(series))
    canvas = _Canvas(layout.width, rtl)
    svg = ET.Element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {layout.width} {layout.height}",
        "width": str(layout.width), "height": str(layout.height), "class": "app-chart", "role": "img",
        "focusable": "false", "aria-labelledby": f"{uid}-title", "aria-describedby": f"{uid}-desc",
        "direction": "rtl" if rtl else "ltr", "id": uid})
    ET.SubElement(svg, "title", id=f"{uid}-title").text = table.title
    description = [gettext(DESCRIPTION, columns=", ".join(table.columns), heading=table.row_heading,
                           series=", ".join(row.label for row in series))]
    if layout.note:
        description.append(gettext(SUPPRESSED))
    description.append(gettext(WHERE_THE_TABLE_IS))
    ET.SubElement(svg, "desc", id=f"{uid}-desc").text = " ".join(description)

    defs = ET.SubElement(svg, "defs")
    for index, path in enumerate(PATTERNS[:len(series)]):
        if path:
            pattern = ET.SubElement(defs, "pattern", id=f"{uid}-pattern-{index}", width="8", height="8",
                                    patternUnits="userSpaceOnUse")
            ET.SubElement(pattern, "path", d=path, stroke=WHITE, **{"stroke-width": "1.5"})

    right = layout.plot_left + layout.slot * len(bars)
    axis = ET.SubElement(svg, "g", {"class": "app-chart__axis"})
    canvas.text(axis, 8, LINE, layout.y_title)
    for tick in layout.ticks:
        if tick:
            canvas.line(axis, layout.plot_left, layout.y(tick), right, layout.y(tick), GRIDLINE)
        canvas.text(axis, layout.plot_left - 8, layout.y(tick) + FONT / 3, f"{tick:,}", "right")
    for position, bar in enumerate(bars):
        _draw_bar(canvas, ET.SubElement(svg, "g", {"class": "app-chart__bar", "data-column": bar.column}),
                  uid, layout, bar, layout.plot_left + layout.slot * position)
    canvas.line(axis, layout.plot_left, layout.plot_bottom, right, layout.plot_bottom, TEXT)
    canvas.line(axis, layout.plot_left, layout.plot_top, layout.plot_left, layout.plot_bottom, TEXT)

    legend = ET.SubElement(svg, "g", {"class": "app-chart__legend"})
    canvas.text(legend, 8, layout.legend_top + FONT, table.row_heading, **{"font-weight": "bold"})
    for line, index in enumerate(reversed(range(len(series)))):  # the stack's order, top first
        y = layout.legend_top + LINE * (line + 1)
        entry = ET.SubElement(legend, "g", {"data-series": series[index].label})
        _swatch(canvas, entry, uid, index, 8, y + 2, 18, 16)
        canvas.text(entry, 8 + 18 + 8, y + FONT + 1, series[index].label)

    if layout.note:
        note = ET.SubElement(svg, "g", {"class": "app-chart__note"})
        for line, text in enumerate(layout.note):
            canvas.text(note, 8, layout.note_top + LINE * line + FONT, text)
    return Markup(ET.tostring(svg, encoding="unicode"))


def _draw_bar(canvas: _Canvas, group: ET.Element, uid: str, layout: _Layout, bar: _Bar, left: float) -> None:
    """One column: its segments stacked from the axis with white gaps, each with a tooltip, the
    symbols of its suppressed cells above it and its label under the axis."""
    width = layout.slot * 0.6
    bar_left = left + (layout.slot - width) / 2
    base = 0
    for segment in bar.segments:
        top = base + segment.value
        piece = ET.SubElement(group, "g", {"data-series": segment.label})
        ET.SubElement(piece, "title").text = f"{segment.label}, {bar.column}: {segment.value:,}"
        _swatch(canvas, piece, uid, segment.series, bar_left, layout.y(top) + GAP / 2, width,
                max(layout.y(base) - layout.y(top) - GAP, 1))
        base = top
    if bar.marks:
        canvas.text(group, bar_left + width / 2, layout.y(base) - 6, " ".join(bar.marks), "middle")
    canvas.text(group, left + layout.slot / 2, layout.plot_bottom + LINE, bar.column, "middle")


def charts(report: Report, *, rtl: bool | None = None) -> dict[str, Markup]:
    """The chart of each table of ``report`` that asks for one, by table id (for ``_stat_table.html``)."""
    return {table.id: chart_svg(table, rtl=rtl) for table in report.tables if table.chart == STACKED_BAR}


def _wrap(text: str, width: float) -> list[str]:
    """Words into lines of at most ``width`` (estimated) for SVG text, which does not wrap."""
    lines: list[str] = []
    for word in text.split():
        if lines and _width(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines
