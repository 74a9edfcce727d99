"""Small SVG charts drawn on the server: no chart library, no script, nothing from a CDN.

Why ElementTree: it escapes every label and attribute it writes, so a rule id or a site
name can never break out of the SVG; the result is then safe to mark as Markup. Colours
come from CSS classes in app.css (the CSP allows our own stylesheet, not style=).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - we only build and serialise, never parse
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH, HEIGHT = 720, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 16, 40


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    css: str  # class naming the colour in app.css
    kind: str = "line"  # "line" or "bars"


def _svg(title: str, width: int, height: int) -> ET.Element:
    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "class": "chart",
                             "viewBox": f"0 0 {width} {height}", "role": "img",
                             "aria-label": title})
    ET.SubElement(svg, "title").text = title
    return svg


def _text(parent: ET.Element, x: float, y: float, text: str, anchor: str = "start",
          css: str = "chart-label") -> None:
    node = ET.SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}",
                                          "text-anchor": anchor, "class": css})
    node.text = text


def _nice_max(value: float) -> float:
    """A round top for the axis: 1, 2, 5 times a power of ten, at least the value."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def _serialise(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))  # noqa: S704 - escaped by ElementTree


def time_chart(title: str, labels: Sequence[str], series: Sequence[Series],
               label_every: int = 6) -> Markup:
    """Values over time: bars and lines sharing one y axis, x labels every few points."""
    svg = _svg(title, WIDTH, HEIGHT)
    count = max((len(s.values) for s in series), default=0)
    top = _nice_max(max((max(s.values, default=0) for s in series), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(count, 1)

    def y(value: float) -> float:
        return PAD_TOP + plot_h - plot_h * value / top

    # Counts: a middle gridline only where it falls on a whole number.
    for fraction in (0, 0.5, 1) if (top / 2).is_integer() else (0, 1):
        ET.SubElement(svg, "line", {"x1": str(PAD_LEFT), "x2": str(WIDTH - PAD_RIGHT),
                                    "y1": f"{y(top * fraction):.1f}",
                                    "y2": f"{y(top * fraction):.1f}", "class": "chart-grid"})
        _text(svg, PAD_LEFT - 6, y(top * fraction) + 4, f"{top * fraction:g}", "end")
    bar_series = [s for s in series if s.kind == "bars"]
    bar_w = step * 0.8 / max(len(bar_series), 1)
    for index, s in enumerate(bar_series):
        group = ET.SubElement(svg, "g", {"class": s.css})
        for i, value in enumerate(s.values):
            if value <= 0:
                continue
            ET.SubElement(group, "rect", {
                "x": f"{PAD_LEFT + i * step + step * 0.1 + index * bar_w:.1f}",
                "y": f"{y(value):.1f}", "width": f"{bar_w:.1f}",
                "height": f"{y(0) - y(value):.1f}"})
    for s in series:
        if s.kind != "line" or not s.values:
            continue
        points = " ".join(f"{PAD_LEFT + (i + 0.5) * step:.1f},{y(v):.1f}"
                          for i, v in enumerate(s.values))
        ET.SubElement(svg, "polyline", {"points": points, "class": f"{s.css} chart-line",
                                        "fill": "none"})
    for i, label in enumerate(labels):
        if i % label_every == 0:
            _text(svg, PAD_LEFT + (i + 0.5) * step, HEIGHT - PAD_BOTTOM + 16, label, "middle")
    _legend(svg, series, HEIGHT - 8)
    return _serialise(svg)


def bar_chart(title: str, rows: Sequence[tuple[str, Sequence[float]]],
              series: Sequence[Series]) -> Markup:
    """Horizontal stacked bars, one row per label; ``series`` names the stacked parts."""
    row_h, label_w = 24, 170
    height = PAD_TOP + max(len(rows), 1) * row_h + 36
    svg = _svg(title, WIDTH, height)
    top = _nice_max(max((sum(values) for _, values in rows), default=0))
    plot_w = WIDTH - label_w - PAD_RIGHT - 40
    if not rows:
        _text(svg, WIDTH / 2, PAD_TOP + row_h / 2 + 4, "nothing decided in this period",
              "middle")
    for index, (label, values) in enumerate(rows):
        y = PAD_TOP + index * row_h
        _text(svg, label_w - 8, y + row_h / 2 + 4, label, "end")
        x = float(label_w)
        for s, value in zip(series, values, strict=False):
            width = plot_w * value / top
            if width > 0:
                rect = ET.SubElement(svg, "rect", {"x": f"{x:.1f}", "y": f"{y + 3:.1f}",
                                                   "width": f"{width:.1f}",
                                                   "height": str(row_h - 6), "class": s.css})
                ET.SubElement(rect, "title").text = f"{label}: {value:g} {s.name}"
            x += width
        _text(svg, x + 6, y + row_h / 2 + 4, f"{sum(values):g}")
    _legend(svg, series, height - 8)
    return _serialise(svg)


def _legend(svg: ET.Element, series: Sequence[Series], y: float) -> None:
    x = float(PAD_LEFT)
    for s in series:
        ET.SubElement(svg, "rect", {"x": f"{x:.1f}", "y": f"{y - 9:.1f}", "width": "10",
                                    "height": "10", "class": s.css})
        _text(svg, x + 14, y, s.name)
        x += 24 + 7 * len(s.name)
