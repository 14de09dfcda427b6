"""Charts for the monthly report as inline SVG: no script, no network, sharp in print (docs/finance.md).

Horizontal bars, one group per category (a provider, a team), one bar per series (this month, last month), each
labelled with its amount, so the chart reads without hovering and prints in grey as well as in colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from pipelines.finance.money import money

ROW, BAR, GAP, LABEL_W, VALUE_W, WIDTH = 34, 12, 3, 170, 110, 720
COLOURS = ("#3b6ea8", "#b7c7dc")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def bars(title: str, categories: Sequence[str], series: Sequence[Series], currency: str) -> str:
    """A titled bar chart; negative amounts (credits) draw left of the axis."""
    values = [v or 0.0 for s in series for v in s.values]
    top = max([abs(v) for v in values] + [1e-9])
    has_negative = any(v < 0 for v in values)
    plot_w = WIDTH - LABEL_W - VALUE_W
    zero = LABEL_W + (plot_w / 2 if has_negative else 0)
    scale = (plot_w / 2 if has_negative else plot_w) / top
    legend_h = 22
    height = legend_h + ROW * len(categories) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, s in enumerate(series):
        x = LABEL_W + i * 150
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[i % 2]}"/>'
                     f'<text x="{x + 17}" y="14" class="legend">{escape(s.label)}</text>')
    for row, name in enumerate(categories):
        y0 = legend_h + row * ROW
        parts.append(f'<text x="{LABEL_W - 8}" y="{y0 + ROW / 2 + 4:.1f}" text-anchor="end" class="cat">'
                     f'{escape(name)}</text>')
        for i, s in enumerate(series):
            value = s.values[row]
            y = y0 + 4 + i * (BAR + GAP)
            width = abs(value or 0.0) * scale
            x = zero - width if (value or 0.0) < 0 else zero
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{max(width, 0.5):.1f}" height="{BAR}" '
                         f'fill="{COLOURS[i % 2]}"/>')
            parts.append(f'<text x="{WIDTH - 4}" y="{y + BAR - 2}" text-anchor="end" class="val">'
                         f'{escape(money(value, currency))}</text>')
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{legend_h}" y2="{height - 4}" class="axis"/></svg>')
    return "".join(parts)
