"""SVG charts of the programme's figures, drawn with pygal and cleaned for an <img> under a strict CSP.

Every chart is a standalone SVG document with no script (pygal writes a configuration <script> even without its
JavaScript; it is removed), no comment (pygal's credit links) and no link outside the document: its only URL is
the SVG namespace. The labels are passed in by the caller, already in the reader's language; the figures come as
plain lists, so a chart shows exactly what the table beside it lists.
"""

import sys
from xml.etree import ElementTree

import pygal
from pygal.style import Style

# pygal appends an old-style import hook (find_module, no find_spec) for its map plugins, which this project does
# not use; every later import then warns (ImportWarning), an error under the test settings. It is taken out.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
#: Fonts with the Vietnamese letters, on most systems; the chart names no web font.
FONTS = "'DejaVu Sans', 'Noto Sans', Arial, Helvetica, sans-serif"
#: Colours with enough contrast on white (WCAG AA for the large text of labels), one per series.
COLOURS = ("#1d5e3a", "#b3541e", "#2f4b8f", "#8a2c62", "#5c5c00", "#006d77", "#6b4226")

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f1f1f",
    foreground_strong="#111111",
    foreground_subtle="#555555",
    colors=COLOURS,
    font_family=FONTS,
    label_font_family=FONTS,
    major_label_font_family=FONTS,
    value_font_family=FONTS,
    value_label_font_family=FONTS,
    title_font_family=FONTS,
    legend_font_family=FONTS,
    tooltip_font_family=FONTS,
    title_font_size=20,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=12,
    value_label_font_size=12,
)


def _config(title: str, **options) -> dict:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "css": ["file://style.css", "file://graph.css"],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 420,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "print_values": False,
        "show_minor_x_labels": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "explicit_size": False,
        **options,
    }


def _clean(chart, title: str) -> bytes:
    """The chart as SVG bytes with no script, no comment and a <title> naming it (for assistive technology)."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag.endswith("script") or not isinstance(child.tag, str):  # scripts and comments
                parent.remove(child)
    # pygal's tags carry no namespace: it writes xmlns as a plain attribute of the root.
    heading = ElementTree.Element("title")
    heading.text = title
    root.insert(0, heading)
    root.set("role", "img")
    text = ElementTree.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")


def bar_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    horizontal: bool = False,
    stacked: bool = False,
    y_title: str = "",
) -> bytes:
    """Bars per label, one colour per series (e.g. certified and on sale)."""
    kind = {
        (False, False): pygal.Bar,
        (True, False): pygal.HorizontalBar,
        (False, True): pygal.StackedBar,
        (True, True): pygal.HorizontalStackedBar,
    }[(horizontal, stacked)]
    height = max(420, 60 + 28 * len(labels)) if horizontal else 420
    chart = kind(
        **_config(
            title, height=height, y_title=y_title, x_label_rotation=0 if horizontal else (30 if len(labels) > 8 else 0)
        )
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, [int(v) for v in values])
    return _clean(chart, title)


def line_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    targets: list[tuple[str, int]] = (),
    y_title: str = "",
) -> bytes:
    """Lines over time (quarters, weeks, months); each target is drawn as a flat dashed line at its value."""
    chart = pygal.Line(
        **_config(title, y_title=y_title, x_label_rotation=30 if len(labels) > 8 else 0, show_dots=True, fill=False)
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, [int(v) for v in values])
    for name, value in targets:
        chart.add(name, [int(value)] * len(labels), show_dots=False, stroke_style={"dasharray": "6, 4", "width": 2})
    return _clean(chart, title)
